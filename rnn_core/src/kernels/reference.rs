//! Plain reference loops; the fast kernels must agree with these.

use crate::Real;

/// `y[r] = bias[r] + sum_k w[r * cols + k] * x[k]`, summed left to right.
pub fn gemv<F: Real>(w: &[F], cols: usize, x: &[F], bias: &[F], y: &mut [F]) {
    for (r, yr) in y.iter_mut().enumerate() {
        let mut s = bias[r];
        for k in 0..cols {
            s += w[r * cols + k] * x[k];
        }
        *yr = s;
    }
}

/// Element-wise `tanh` of the standard library.
pub fn tanh_inplace<F: Real>(a: &mut [F]) {
    for v in a {
        *v = v.tanh();
    }
}

/// Element-wise logistic function `1 / (1 + exp(-x))`.
pub fn sigmoid_inplace<F: Real>(a: &mut [F]) {
    for v in a {
        *v = F::ONE / (F::ONE + (-*v).exp());
    }
}
