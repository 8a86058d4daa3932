//! `y = bias + A x` for a small dense `A` given column by column (the recurrent
//! product of every step).
//!
//! The kernel takes `A^T` in row-major order, so column `k` of `A` is contiguous,
//! and accumulates `y += x[k] * A[:, k]` over a block of rows held in registers.
//! No horizontal reductions; one load per fused multiply-add.

use super::{fmadd, isa, usable, Isa};
use crate::Real;

/// Rows `r0..r0 + B` of the product, accumulated in a register block of `B` lanes.
#[inline(always)]
fn block<F: Real, const FMA: bool, const B: usize>(
    at: &[F],
    rows: usize,
    r0: usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
) {
    let mut acc = [F::ZERO; B];
    acc.copy_from_slice(&bias[r0..r0 + B]);
    for (k, xk) in x.iter().enumerate() {
        let col = &at[k * rows + r0..k * rows + r0 + B];
        for j in 0..B {
            acc[j] = fmadd::<F, FMA>(col[j], *xk, acc[j]);
        }
    }
    y[r0..r0 + B].copy_from_slice(&acc);
}

/// The kernel body, compiled once per instruction set: blocks of `B` rows, then
/// blocks of 8, then single rows.
#[inline(always)]
fn body<F: Real, const FMA: bool, const B: usize>(at: &[F], x: &[F], bias: &[F], y: &mut [F]) {
    let rows = y.len();
    let mut r0 = 0;
    while r0 + B <= rows {
        block::<F, FMA, B>(at, rows, r0, x, bias, y);
        r0 += B;
    }
    while r0 + 8 <= rows {
        block::<F, FMA, 8>(at, rows, r0, x, bias, y);
        r0 += 8;
    }
    while r0 < rows {
        block::<F, FMA, 1>(at, rows, r0, x, bias, y);
        r0 += 1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn body_avx2<F: Real>(at: &[F], x: &[F], bias: &[F], y: &mut [F]) {
    // Eight 256-bit accumulators.
    if std::mem::size_of::<F>() == 4 {
        body::<F, true, 64>(at, x, bias, y)
    } else {
        body::<F, true, 32>(at, x, bias, y)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn body_avx512<F: Real>(at: &[F], x: &[F], bias: &[F], y: &mut [F]) {
    // Eight 512-bit accumulators.
    if std::mem::size_of::<F>() == 4 {
        body::<F, true, 128>(at, x, bias, y)
    } else {
        body::<F, true, 64>(at, x, bias, y)
    }
}

/// `y[r] = bias[r] + sum_k A[r, k] x[k]` where `at` is `A^T` row-major
/// (`x.len()` rows of `y.len()` values each).
///
/// Uses the widest instruction set detected at run time; agrees with
/// [`super::reference::gemv`] on `A` up to rounding.
#[inline]
pub fn gemv_t<F: Real>(at: &[F], x: &[F], bias: &[F], y: &mut [F]) {
    gemv_t_at(isa(), at, x, bias, y)
}

/// [`gemv_t`] compiled for a chosen instruction-set level (falls back to the generic
/// build when this CPU lacks it); for tests and comparisons.
#[inline]
pub fn gemv_t_at<F: Real>(level: Isa, at: &[F], x: &[F], bias: &[F], y: &mut [F]) {
    debug_assert!(at.len() >= x.len() * y.len() && bias.len() >= y.len());
    match usable(level) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `usable` returns Avx512 only when it is the detected level or
        // `is_x86_feature_detected!` found avx512f and fma on this CPU.
        Isa::Avx512 => unsafe { body_avx512(at, x, bias, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `usable` returns Avx2Fma only when avx2 and fma were detected at run time.
        Isa::Avx2Fma => unsafe { body_avx2(at, x, bias, y) },
        _ => {
            if std::mem::size_of::<F>() == 4 {
                body::<F, false, 32>(at, x, bias, y)
            } else {
                body::<F, false, 16>(at, x, bias, y)
            }
        }
    }
}
