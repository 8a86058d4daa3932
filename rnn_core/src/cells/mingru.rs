//! minGRU (Feng et al. 2024, "Were RNNs all we needed?"): a GRU whose gate and
//! candidate read only the input, so the recurrence is diagonal in `h`.
//!
//! `weight_ih (2H, I)` has rows `[z; h~]`:
//! `z = sigmoid(W_z x + b_z)`, `h~ = W_h x + b_h`, `h_t = (1 - z) h_{t-1} + z h~`.
//! The step Jacobian is `diag(1 - z)`: how much each unit keeps is set by the input.

use super::{dsig, Cell, Params, Weights};
use crate::error::{Error, Result};
use crate::kernels::sigmoid_inplace;
use crate::Real;

/// minGRU cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct MinGru<F> {
    w: Weights<F>,
}

impl<F: Real> MinGru<F> {
    /// Build from named parameters: `weight_ih (2H, I)`, optional `bias_ih (2H,)`.
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (w_ih, rows, input) = p.matrix("weight_ih")?;
        if rows == 0 || rows % 2 != 0 {
            return Err(Error::shape(
                "weight_ih",
                "2H rows (z and the candidate h~, H >= 1)",
                format!("({rows}, {input})"),
            ));
        }
        let b_ih = p.vector("bias_ih", rows)?;
        let w = Weights::projection(rows / 2, rows, input, w_ih, b_ih)?;
        Ok(Box::new(MinGru { w }))
    }
}

impl<F: Real> Cell<F> for MinGru<F> {
    fn kind(&self) -> &'static str {
        "mingru"
    }
    fn hidden(&self) -> usize {
        self.w.hidden()
    }
    fn input(&self) -> usize {
        self.w.input()
    }
    fn state_dim(&self) -> usize {
        self.w.hidden()
    }
    fn record_dim(&self) -> usize {
        // z and h~ - h_{t-1}: the reverse pass then needs no states.
        2 * self.w.hidden()
    }
    fn vjp_reads_state(&self) -> bool {
        false
    }
    fn scratch_dim(&self) -> usize {
        0
    }
    fn weights(&self) -> &Weights<F> {
        &self.w
    }
    fn proj_bias(&self) -> &[F] {
        &self.w.b_ih
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        let (z, d) = rec[..2 * h].split_at_mut(h);
        z.copy_from_slice(&xp[..h]);
        sigmoid_inplace(z);
        for j in 0..h {
            d[j] = xp[h + j] - s_prev[j];
            s_next[j] = s_prev[j] + z[j] * d[j];
        }
    }

    fn vjp(
        &self,
        rec: &[F],
        _s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        _scratch: &mut [F],
    ) {
        let h = self.w.hidden();
        let (z, d) = rec[..2 * h].split_at(h);
        for j in 0..h {
            let g = g_next[j];
            g_prev[j] = (F::ONE - z[j]) * g;
            g_xp[j] = g * d[j] * dsig(z[j]);
            g_xp[h + j] = g * z[j];
        }
    }

    fn jvp(&self, rec: &[F], _s_prev: &[F], u_prev: &[F], u_next: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        for j in 0..h {
            u_next[j] = (F::ONE - rec[j]) * u_prev[j];
        }
    }

    /// Each entry of `xp` reaches one unit: see [`super::diagonal_jvp_xp`].
    fn jvp_xp(
        &self,
        rec: &[F],
        s_prev: &[F],
        u_prev: &[F],
        dxp: &[F],
        u_next: &mut [F],
        scratch: &mut [F],
    ) {
        super::diagonal_jvp_xp(self, (rec, s_prev), u_prev, dxp, u_next, scratch);
    }

    /// Layout `[W_ih (2H x I) | b_ih (2H)]`.
    fn param_len(&self) -> usize {
        self.w.rows() * (self.w.input() + 1)
    }

    /// `dW_ih += g_xp x^T`, `db_ih += g_xp`.
    fn accumulate_grads(
        &self,
        _rec: &[F],
        _s_prev: &[F],
        x: &[F],
        _g_next: &[F],
        g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        let (rows, i) = (self.w.rows(), self.w.input());
        let (a_w, a_b) = acc.split_at_mut(rows * i);
        for r in 0..rows {
            let g = g_xp[r];
            a_b[r] += g;
            for (a, xk) in a_w[r * i..(r + 1) * i].iter_mut().zip(x) {
                *a += g * *xk;
            }
        }
    }
}
