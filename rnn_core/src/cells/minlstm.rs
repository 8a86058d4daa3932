//! minLSTM (Feng et al. 2024, "Were RNNs all we needed?"): an LSTM whose gates and
//! candidate read only the input, with the forget and input gates normalised to sum
//! to one, so the recurrence is diagonal in `h`.
//!
//! `weight_ih (3H, I)` has rows `[f; i; h~]`:
//! `f = sigmoid(W_f x + b_f)`, `i = sigmoid(W_i x + b_i)`,
//! `f' = f / (f + i)`, `i' = i / (f + i)`, `h~ = W_h x + b_h`,
//! `h_t = f' h_{t-1} + i' h~`.
//! The step Jacobian is `diag(f')`.
//!
//! Derivatives of the normalised gate: with `q = f' i'`,
//! `d f' / d a_f = q (1 - f)` and `d f' / d a_i = -q (1 - i)` (`a_.` the pre-activations).
//!
//! When both gates are below `1e-20` (pre-activations below about -46), `f + i` is
//! formed from `1e-20 exp(a_f - max(a_f, a_i))` and `1e-20 exp(a_i - max(a_f, a_i))`
//! instead, which keeps the ratio exact (`f'` = `sigmoid(a_f - a_i)` there to within
//! `1e-20`) where the plain sigmoids would underflow or be clamped to equal values.

use super::{Cell, Params, Weights};
use crate::error::{Error, Result};
use crate::kernels::sigmoid_inplace;
use crate::Real;

/// Below this sum of the two gates the step rescales them (see the module docs).
const TINY: f64 = 1e-20;

/// minLSTM cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct MinLstm<F> {
    w: Weights<F>,
}

impl<F: Real> MinLstm<F> {
    /// Build from named parameters: `weight_ih (3H, I)` (rows `[f; i; h~]`),
    /// optional `bias_ih (3H,)`.
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (w_ih, rows, input) = p.matrix("weight_ih")?;
        if rows == 0 || rows % 3 != 0 || input == 0 {
            return Err(Error::shape(
                "weight_ih",
                "shape (3H, I) with H, I >= 1 (rows [f; i; h~]: forget gate, input gate, \
                 candidate)",
                format!("({rows}, {input})"),
            ));
        }
        let b_ih = p.vector("bias_ih", rows)?;
        let w = Weights::projection(rows / 3, rows, input, w_ih, b_ih)?;
        Ok(Box::new(MinLstm { w }))
    }
}

/// `(f', i')` from the stored gates `f`, `i`: `f / (f + i)`, `i / (f + i)`.
#[inline(always)]
fn normalised<F: Real>(f: F, i: F) -> (F, F) {
    let s = F::ONE / (f + i);
    (f * s, i * s)
}

impl<F: Real> Cell<F> for MinLstm<F> {
    fn kind(&self) -> &'static str {
        "minlstm"
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
    /// `[f (H) | i (H) | h~ - h_{t-1} (H)]`: the reverse pass needs no states.
    fn record_dim(&self) -> usize {
        3 * self.w.hidden()
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

    /// `h_t = h_{t-1} + i' (h~ - h_{t-1})` (equal to `f' h_{t-1} + i' h~` as `f' + i' = 1`,
    /// with `i'` computed as `i / (f + i)`, not as `1 - f'`).
    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        let (gates, d) = rec[..3 * h].split_at_mut(2 * h);
        gates.copy_from_slice(&xp[..2 * h]);
        sigmoid_inplace(gates);
        let tiny = F::from_f64(TINY);
        let (f, i) = gates.split_at_mut(h);
        for j in 0..h {
            if f[j] + i[j] < tiny {
                let (af, ai) = (xp[j], xp[h + j]);
                let m = af.max(ai);
                f[j] = tiny * (af - m).exp();
                i[j] = tiny * (ai - m).exp();
            }
            let (_, ip) = normalised(f[j], i[j]);
            d[j] = xp[2 * h + j] - s_prev[j];
            s_next[j] = s_prev[j] + ip * d[j];
        }
    }

    /// `g_prev = f' g`, `g_{a_f} = -g d q (1 - f)`, `g_{a_i} = g d q (1 - i)`,
    /// `g_{h~} = g i'`, with `d = h~ - h_{t-1}` and `q = f' i'`.
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
        let (f, i, d) = (&rec[..h], &rec[h..2 * h], &rec[2 * h..3 * h]);
        for j in 0..h {
            let g = g_next[j];
            let (fp, ip) = normalised(f[j], i[j]);
            let gq = g * d[j] * fp * ip;
            g_prev[j] = fp * g;
            g_xp[j] = -gq * (F::ONE - f[j]);
            g_xp[h + j] = gq * (F::ONE - i[j]);
            g_xp[2 * h + j] = g * ip;
        }
    }

    /// `u_next = f' u_prev`.
    fn jvp(&self, rec: &[F], _s_prev: &[F], u_prev: &[F], u_next: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        for j in 0..h {
            let (fp, _) = normalised(rec[j], rec[h + j]);
            u_next[j] = fp * u_prev[j];
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

    /// Layout `[weight_ih (3H x I, rows [f; i; h~]) | bias_ih (3H)]`.
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
