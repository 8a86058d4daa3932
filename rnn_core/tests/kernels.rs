//! Every SIMD fast path against the plain reference loop, on awkward sizes and
#![allow(clippy::needless_range_loop)]
//! unaligned slices.

mod common;

use common::Rng;
use rnn_core::kernels::{
    all_finite_at, axpy_at, block_rows, gemv_at, mul_into_at, reference, scale_into_at,
    sigmoid_inplace_at, sumsq_f64_at, supported, tanh_inplace_at, tanh_slope_at, Isa, Packed,
};

const LEVELS: [Isa; 3] = [Isa::Generic, Isa::Avx2Fma, Isa::Avx512];

// 100 and 200 leave panels of 64 + 32 + 4 and 64 + 8 rows below a 128-row block.
const SIZES: [usize; 10] = [1, 3, 7, 8, 16, 33, 100, 129, 200, 257];

fn check_gemv<F: rnn_core::Real>(tol: f64) {
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        check_gemv_at::<F>(level, tol);
    }
}

fn check_gemv_at<F: rnn_core::Real>(level: Isa, tol: f64) {
    let mut rng = Rng::new(1);
    for &rows in &SIZES {
        for &cols in &SIZES {
            for offset in [0usize, 1, 3] {
                let w: Vec<F> = rng
                    .vec(rows * cols + offset, 1.0)
                    .into_iter()
                    .map(F::from_f64)
                    .collect();
                let x: Vec<F> = rng
                    .vec(cols + offset, 1.0)
                    .into_iter()
                    .map(F::from_f64)
                    .collect();
                let b: Vec<F> = rng
                    .vec(rows + offset, 1.0)
                    .into_iter()
                    .map(F::from_f64)
                    .collect();
                let (w, x, b) = (&w[offset..], &x[offset..], &b[offset..]);
                let mut fast = vec![F::ZERO; rows + offset];
                let mut slow = vec![F::ZERO; rows];
                // The level's own panel height and an awkward one.
                for block in [block_rows(level, std::mem::size_of::<F>()), 24] {
                    let p = Packed::with_block(w, rows, cols, block);
                    gemv_at(level, &p, x, b, &mut fast[offset..]);
                }
                reference::gemv(w, cols, x, b, &mut slow);
                for r in 0..rows {
                    // Bound by the sum of |terms| (summation order differs).
                    let mag: f64 = b[r].to_f64().abs()
                        + (0..cols)
                            .map(|k| (w[r * cols + k] * x[k]).to_f64().abs())
                            .sum::<f64>();
                    let d = (fast[offset + r].to_f64() - slow[r].to_f64()).abs();
                    assert!(
                        d <= tol * mag,
                        "{} {level:?} rows={rows} cols={cols} off={offset} r={r}: {d}",
                        F::NAME
                    );
                }
            }
        }
    }
}

#[test]
fn gemv_matches_reference_f32() {
    check_gemv::<f32>(1e-5);
}

#[test]
fn gemv_matches_reference_f64() {
    check_gemv::<f64>(1e-13);
}

#[test]
fn activations_match_reference_on_odd_lengths() {
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        activations_at(level);
    }
}

fn activations_at(level: Isa) {
    let mut rng = Rng::new(2);
    for &n in &SIZES {
        let a = rng.vec(n, 12.0);
        let mut t64 = a.clone();
        let mut r64 = a.clone();
        tanh_inplace_at(level, &mut t64);
        reference::tanh_inplace(&mut r64);
        let mut s64 = a.clone();
        let mut q64 = a.clone();
        sigmoid_inplace_at(level, &mut s64);
        reference::sigmoid_inplace(&mut q64);
        for j in 0..n {
            assert!((t64[j] - r64[j]).abs() <= 4.0 * f64::EPSILON * r64[j].abs());
            assert!((s64[j] - q64[j]).abs() <= 4.0 * f64::EPSILON * q64[j].abs());
        }
        let a32: Vec<f32> = a.iter().map(|v| *v as f32).collect();
        let (mut t32, mut s32) = (a32.clone(), a32.clone());
        tanh_inplace_at(level, &mut t32);
        sigmoid_inplace_at(level, &mut s32);
        for j in 0..n {
            let x = a32[j] as f64;
            assert!((t32[j] as f64 - x.tanh()).abs() <= 4.0 * f32::EPSILON as f64 * x.tanh().abs());
            let s = 1.0 / (1.0 + (-x).exp());
            assert!((s32[j] as f64 - s).abs() <= 4.0 * f32::EPSILON as f64 * s);
        }
    }
}

#[test]
fn detected_level_is_reported() {
    let name = rnn_core::kernels::isa().name();
    assert!(["generic", "avx2+fma", "avx512f"].contains(&name));
}

#[test]
fn elementwise_kernels_match_plain_loops_at_every_level() {
    let mut rng = Rng::new(9);
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        for &n in &SIZES {
            for offset in [0usize, 1, 3] {
                let a: Vec<f32> = rng.vec(n + offset, 2.0).iter().map(|v| *v as f32).collect();
                let b: Vec<f32> = rng.vec(n + offset, 2.0).iter().map(|v| *v as f32).collect();
                let (a, b) = (&a[offset..], &b[offset..]);
                let mut buf = vec![0.0f32; n + offset];
                let out = &mut buf[offset..];
                // Single roundings: bit for bit.
                scale_into_at(level, out, a, 0.37f32);
                for j in 0..n {
                    assert_eq!(out[j], a[j] * 0.37, "{level:?} scale n={n}");
                }
                mul_into_at(level, out, a, b);
                for j in 0..n {
                    assert_eq!(out[j], a[j] * b[j], "{level:?} mul n={n}");
                }
                tanh_slope_at(level, out, a);
                for j in 0..n {
                    assert_eq!(out[j], 1.0 - a[j] * a[j], "{level:?} slope n={n}");
                }
                // y += alpha x: one fused or two roundings.
                out.copy_from_slice(b);
                axpy_at(level, -1.5f32, a, out);
                for j in 0..n {
                    let want = -1.5f64 * a[j] as f64 + b[j] as f64;
                    assert!((out[j] as f64 - want).abs() <= 4e-7 * (1.0 + want.abs()));
                }
                // Sum of squares in f64: another order, same value to rounding.
                let want: f64 = a.iter().map(|v| (*v as f64) * (*v as f64)).sum();
                let got = sumsq_f64_at(level, a);
                assert!((got - want).abs() <= 1e-14 * want, "{level:?} sumsq n={n}");
                let a64: Vec<f64> = a.iter().map(|v| *v as f64 * 1e150).collect();
                let want64: f64 = a64.iter().map(|v| v * v).sum();
                let got64 = sumsq_f64_at(level, &a64);
                assert!(
                    (got64 - want64).abs() <= 1e-14 * want64,
                    "{level:?} sumsq64 n={n}"
                );
                // Finiteness: every position, in the vector body and in the remainder.
                assert!(all_finite_at(level, a));
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    for pos in [0, n / 2, n - 1] {
                        let mut c = a.to_vec();
                        c[pos] = bad;
                        assert!(!all_finite_at(level, &c), "{level:?} n={n} pos={pos} {bad}");
                    }
                }
                let big = vec![f32::MAX; n];
                assert!(all_finite_at(level, &big));
            }
        }
    }
}
