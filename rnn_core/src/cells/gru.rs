//! GRU cell with PyTorch's formula (gate order r, z, n):
//!
//! `r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)`, `z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)`,
//! `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.

use super::{dense_grads, dsig, dtanh, Cell, Weights};
use crate::error::{Error, Result};
use crate::kernels::{gemv, sigmoid_inplace, tanh_inplace};
use crate::Real;

/// GRU cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Gru<F> {
    w: Weights<F>,
    /// `b_ih + [b_hr, b_hz, 0]`: everything that is added outside `r * (.)`.
    proj_bias: Vec<F>,
    /// `[0, 0, b_hn]`: the recurrent bias that `r` multiplies.
    rec_bias: Vec<F>,
}

impl<F: Real> Gru<F> {
    /// Build from validated weights (`G = 3`).
    pub fn new(w: Weights<F>) -> Result<Self> {
        let h = w.hidden();
        if w.rows() != 3 * h {
            return Err(Error::shape(
                "weight_hh",
                format!("{} rows (3 gates x hidden size {h})", 3 * h),
                format!("{} rows", w.rows()),
            ));
        }
        let mut proj_bias = w.b_ih.clone();
        let mut rec_bias = vec![F::ZERO; 3 * h];
        for j in 0..2 * h {
            proj_bias[j] += w.b_hh[j];
        }
        rec_bias[2 * h..].copy_from_slice(&w.b_hh[2 * h..]);
        Ok(Gru {
            w,
            proj_bias,
            rec_bias,
        })
    }
}

impl<F: Real> Cell<F> for Gru<F> {
    fn kind(&self) -> &'static str {
        "gru"
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
        // r, z, n and W_hn h + b_hn.
        4 * self.w.hidden()
    }
    fn scratch_dim(&self) -> usize {
        4 * self.w.hidden()
    }
    fn weights(&self) -> &Weights<F> {
        &self.w
    }
    fn proj_bias(&self) -> &[F] {
        &self.proj_bias
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], scratch: &mut [F]) {
        let h = self.w.hidden();
        let hh = &mut scratch[..3 * h];
        gemv(&self.w.p_hh, &s_prev[..h], &self.rec_bias, hh);
        let (rz, rest) = rec.split_at_mut(2 * h);
        let (n, hn) = rest.split_at_mut(h);
        for j in 0..2 * h {
            rz[j] = xp[j] + hh[j];
        }
        sigmoid_inplace(rz);
        for j in 0..h {
            hn[j] = hh[2 * h + j];
            n[j] = xp[2 * h + j] + rz[j] * hh[2 * h + j];
        }
        tanh_inplace(n);
        for j in 0..h {
            let z = rz[h + j];
            s_next[j] = (F::ONE - z) * n[j] + z * s_prev[j];
        }
    }

    fn vjp(
        &self,
        rec: &[F],
        s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        scratch: &mut [F],
    ) {
        let h = self.w.hidden();
        let (r, z, n, hn) = (
            &rec[..h],
            &rec[h..2 * h],
            &rec[2 * h..3 * h],
            &rec[3 * h..4 * h],
        );
        let (dhh, direct) = scratch[..4 * h].split_at_mut(3 * h);
        for j in 0..h {
            let g = g_next[j];
            let da_n = g * (F::ONE - z[j]) * dtanh(n[j]);
            let da_r = da_n * hn[j] * dsig(r[j]);
            let da_z = g * (s_prev[j] - n[j]) * dsig(z[j]);
            g_xp[j] = da_r;
            g_xp[h + j] = da_z;
            g_xp[2 * h + j] = da_n;
            dhh[j] = da_r;
            dhh[h + j] = da_z;
            dhh[2 * h + j] = da_n * r[j];
            direct[j] = g * z[j];
        }
        // g_prev = z * g + W_hh^T dhh: the product adds onto the direct path.
        gemv(&self.w.p_hh_t, dhh, direct, &mut g_prev[..h]);
    }

    /// The recurrent path of `n` is gated: `d(W_hn h + b_hn) = r * da_n`.
    fn accumulate_grads(
        &self,
        rec: &[F],
        s_prev: &[F],
        x: &[F],
        _g_next: &[F],
        g_xp: &[F],
        scratch: &mut [F],
        acc: &mut [F],
    ) {
        let h = self.w.hidden();
        let d_hh = &mut scratch[..3 * h];
        d_hh[..2 * h].copy_from_slice(&g_xp[..2 * h]);
        for j in 0..h {
            d_hh[2 * h + j] = g_xp[2 * h + j] * rec[j];
        }
        dense_grads(&self.w, x, &s_prev[..h], g_xp, d_hh, acc);
    }

    fn jvp(&self, rec: &[F], s_prev: &[F], u_prev: &[F], u_next: &mut [F], scratch: &mut [F]) {
        let h = self.w.hidden();
        let (r, z, n, hn) = (
            &rec[..h],
            &rec[h..2 * h],
            &rec[2 * h..3 * h],
            &rec[3 * h..4 * h],
        );
        let dhh = &mut scratch[..3 * h];
        gemv(&self.w.p_hh, &u_prev[..h], &self.w.zeros[..3 * h], dhh);
        for j in 0..h {
            let dr = dsig(r[j]) * dhh[j];
            let dz = dsig(z[j]) * dhh[h + j];
            let dn = dtanh(n[j]) * (r[j] * dhh[2 * h + j] + dr * hn[j]);
            u_next[j] = (F::ONE - z[j]) * dn + dz * (s_prev[j] - n[j]) + z[j] * u_prev[j];
        }
    }
}
