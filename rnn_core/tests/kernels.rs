//! Every SIMD fast path against the plain reference loop, on awkward sizes and
#![allow(clippy::needless_range_loop)]
//! unaligned slices.

mod common;

use common::Rng;
use rnn_core::kernels::{
    block_rows, gemv_at, reference, sigmoid_inplace_at, supported, tanh_inplace_at, Isa, Packed,
};

const LEVELS: [Isa; 3] = [Isa::Generic, Isa::Avx2Fma, Isa::Avx512];

const SIZES: [usize; 8] = [1, 3, 7, 8, 16, 33, 129, 257];

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
