//! The one SIMD dispatch mechanism every kernel uses.
//!
//! A kernel is written once, inside [`simd_kernel!`], as a plain-Rust body generic
//! over a [`Level`] marker type ([`Generic`], [`Avx2`], [`Avx512`]). The macro
//! compiles that body for the baseline target and, on x86-64, inside
//! `#[target_feature]` functions for AVX2+FMA and AVX-512F (the body's loops
//! auto-vectorise to that width), and emits two functions: `name`, which runs the
//! level detected once at run time ([`isa`], cached; capped by `LONGDEP_SIMD`), and
//! `name_at`, which runs a chosen level (the generic build when this CPU lacks it).
//!
//! A body reads its level from the marker: [`Level::FMA`] (through [`fmadd`]) for
//! whether multiply-adds fuse, [`Level::ISA`] for register widths. Both are
//! constants, so every branch on them folds away in each compiled copy.

use std::sync::OnceLock;

/// The instruction-set level the fast paths use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Whatever the compilation target guarantees (SSE2 on x86-64, NEON on aarch64).
    Generic,
    /// AVX2 with fused multiply-add.
    Avx2Fma,
    /// AVX-512F (with FMA).
    Avx512,
}

impl Isa {
    /// Lower-case name, as reported to users and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Generic => "generic",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Avx512 => "avx512f",
        }
    }
}

/// Whether this CPU can run kernels compiled for `level`.
///
/// These checks are exactly the `#[target_feature(enable = ...)]` lists of the
/// copies `simd_kernel!` emits: "avx2,fma" for [`Isa::Avx2Fma`] and
/// "avx512f,avx2,fma" for [`Isa::Avx512`].
pub fn supported(level: Isa) -> bool {
    match level {
        Isa::Generic => true,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        _ => false,
    }
}

/// The widest supported level, capped by `LONGDEP_SIMD=generic|avx2` (for tests and
/// comparisons; any other value, or none, leaves it uncapped).
fn detect() -> Isa {
    let cap = std::env::var("LONGDEP_SIMD").unwrap_or_default();
    let (avx512, avx2) = (supported(Isa::Avx512), supported(Isa::Avx2Fma));
    match cap.as_str() {
        "generic" => Isa::Generic,
        "avx2" if avx2 => Isa::Avx2Fma,
        _ if avx512 && cap != "avx2" => Isa::Avx512,
        _ if avx2 => Isa::Avx2Fma,
        _ => Isa::Generic,
    }
}

/// The instruction-set level detected on this CPU (cached after the first call).
pub fn isa() -> Isa {
    static LEVEL: OnceLock<Isa> = OnceLock::new();
    *LEVEL.get_or_init(detect)
}

/// `level` if this CPU supports it, else [`Isa::Generic`]: the dispatch never runs
/// instructions the CPU lacks, whatever the caller asks for. (The detected level
/// [`isa`] passed [`supported`] when it was detected.)
#[inline]
pub(crate) fn usable(level: Isa) -> Isa {
    if level == Isa::Generic || level == isa() || supported(level) {
        level
    } else {
        Isa::Generic
    }
}

/// A level a kernel body is compiled for, as a marker type.
pub(crate) trait Level {
    /// The level this marker stands for.
    const ISA: Isa;
    /// Whether the copy for this level may fuse multiply-adds (it was compiled with FMA).
    const FMA: bool;
}

/// The baseline build: no FMA, SSE2/NEON-wide registers.
pub(crate) struct Generic;

/// The AVX2+FMA build.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2;

/// The AVX-512F build.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx512;

impl Level for Generic {
    const ISA: Isa = Isa::Generic;
    const FMA: bool = false;
}

#[cfg(target_arch = "x86_64")]
impl Level for Avx2 {
    const ISA: Isa = Isa::Avx2Fma;
    const FMA: bool = true;
}

#[cfg(target_arch = "x86_64")]
impl Level for Avx512 {
    const ISA: Isa = Isa::Avx512;
    const FMA: bool = true;
}

/// `a * b + c`, fused when the level was compiled with FMA.
#[inline(always)]
pub(crate) fn fmadd<F: crate::Real, L: Level>(a: F, b: F, c: F) -> F {
    if L::FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Defines a kernel from one plain-Rust body generic over `F: Real` and a level
/// `L: Level`, as two functions:
///
/// * `name(args)`: runs the level detected at run time ([`isa`]);
/// * `name_at(level, args)`: runs `level`, or the generic build when this CPU
///   lacks it ([`usable`]).
///
/// ```text
/// simd_kernel! {
///     /// `y += alpha x`.
///     pub fn axpy, axpy_at<F, L>(alpha: F, x: &[F], y: &mut [F]) {
///         for (yi, xi) in y.iter_mut().zip(x) {
///             *yi = fmadd::<F, L>(alpha, *xi, *yi);
///         }
///     }
/// }
/// ```
macro_rules! simd_kernel {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident, $name_at:ident<F, L>($($arg:ident : $ty:ty),* $(,)?)
            $(-> $ret:ty)? $body:block
    ) => {
        $(#[$doc])*
        #[inline]
        $vis fn $name<F: $crate::Real>($($arg: $ty),*) $(-> $ret)? {
            $name_at($crate::kernels::isa(), $($arg),*)
        }

        #[doc = concat!(
            "[`", stringify!($name), "`] compiled for a chosen instruction-set level ",
            "(the generic build when this CPU lacks it); for tests and comparisons."
        )]
        #[inline]
        $vis fn $name_at<F: $crate::Real>(
            level: $crate::kernels::Isa,
            $($arg: $ty),*
        ) $(-> $ret)? {
            use $crate::kernels::dispatch as level_;
            #[inline(always)]
            fn body<F: $crate::Real, L: level_::Level>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2<F: $crate::Real>($($arg: $ty),*) $(-> $ret)? {
                body::<F, level_::Avx2>($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn avx512<F: $crate::Real>($($arg: $ty),*) $(-> $ret)? {
                body::<F, level_::Avx512>($($arg),*)
            }
            match level_::usable(level) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `usable` returns Avx512 only when `supported(Avx512)` found
                // avx512f, avx2 and fma at run time (now, or when `isa()` detected it),
                // exactly the features `avx512` is compiled with.
                $crate::kernels::Isa::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `usable` returns Avx2Fma only when `supported(Avx2Fma)` found
                // avx2 and fma at run time (now, or when `isa()` detected it), exactly
                // the features `avx2` is compiled with.
                $crate::kernels::Isa::Avx2Fma => unsafe { avx2($($arg),*) },
                _ => body::<F, level_::Generic>($($arg),*),
            }
        }
    };
}
