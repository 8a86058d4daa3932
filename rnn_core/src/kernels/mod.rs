//! Hot small kernels: matrix-vector products and activations.
//!
//! Every kernel is written once as plain Rust over fixed-width lane arrays, generic
//! over an instruction-set level, and compiled several times by the one dispatch
//! macro (`simd_kernel!`, in `dispatch.rs`): for the baseline target and, on
//! x86-64, inside `#[target_feature]` functions for AVX2+FMA and AVX-512. The
//! instruction set is detected once at run time ([`isa`]), so one binary runs on
//! any x86-64 or aarch64 CPU and uses the widest registers present; each kernel
//! `name` has a `name_at` twin that runs a chosen level. [`reference`] holds the
//! plain loops every fast path is tested against.

#[macro_use]
mod dispatch;
mod act;
mod gemv;
pub mod reference;

pub use act::{
    exp_nonpos_inplace, exp_nonpos_inplace_at, expm1_nonpos_inplace, expm1_nonpos_inplace_at,
    sigmoid_inplace, sigmoid_inplace_at, tanh_inplace, tanh_inplace_at,
};
pub use dispatch::{isa, supported, Isa};
pub use gemv::{block_rows, gemm, gemm_at, gemv, gemv_at, Lanes, Packed};

use dispatch::fmadd;

simd_kernel! {
    /// `y += alpha x`.
    pub fn axpy, axpy_at<F, L>(alpha: F, x: &[F], y: &mut [F]) {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi = fmadd::<F, L>(alpha, *xi, *yi);
        }
    }
}

simd_kernel! {
    /// `dst = alpha src` (the renormalisation of the reverse pass).
    pub fn scale_into, scale_into_at<F, L>(dst: &mut [F], src: &[F], alpha: F) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = *v * alpha;
        }
    }
}

simd_kernel! {
    /// `dst = a * b` elementwise.
    pub fn mul_into, mul_into_at<F, L>(dst: &mut [F], a: &[F], b: &[F]) {
        for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
            *d = *x * *y;
        }
    }
}

simd_kernel! {
    /// `d = 1 - y^2`: the slope of tanh from its output.
    pub fn tanh_slope, tanh_slope_at<F, L>(d: &mut [F], y: &[F]) {
        for (di, yi) in d.iter_mut().zip(y) {
            *di = F::ONE - *yi * *yi;
        }
    }
}

simd_kernel! {
    /// Whether every entry is finite (`0 x` is 0 for finite x and NaN otherwise;
    /// the partial sums stay 0 exactly unless one of them meets a NaN).
    pub fn all_finite, all_finite_at<F, L>(a: &[F]) -> bool {
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

/// `v`, or 0 when `v` is subnormal (flush to zero).
#[inline(always)]
fn flushed<F: crate::Real>(v: F) -> F {
    if v.abs() < F::MIN_POSITIVE {
        F::ZERO
    } else {
        v
    }
}

simd_kernel! {
    /// Flush the subnormal entries of `a` to zero and tell whether every entry is
    /// finite (the state check of every step; see [`crate::seq::check_state`]).
    pub fn settle, settle_at<F, L>(a: &mut [F]) -> bool {
        let mut acc = [F::ZERO; 16];
        let mut chunks = a.chunks_exact_mut(16);
        for c in &mut chunks {
            for j in 0..16 {
                let v = flushed(c[j]);
                c[j] = v;
                acc[j] += v * F::ZERO;
            }
        }
        let rem = chunks.into_remainder();
        for v in rem.iter_mut() {
            *v = flushed(*v);
        }
        acc.iter().chain(rem.iter()).all(|v| v.is_finite())
    }
}

simd_kernel! {
    /// Whether any entry is subnormal (nonzero and below the smallest normal number).
    pub fn any_subnormal, any_subnormal_at<F, L>(a: &[F]) -> bool {
        let mut acc = [false; 16];
        let chunks = a.chunks_exact(16);
        let rem = chunks.remainder();
        for c in chunks {
            for j in 0..16 {
                acc[j] |= c[j] != F::ZERO && c[j].abs() < F::MIN_POSITIVE;
            }
        }
        acc.iter().any(|b| *b) || rem.iter().any(|v| *v != F::ZERO && v.abs() < F::MIN_POSITIVE)
    }
}

simd_kernel! {
    /// Sum of squares accumulated in f64 (sixteen partial sums, so it vectorises).
    pub fn sumsq_f64, sumsq_f64_at<F, L>(a: &[F]) -> f64 {
        let mut acc = [0.0f64; 16];
        let chunks = a.chunks_exact(16);
        let rem = chunks.remainder();
        for c in chunks {
            for j in 0..16 {
                let v = c[j].to_f64();
                acc[j] = fmadd::<f64, L>(v, v, acc[j]);
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
