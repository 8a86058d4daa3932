//! Every SIMD fast path against the plain reference loop, on awkward sizes and
//! unaligned slices, at every level this CPU supports; and the dispatched entry
//! points against their `_at` twins at the detected level, bit for bit.
#![allow(clippy::needless_range_loop)]

mod common;

use common::Rng;
use rnn_core::kernels::{
    all_finite, all_finite_at, axpy, axpy_at, block_rows, gemv, gemv_at, isa, ln_norm, mul_into,
    mul_into_at, norm_f64, reference, scale_into, scale_into_at, sigmoid_inplace,
    sigmoid_inplace_at, sumsq_f64, sumsq_f64_at, supported, tanh_inplace, tanh_inplace_at,
    tanh_slope, tanh_slope_at, Isa, Packed,
};
use rnn_core::Real;

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
fn level_cap_is_honoured() {
    match std::env::var("LONGDEP_SIMD").as_deref() {
        Ok("generic") => assert_eq!(isa(), Isa::Generic),
        Ok("avx2") => assert_ne!(isa(), Isa::Avx512),
        _ => {}
    }
    assert!(supported(isa()));
    assert!(supported(Isa::Generic));
    // The widest supported level, unless capped.
    if std::env::var("LONGDEP_SIMD").is_err() {
        let widest = [Isa::Avx512, Isa::Avx2Fma, Isa::Generic]
            .into_iter()
            .find(|l| supported(*l));
        assert_eq!(Some(isa()), widest);
    }
}

#[test]
fn elementwise_kernels_match_plain_loops_at_every_level() {
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        elementwise_at::<f32>(level, 4e-7);
        elementwise_at::<f64>(level, 1e-15);
    }
}

fn elementwise_at<F: Real>(level: Isa, axpy_tol: f64) {
    let mut rng = Rng::new(9);
    let c = |v: f64| F::from_f64(v);
    for &n in &SIZES {
        for offset in [0usize, 1, 3] {
            let a: Vec<F> = rng.vec(n + offset, 2.0).into_iter().map(c).collect();
            let b: Vec<F> = rng.vec(n + offset, 2.0).into_iter().map(c).collect();
            let (a, b) = (&a[offset..], &b[offset..]);
            let mut buf = vec![F::ZERO; n + offset];
            let out = &mut buf[offset..];
            let name = F::NAME;
            // Single roundings: bit for bit.
            scale_into_at(level, out, a, c(0.37));
            for j in 0..n {
                assert_eq!(out[j], a[j] * c(0.37), "{level:?} {name} scale n={n}");
            }
            mul_into_at(level, out, a, b);
            for j in 0..n {
                assert_eq!(out[j], a[j] * b[j], "{level:?} {name} mul n={n}");
            }
            tanh_slope_at(level, out, a);
            for j in 0..n {
                assert_eq!(out[j], F::ONE - a[j] * a[j], "{level:?} {name} slope n={n}");
            }
            // y += alpha x: one fused or two roundings.
            out.copy_from_slice(b);
            axpy_at(level, c(-1.5), a, out);
            for j in 0..n {
                let want = -1.5f64 * a[j].to_f64() + b[j].to_f64();
                assert!(
                    (out[j].to_f64() - want).abs() <= axpy_tol * (1.0 + want.abs()),
                    "{level:?} {name} axpy n={n}"
                );
            }
            // Sum of squares in f64: another order, same value to rounding.
            let want: f64 = a.iter().map(|v| v.to_f64() * v.to_f64()).sum();
            let got = sumsq_f64_at(level, a);
            assert!(
                (got - want).abs() <= 1e-14 * want,
                "{level:?} {name} sumsq n={n}"
            );
            let a64: Vec<f64> = a.iter().map(|v| v.to_f64() * 1e150).collect();
            let want64: f64 = a64.iter().map(|v| v * v).sum();
            let got64 = sumsq_f64_at(level, &a64);
            assert!(
                (got64 - want64).abs() <= 1e-14 * want64,
                "{level:?} sumsq64 n={n}"
            );
            // Finiteness: every position, in the vector body and in the remainder.
            assert!(all_finite_at(level, a));
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                for pos in [0, n / 2, n - 1] {
                    let mut v = a.to_vec();
                    v[pos] = c(bad);
                    assert!(
                        !all_finite_at(level, &v),
                        "{level:?} {name} n={n} pos={pos} {bad}"
                    );
                }
            }
            let max = if std::mem::size_of::<F>() == 4 {
                f32::MAX as f64
            } else {
                f64::MAX
            };
            let big = vec![c(max); n];
            assert!(all_finite_at(level, &big));
        }
    }
}

/// `name(args)` runs exactly `name_at(isa(), args)`: same bits for every kernel.
#[test]
fn dispatched_entry_points_equal_the_detected_level() {
    dispatched_at::<f32>();
    dispatched_at::<f64>();
}

fn dispatched_at<F: Real>() {
    let level = isa();
    let mut rng = Rng::new(5);
    let c = |v: f64| F::from_f64(v);
    let bits = |v: &[F]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
    for &n in &SIZES {
        let w: Vec<F> = rng.vec(n * 33, 1.0).into_iter().map(c).collect();
        let x: Vec<F> = rng.vec(33, 1.0).into_iter().map(c).collect();
        let a: Vec<F> = rng.vec(n, 6.0).into_iter().map(c).collect();
        let b: Vec<F> = rng.vec(n, 2.0).into_iter().map(c).collect();
        let p = Packed::new(&w, n, 33);
        let (mut y1, mut y2) = (vec![F::ZERO; n], vec![F::ZERO; n]);
        gemv(&p, &x, &b, &mut y1);
        gemv_at(level, &p, &x, &b, &mut y2);
        assert_eq!(bits(&y1), bits(&y2), "gemv n={n}");
        let (mut t1, mut t2) = (a.clone(), a.clone());
        tanh_inplace(&mut t1);
        tanh_inplace_at(level, &mut t2);
        assert_eq!(bits(&t1), bits(&t2), "tanh n={n}");
        let (mut t1, mut t2) = (a.clone(), a.clone());
        sigmoid_inplace(&mut t1);
        sigmoid_inplace_at(level, &mut t2);
        assert_eq!(bits(&t1), bits(&t2), "sigmoid n={n}");
        let (mut t1, mut t2) = (b.clone(), b.clone());
        axpy(c(0.3), &a, &mut t1);
        axpy_at(level, c(0.3), &a, &mut t2);
        assert_eq!(bits(&t1), bits(&t2), "axpy n={n}");
        scale_into(&mut t1, &a, c(0.7));
        scale_into_at(level, &mut t2, &a, c(0.7));
        assert_eq!(bits(&t1), bits(&t2), "scale n={n}");
        mul_into(&mut t1, &a, &b);
        mul_into_at(level, &mut t2, &a, &b);
        assert_eq!(bits(&t1), bits(&t2), "mul n={n}");
        tanh_slope(&mut t1, &b);
        tanh_slope_at(level, &mut t2, &b);
        assert_eq!(bits(&t1), bits(&t2), "slope n={n}");
        assert_eq!(sumsq_f64(&a).to_bits(), sumsq_f64_at(level, &a).to_bits());
        assert_eq!(all_finite(&a), all_finite_at(level, &a));
        let want = a.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt();
        assert!((norm_f64(&a) - want).abs() <= 1e-14 * want);
        assert!((ln_norm(&a) - want.ln()).abs() <= 1e-14 * want.ln().abs().max(1.0));
    }
}

#[test]
fn norms_rescale_outside_the_range_of_a_plain_sum_of_squares() {
    for (v, want) in [(1e-200f64, 2e-200), (1e200, 2e200)] {
        let a = [v; 4];
        assert!((norm_f64(&a) - want).abs() <= 1e-15 * want, "{v}");
        assert!((ln_norm(&a) - want.ln()).abs() <= 1e-14 * want.ln().abs());
    }
    assert_eq!(norm_f64(&[0.0f32; 5]), 0.0);
    assert_eq!(ln_norm(&[0.0f64; 5]), f64::NEG_INFINITY);
}

/// The state check flushes subnormal entries to zero and keeps every other value, at
/// every level, in the vector body and the remainder; `any_subnormal` finds each one.
#[test]
fn settle_flushes_subnormals_and_finds_non_finite_values() {
    settle_levels::<f32>(1e-40, f32::MIN_POSITIVE as f64);
    settle_levels::<f64>(1e-310, f64::MIN_POSITIVE);
}

fn settle_levels<F: Real>(tiny: f64, min_normal: f64) {
    use rnn_core::kernels::{any_subnormal_at, settle_at};
    let c = |v: f64| F::from_f64(v);
    let mut rng = Rng::new(9);
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        for &n in &SIZES {
            let a: Vec<F> = rng.vec(n, 1.0).into_iter().map(c).collect();
            assert!(!any_subnormal_at(level, &a), "{level:?} n={n}");
            for pos in [0, n / 2, n - 1] {
                for v in [tiny, -tiny, min_normal, -min_normal, 0.0] {
                    let mut s = a.clone();
                    s[pos] = c(v);
                    assert_eq!(
                        any_subnormal_at(level, &s),
                        v.abs() < min_normal && v != 0.0,
                        "{level:?} n={n} pos={pos} v={v:e}"
                    );
                    assert!(settle_at(level, &mut s), "{level:?} n={n}");
                    let want = if v.abs() < min_normal { 0.0 } else { v };
                    assert_eq!(s[pos].to_f64(), want, "{level:?} n={n} pos={pos}");
                    for j in (0..n).filter(|j| *j != pos) {
                        assert_eq!(s[j].to_f64().to_bits(), a[j].to_f64().to_bits());
                    }
                }
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut s = a.clone();
                    s[pos] = c(bad);
                    assert!(!settle_at(level, &mut s), "{level:?} n={n} pos={pos} {bad}");
                }
            }
        }
    }
}

/// The batched product equals one `gemv` per lane bit for bit, at every level, for
/// awkward sizes, lane counts (the 4-, 2- and 1-lane groups), strides and a shared
/// bias; and the plain reference to rounding.
#[test]
fn gemm_equals_one_gemv_per_lane() {
    gemm_levels::<f32>(1e-5);
    gemm_levels::<f64>(1e-13);
}

fn gemm_levels<F: Real>(tol: f64) {
    use rnn_core::kernels::{gemm_at, Lanes};
    let c = |v: f64| F::from_f64(v);
    let bits = |v: &[F]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
    let mut rng = Rng::new(11);
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        for &rows in &[1usize, 7, 33, 100, 129, 257] {
            for &cols in &[1usize, 3, 16, 100, 129] {
                let w: Vec<F> = rng.vec(rows * cols, 1.0).into_iter().map(c).collect();
                let p = Packed::new(&w, rows, cols);
                for n in [1usize, 2, 3, 4, 5, 7, 9] {
                    for shared in [false, true] {
                        let (ldx, ldy) = (cols + 3, rows + 1);
                        let ldb = if shared { 0 } else { rows + 2 };
                        let x: Vec<F> = rng.vec(n * ldx, 1.0).into_iter().map(c).collect();
                        let bias: Vec<F> =
                            rng.vec(n * ldb + rows, 1.0).into_iter().map(c).collect();
                        let mut y = vec![c(7.0); n * ldy];
                        let lanes = Lanes { n, ldx, ldb, ldy };
                        gemm_at(level, &p, &x, &bias, &mut y, lanes);
                        for b in 0..n {
                            let (xb, bb) = (&x[b * ldx..b * ldx + cols], &bias[b * ldb..]);
                            let mut one = vec![F::ZERO; rows];
                            gemv_at(level, &p, xb, bb, &mut one);
                            let got = &y[b * ldy..b * ldy + rows];
                            assert_eq!(bits(got), bits(&one), "{level:?} {rows}x{cols} n={n}");
                            let mut want = vec![F::ZERO; rows];
                            reference::gemv(&w, cols, xb, &bb[..rows], &mut want);
                            for r in 0..rows {
                                let (g, e) = (got[r].to_f64(), want[r].to_f64());
                                assert!((g - e).abs() <= tol * (cols as f64 + e.abs()));
                            }
                            // The gap between lanes of y is left alone.
                            assert!(y[b * ldy + rows..(b + 1) * ldy]
                                .iter()
                                .all(|v| *v == c(7.0)));
                        }
                    }
                }
            }
        }
    }
}

/// The vectorised `exp` and `expm1` of non-positive arguments (the decays of diagonal
/// recurrences) against the standard library, at every level.
#[test]
fn exp_and_expm1_of_nonpositive_arguments() {
    use rnn_core::kernels::{exp_nonpos_inplace_at, expm1_nonpos_inplace_at};
    for level in LEVELS.into_iter().filter(|l| supported(*l)) {
        for &n in &SIZES {
            let xs: Vec<f64> = (0..n)
                .map(|k| -(k as f64) * 37.0 / n as f64 - 1e-9)
                .collect();
            let mut a = xs.clone();
            exp_nonpos_inplace_at(level, &mut a);
            let mut b = xs.clone();
            expm1_nonpos_inplace_at(level, &mut b);
            let mut a32: Vec<f32> = xs.iter().map(|v| *v as f32).collect();
            exp_nonpos_inplace_at(level, &mut a32);
            for k in 0..n {
                let (e, m) = (xs[k].exp(), xs[k].exp_m1());
                assert!(
                    (a[k] - e).abs() <= 4.0 * f64::EPSILON * e,
                    "{level:?} exp {}",
                    xs[k]
                );
                assert!(
                    (b[k] - m).abs() <= 4.0 * f64::EPSILON * m.abs(),
                    "{level:?} expm1"
                );
                let e32 = (xs[k] as f32 as f64).exp();
                assert!((a32[k] as f64 - e32).abs() <= 4.0 * f32::EPSILON as f64 * e32);
            }
        }
    }
}
