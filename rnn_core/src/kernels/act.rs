//! Vectorisable `tanh` and logistic sigmoid, accurate to a few ulp.
//!
//! Both reduce to `expm1(y)` for `y <= 0`: `y = n ln2 + r` with |r| <= ln2/2,
//! `expm1(r)` by its Taylor polynomial (degree 7 for f32, 13 for f64, below half an
//! ulp on that interval), and `expm1(y) = 2^n expm1(r) + (2^n - 1)`. No branches,
//! so the loops compile to SIMD selects and blends.

use crate::Real;

const LOG2E: f64 = std::f64::consts::LOG2_E;

/// `(2^n, expm1(r))` with `y = n ln2 + r`, for `y <= 0` (arguments below the normal
/// range are clamped to its edge).
#[inline(always)]
fn reduce<F: Real>(y: F) -> (F, F) {
    let lim = F::MIN_EXP * F::from_f64(std::f64::consts::LN_2);
    let y = y.max(lim);
    let t = y * F::from_f64(LOG2E) + F::ROUND_MAGIC;
    let n = t - F::ROUND_MAGIC;
    let r = (y - n * F::from_f64(F::LN2_HI)) - n * F::from_f64(F::LN2_LO);
    let c = F::EXPM1_TAYLOR;
    let mut p = F::from_f64(c[c.len() - 1]);
    for k in (0..c.len() - 1).rev() {
        p = p * r + F::from_f64(c[k]);
    }
    (F::pow2_from_magic(t), r + r * r * p)
}

/// `expm1(y)` for `y <= 0`.
#[inline(always)]
fn expm1_nonpos<F: Real>(y: F) -> F {
    let (s, em) = reduce(y);
    s * em + (s - F::ONE)
}

/// `exp(y)` for `y <= 0` (no cancellation for large |y|).
#[inline(always)]
fn exp_nonpos<F: Real>(y: F) -> F {
    let (s, em) = reduce(y);
    s * em + s
}

/// `tanh(x) = sign(x) * (-e) / (2 + e)` with `e = expm1(-2|x|)`: no cancellation
/// for small |x| and no overflow for large |x|.
#[inline(always)]
fn tanh1<F: Real>(x: F) -> F {
    let e = expm1_nonpos(F::from_f64(-2.0) * x.abs());
    let t = -e / (F::from_f64(2.0) + e);
    if x < F::ZERO {
        -t
    } else {
        t
    }
}

/// `sigmoid(x)` from `e = exp(-|x|)`: `1/(1+e)` for x >= 0, `e/(1+e)` below.
#[inline(always)]
fn sigmoid1<F: Real>(x: F) -> F {
    let e = exp_nonpos(-x.abs());
    let s = F::ONE / (F::ONE + e);
    if x < F::ZERO {
        e * s
    } else {
        s
    }
}

#[inline(always)]
fn map<F: Real>(a: &mut [F], f: impl Fn(F) -> F) {
    for v in a.iter_mut() {
        *v = f(*v);
    }
}

simd_kernel! {
    /// In-place `tanh`, within a few ulp of the standard library's.
    pub fn tanh_inplace, tanh_inplace_at<F, L>(a: &mut [F]) {
        map(a, tanh1::<F>)
    }
}

simd_kernel! {
    /// In-place logistic sigmoid `1 / (1 + exp(-x))`, within a few ulp.
    pub fn sigmoid_inplace, sigmoid_inplace_at<F, L>(a: &mut [F]) {
        map(a, sigmoid1::<F>)
    }
}

simd_kernel! {
    /// In-place `exp(x)` for `x <= 0` (the decays `exp(Delta A)` of diagonal recurrences),
    /// within a few ulp; arguments below the normal range give its edge.
    pub fn exp_nonpos_inplace, exp_nonpos_inplace_at<F, L>(a: &mut [F]) {
        map(a, exp_nonpos::<F>)
    }
}

simd_kernel! {
    /// In-place `expm1(x)` for `x <= 0`, within a few ulp (no cancellation near 0).
    pub fn expm1_nonpos_inplace, expm1_nonpos_inplace_at<F, L>(a: &mut [F]) {
        map(a, expm1_nonpos::<F>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps32(a: f32, b: f32) -> i64 {
        (a.to_bits() as i64 - b.to_bits() as i64).abs()
    }

    #[test]
    fn expm1_matches_std_f64() {
        for i in 0..20000 {
            let y = -(i as f64) * 0.004;
            let got = expm1_nonpos(y);
            let want = y.exp_m1();
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(f64::MIN_POSITIVE),
                "{y}: {got} {want}"
            );
        }
    }

    #[test]
    fn tanh_and_sigmoid_within_few_ulp_f32() {
        let mut worst = (0, 0);
        for i in -200000..200000 {
            let x = i as f32 * 1e-4 + (i as f32).signum() * 1e-7;
            worst.0 = worst.0.max(ulps32(tanh1(x), x.tanh()));
            let s_ref = (1.0 / (1.0 + (-(x as f64)).exp())) as f32;
            worst.1 = worst.1.max(ulps32(sigmoid1(x), s_ref));
        }
        assert!(worst.0 <= 4 && worst.1 <= 4, "worst ulps {worst:?}");
    }

    #[test]
    fn tanh_and_sigmoid_within_few_ulp_f64() {
        let mut worst: (f64, f64) = (0.0, 0.0);
        for i in -200000..200000 {
            let x = i as f64 * 1.3e-4 + 1e-9;
            let t = x.tanh();
            worst.0 = worst.0.max((tanh1(x) - t).abs() / (t.abs() * f64::EPSILON));
            let s = 1.0 / (1.0 + (-x).exp());
            worst.1 = worst.1.max((sigmoid1(x) - s).abs() / (s * f64::EPSILON));
        }
        assert!(
            worst.0 <= 4.0 && worst.1 <= 4.0,
            "worst relative error in eps {worst:?}"
        );
    }

    #[test]
    fn extreme_arguments_are_finite() {
        for x in [
            0.0f64,
            -0.0,
            1e-300,
            40.0,
            -40.0,
            800.0,
            -800.0,
            f64::MAX,
            -f64::MAX,
        ] {
            assert!(tanh1(x).is_finite() && sigmoid1(x).is_finite(), "{x}");
            assert!(
                tanh1(x as f32).is_finite() && sigmoid1(x as f32).is_finite(),
                "{x}"
            );
        }
        assert_eq!(tanh1(1e4f64), 1.0);
        assert_eq!(tanh1(-1e4f32), -1.0);
        assert_eq!(tanh1(0.0f64), 0.0);
    }
}
