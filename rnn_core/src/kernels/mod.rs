//! Hot small kernels: matrix-vector products and activations.
//!
//! Every kernel is written once as plain Rust over fixed-width lane arrays and
//! compiled several times: for the baseline target and, on x86-64, inside
//! `#[target_feature]` functions for AVX2+FMA and AVX-512. The instruction set
//! is detected once at run time ([`isa`]), so one binary runs on any x86-64 or
//! aarch64 CPU and uses the widest registers present. [`reference`] holds the
//! plain loops every fast path is tested against.

mod act;
mod gemv;
pub mod reference;

pub use act::{sigmoid_inplace, sigmoid_inplace_at, tanh_inplace, tanh_inplace_at};
pub use gemv::{block_rows, gemv, gemv_at, Packed};

/// Defines a kernel whose plain-Rust body is compiled for the baseline target and
/// inside `#[target_feature]` functions for AVX2+FMA and AVX-512, and dispatched on
/// the level detected at run time (the body's loops auto-vectorise to that width).
macro_rules! simd_kernel {
    ($(#[$doc:meta])* $vis:vis fn $name:ident, $name_at:ident<F>($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[inline]
        $vis fn $name<F: crate::Real>($($arg: $ty),*) $(-> $ret)? {
            $name_at(isa(), $($arg),*)
        }

        /// The same at a chosen level (a level this CPU lacks runs the generic code).
        #[inline]
        $vis fn $name_at<F: crate::Real>(level: Isa, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<F: crate::Real, const FMA: bool>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2<F: crate::Real>($($arg: $ty),*) $(-> $ret)? {
                body::<F, true>($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn avx512<F: crate::Real>($($arg: $ty),*) $(-> $ret)? {
                body::<F, true>($($arg),*)
            }
            match usable(level) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `usable` gives Avx512 only when avx512f and fma were detected at run time.
                Isa::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `usable` gives Avx2Fma only when avx2 and fma were detected at run time.
                Isa::Avx2Fma => unsafe { avx2($($arg),*) },
                _ => body::<F, false>($($arg),*),
            }
        }
    };
}

simd_kernel! {
    /// `y += alpha x`.
    pub fn axpy, axpy_at<F>(alpha: F, x: &[F], y: &mut [F]) {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi = fmadd::<F, FMA>(alpha, *xi, *yi);
        }
    }
}

simd_kernel! {
    /// `dst = alpha src` (the renormalisation of the reverse pass).
    pub fn scale_into, scale_into_at<F>(dst: &mut [F], src: &[F], alpha: F) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = *v * alpha;
        }
    }
}

simd_kernel! {
    /// `dst = a * b` elementwise.
    pub fn mul_into, mul_into_at<F>(dst: &mut [F], a: &[F], b: &[F]) {
        for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
            *d = *x * *y;
        }
    }
}

simd_kernel! {
    /// `d = 1 - y^2`: the slope of tanh from its output.
    pub fn tanh_slope, tanh_slope_at<F>(d: &mut [F], y: &[F]) {
        for (di, yi) in d.iter_mut().zip(y) {
            *di = F::ONE - *yi * *yi;
        }
    }
}

simd_kernel! {
    /// Whether every entry is finite (`0 x` is 0 for finite x and NaN otherwise;
    /// the partial sums stay 0 exactly unless one of them meets a NaN).
    pub fn all_finite, all_finite_at<F>(a: &[F]) -> bool {
        let mut acc = [F::ZERO; 16];
        let chunks = a.chunks_exact(16);
        let rem = chunks.remainder();
        for c in chunks {
            for j in 0..16 {
                acc[j] += c[j] * F::ZERO;
            }
        }
        acc.iter().chain(rem).all(|v| v.is_finite())
    }
}

simd_kernel! {
    /// Sum of squares accumulated in f64 (sixteen partial sums, so it vectorises).
    pub fn sumsq_f64, sumsq_f64_at<F>(a: &[F]) -> f64 {
        let mut acc = [0.0f64; 16];
        let chunks = a.chunks_exact(16);
        let rem = chunks.remainder();
        for c in chunks {
            for j in 0..16 {
                let v = c[j].to_f64();
                acc[j] = fmadd::<f64, FMA>(v, v, acc[j]);
            }
        }
        let mut s = 0.0;
        for v in rem {
            let v = v.to_f64();
            s += v * v;
        }
        for k in [8, 4, 2, 1] {
            for j in 0..k {
                acc[j] += acc[j + k];
            }
        }
        acc[0] + s
    }
}

/// Ask the cache to start loading `a` (one hint per 64-byte line). The reverse pass
/// walks its stored records backwards, which the hardware prefetchers follow poorly.
#[inline]
pub fn prefetch<F>(a: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = a.as_ptr() as *const i8;
        let bytes = std::mem::size_of_val(a);
        for off in (0..bytes).step_by(64) {
            // SAFETY: `p + off` lies inside the slice `a` (off < its byte length), and a
            // prefetch is only a hint: it never faults, writes or changes program state.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = a;
}

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

fn detect() -> Isa {
    // LONGDEP_SIMD=generic|avx2 caps the level (for tests and comparisons).
    let cap = std::env::var("LONGDEP_SIMD").unwrap_or_default();
    #[cfg(target_arch = "x86_64")]
    {
        let avx512 = is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma");
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        match cap.as_str() {
            "generic" => Isa::Generic,
            "avx2" if avx2 => Isa::Avx2Fma,
            _ if avx512 && cap != "avx2" => Isa::Avx512,
            _ if avx2 => Isa::Avx2Fma,
            _ => Isa::Generic,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = cap;
        Isa::Generic
    }
}

/// The instruction-set level detected on this CPU (cached after the first call).
pub fn isa() -> Isa {
    static LEVEL: OnceLock<Isa> = OnceLock::new();
    *LEVEL.get_or_init(detect)
}

/// Whether this CPU can run kernels compiled for `level`.
pub fn supported(level: Isa) -> bool {
    match level {
        Isa::Generic => true,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma"),
        #[cfg(not(target_arch = "x86_64"))]
        _ => false,
    }
}

/// `level` if this CPU supports it, else [`Isa::Generic`]: the dispatch never runs
/// instructions the CPU lacks, whatever the caller asks for.
#[inline]
pub(crate) fn usable(level: Isa) -> Isa {
    if level == Isa::Generic || level == isa() || supported(level) {
        level
    } else {
        Isa::Generic
    }
}

/// `a * b + c`, fused when the caller was compiled with FMA.
#[inline(always)]
pub(crate) fn fmadd<F: crate::Real, const FMA: bool>(a: F, b: F, c: F) -> F {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Euclidean norm in f64 that neither overflows nor underflows: the plain sum of
/// squares when it is comfortably inside the range, else a rescaled one.
pub fn norm_f64<F: crate::Real>(a: &[F]) -> f64 {
    let n2 = sumsq_f64(a);
    if n2 > 1e-290 && n2 < 1e290 {
        return n2.sqrt();
    }
    let m = a.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let s = a.iter().map(|v| (v.to_f64() / m).powi(2)).sum::<f64>();
    m * s.sqrt()
}

/// Natural log of [`norm_f64`] (`-inf` for a zero vector).
pub fn ln_norm<F: crate::Real>(a: &[F]) -> f64 {
    norm_f64(a).ln()
}

/// Seconds per dispatched `rows x cols` matrix-vector product, best of five runs of
/// `reps` chained products (each input depends on the last output): the machine's
/// bound that the benchmark compares whole passes with.
pub fn time_gemv<F: crate::Real>(rows: usize, cols: usize, reps: usize) -> f64 {
    let a: Vec<F> = (0..rows * cols)
        .map(|i| F::from_f64(((i * 7919) % 1000) as f64 / 1000.0 - 0.5))
        .collect();
    let a = Packed::new(&a, rows, cols);
    let bias = vec![F::ZERO; rows];
    let n = rows.max(cols);
    let mut x = vec![F::from_f64(0.01); n];
    let mut y = vec![F::ZERO; n];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t0 = std::time::Instant::now();
        for _ in 0..reps {
            gemv(&a, &x[..cols], &bias, &mut y[..rows]);
            for (xi, yi) in x.iter_mut().zip(&y) {
                *xi = *yi * F::from_f64(1e-3);
            }
        }
        best = best.min(t0.elapsed().as_secs_f64() / reps.max(1) as f64);
    }
    std::hint::black_box(&x);
    best
}
