//! `spectral_norm` against closed forms: a rotated diagonal with near-equal top values
//! (where power iteration stalls), the ends of the f64 range, a rank-one matrix.

use rnn_core::lyapunov::spectral_norm;

/// `Q diag(d) Q^T` with `Q = I - 2 u u^T / |u|^2` (a reflection: orthogonal exactly in
/// exact arithmetic), row-major.
fn rotated(d: &[f64]) -> Vec<f64> {
    let s = d.len();
    let u: Vec<f64> = (0..s).map(|i| 1.0 + 0.37 * i as f64).collect();
    let uu: f64 = u.iter().map(|x| x * x).sum();
    let q = |r: usize, c: usize| (if r == c { 1.0 } else { 0.0 }) - 2.0 * u[r] * u[c] / uu;
    let mut j = vec![0.0; s * s];
    for r in 0..s {
        for c in 0..s {
            j[r * s + c] = (0..s).map(|k| q(r, k) * d[k] * q(c, k)).sum();
        }
    }
    j
}

#[test]
fn near_equal_top_singular_values_are_resolved() {
    // the gap of 5e-5 that power iteration's "small change" rule mistook for convergence
    let mut d: Vec<f64> = (0..40).map(|i| 0.9 - 0.01 * i as f64).collect();
    d[7] = 0.999_527_420_945_249_2;
    d[23] = 0.999_478_214_692_156_5;
    d[31] = -0.999_5;
    let got = spectral_norm(&rotated(&d), d.len());
    assert!((got - d[7]).abs() <= 1e-13, "{got} vs {}", d[7]);
}

#[test]
fn norms_near_the_ends_of_the_range_keep_their_digits() {
    let d: Vec<f64> = (0..12).map(|i| 1.0 + 0.1 * i as f64).collect();
    let base = rotated(&d);
    for scale in [1e-200, 1e-100, 1.0, 1e100, 1e200, 1e300] {
        let j: Vec<f64> = base.iter().map(|v| v * scale).collect();
        let got = spectral_norm(&j, d.len());
        let want = 2.1 * scale;
        assert!(
            ((got - want) / want).abs() <= 1e-13,
            "scale {scale}: {got} vs {want}"
        );
    }
    assert_eq!(spectral_norm(&[0.0; 16], 4), 0.0);
}

#[test]
fn rank_one_and_non_normal_matrices() {
    // u v^T has norm |u| |v|
    let (u, v) = ([3.0, 0.0, 4.0], [1.0, 2.0, 2.0]);
    let j: Vec<f64> = (0..9).map(|k| u[k / 3] * v[k % 3]).collect();
    assert!((spectral_norm(&j, 3) - 15.0).abs() <= 1e-13);
    // [[1, a], [0, 1]]: sigma_max = (a + sqrt(a^2 + 4)) / 2
    let a: f64 = 1e3;
    let want = (a + (a * a + 4.0).sqrt()) / 2.0;
    let got = spectral_norm(&[1.0, a, 0.0, 1.0], 2);
    assert!(((got - want) / want).abs() <= 1e-14, "{got} vs {want}");
}
