//! `y = bias + W x` for a small row-major `W` (the recurrent product of every step).

use super::{fmadd, isa, Isa};
use crate::Real;

/// Pairwise sum of the lanes (keeps the rounding error O(log L)).
#[inline(always)]
fn hsum<F: Real, const L: usize>(mut a: [F; L]) -> F {
    let mut n = L;
    while n > 1 {
        n /= 2;
        for j in 0..n {
            a[j] += a[j + n];
        }
    }
    a[0]
}

/// One row: `bias + w . x`, lanes of width `L`.
#[inline(always)]
fn dot1<F: Real, const FMA: bool, const L: usize>(w: &[F], x: &[F], bias: F) -> F {
    let mut acc = [F::ZERO; L];
    let wc = w.chunks_exact(L);
    let xc = x.chunks_exact(L);
    let (wr, xr) = (wc.remainder(), xc.remainder());
    for (a, b) in wc.zip(xc) {
        for j in 0..L {
            acc[j] = fmadd::<F, FMA>(a[j], b[j], acc[j]);
        }
    }
    let mut s = hsum(acc);
    for (a, b) in wr.iter().zip(xr) {
        s = fmadd::<F, FMA>(*a, *b, s);
    }
    s + bias
}

/// The kernel body, compiled once per instruction set. Four rows share every
/// load of `x`, which keeps eight independent FMA chains in flight.
#[inline(always)]
fn body<F: Real, const FMA: bool, const L: usize>(
    w: &[F],
    cols: usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
) {
    let rows = y.len();
    let x = &x[..cols];
    let mut r = 0;
    while r + 4 <= rows {
        let w0 = &w[r * cols..(r + 1) * cols];
        let w1 = &w[(r + 1) * cols..(r + 2) * cols];
        let w2 = &w[(r + 2) * cols..(r + 3) * cols];
        let w3 = &w[(r + 3) * cols..(r + 4) * cols];
        let mut a0 = [F::ZERO; L];
        let mut a1 = [F::ZERO; L];
        let mut a2 = [F::ZERO; L];
        let mut a3 = [F::ZERO; L];
        let it = w0
            .chunks_exact(L)
            .zip(w1.chunks_exact(L))
            .zip(w2.chunks_exact(L))
            .zip(w3.chunks_exact(L))
            .zip(x.chunks_exact(L));
        for ((((c0, c1), c2), c3), xc) in it {
            for j in 0..L {
                a0[j] = fmadd::<F, FMA>(c0[j], xc[j], a0[j]);
                a1[j] = fmadd::<F, FMA>(c1[j], xc[j], a1[j]);
                a2[j] = fmadd::<F, FMA>(c2[j], xc[j], a2[j]);
                a3[j] = fmadd::<F, FMA>(c3[j], xc[j], a3[j]);
            }
        }
        let mut s = [hsum(a0), hsum(a1), hsum(a2), hsum(a3)];
        let full = cols / L * L;
        for k in full..cols {
            s[0] = fmadd::<F, FMA>(w0[k], x[k], s[0]);
            s[1] = fmadd::<F, FMA>(w1[k], x[k], s[1]);
            s[2] = fmadd::<F, FMA>(w2[k], x[k], s[2]);
            s[3] = fmadd::<F, FMA>(w3[k], x[k], s[3]);
        }
        for q in 0..4 {
            y[r + q] = s[q] + bias[r + q];
        }
        r += 4;
    }
    while r < rows {
        y[r] = dot1::<F, FMA, L>(&w[r * cols..(r + 1) * cols], x, bias[r]);
        r += 1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn body_avx2<F: Real>(w: &[F], cols: usize, x: &[F], bias: &[F], y: &mut [F]) {
    if std::mem::size_of::<F>() == 4 {
        body::<F, true, 16>(w, cols, x, bias, y)
    } else {
        body::<F, true, 8>(w, cols, x, bias, y)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn body_avx512<F: Real>(w: &[F], cols: usize, x: &[F], bias: &[F], y: &mut [F]) {
    if std::mem::size_of::<F>() == 4 {
        body::<F, true, 32>(w, cols, x, bias, y)
    } else {
        body::<F, true, 16>(w, cols, x, bias, y)
    }
}

/// `y[r] = bias[r] + sum_k W[r, k] x[k]` for row-major `W` of shape `(y.len(), cols)`.
///
/// Uses the widest instruction set detected at run time; agrees with
/// [`super::reference::gemv`] up to summation order.
#[inline]
pub fn gemv<F: Real>(w: &[F], cols: usize, x: &[F], bias: &[F], y: &mut [F]) {
    debug_assert!(w.len() >= y.len() * cols && x.len() >= cols && bias.len() >= y.len());
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `isa()` returns Avx512 only when `is_x86_feature_detected!` found
        // avx512f and fma (and avx2 is implied by avx512f) on this CPU.
        Isa::Avx512 => unsafe { body_avx512(w, cols, x, bias, y) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `isa()` returns Avx2Fma only when avx2 and fma were detected at run time.
        Isa::Avx2Fma => unsafe { body_avx2(w, cols, x, bias, y) },
        _ => {
            if std::mem::size_of::<F>() == 4 {
                body::<F, false, 8>(w, cols, x, bias, y)
            } else {
                body::<F, false, 4>(w, cols, x, bias, y)
            }
        }
    }
}
