//! GRU cell with PyTorch's formula (gate order r, z, n):
//!
//! `r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)`, `z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)`,
//! `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.

use super::{dense_grads, dsig, dtanh, Cell, Params, SplitStep, Weights};
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
    /// Build from named parameters (PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`).
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        Ok(Box::new(Gru::new(p.dense(3, "gru")?)?))
    }

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
        for j in 0..2 * h {
            proj_bias[j] += w.b_hh[j];
        }
        let rec_bias = hh_bias(&w.b_hh, h);
        Ok(Gru {
            w,
            proj_bias,
            rec_bias,
        })
    }
}

/// Split lanes: the product carries `b_hn` (which `r` multiplies), and `z g` is a path
/// to `h_{t-1}` outside it.
impl<F: Real> SplitStep<F> for Gru<F> {
    fn record_per_unit(&self) -> usize {
        5
    }
    fn product_bias(&self) -> Option<&[F]> {
        Some(&self.rec_bias)
    }
    fn has_direct(&self) -> bool {
        true
    }
    fn step_units(
        &self,
        n: usize,
        xp: &[F],
        prod: &mut [F],
        st: &[F],
        next: &mut [F],
        rec: &mut [F],
    ) {
        pointwise(n, xp, prod, st, rec, next);
    }
    fn xp_adjoint_in_scratch(&self) -> bool {
        true
    }
    fn vjp_units(
        &self,
        n: usize,
        rec: &[F],
        g: &[F],
        gprod: &mut [F],
        direct: &mut [F],
        _g_rest: &mut [F],
        scratch: &mut [F],
    ) {
        pointwise_vjp(n, rec, g, scratch, gprod, direct);
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
        // r, z, n, W_hn h + b_hn and h_prev (so the reverse pass needs no states).
        5 * self.w.hidden()
    }
    fn vjp_reads_state(&self) -> bool {
        false
    }
    fn split(&self) -> Option<&dyn SplitStep<F>> {
        Some(self)
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
        pointwise(h, xp, hh, &s_prev[..h], rec, &mut s_next[..h]);
    }

    fn vjp(
        &self,
        rec: &[F],
        _s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        scratch: &mut [F],
    ) {
        let h = self.w.hidden();
        let (dhh, direct) = scratch[..4 * h].split_at_mut(3 * h);
        pointwise_vjp(h, rec, &g_next[..h], g_xp, dhh, direct);
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
        let zeros = &self.w.zeros[..3 * self.w.hidden()];
        self.jvp_xp(rec, s_prev, u_prev, zeros, u_next, scratch);
    }

    /// `r = sigmoid(xp_r + (W h)_r)`, `z` alike, `n = tanh(xp_n + r (W_hn h + b_hn))`.
    fn jvp_xp(
        &self,
        rec: &[F],
        s_prev: &[F],
        u_prev: &[F],
        dxp: &[F],
        u_next: &mut [F],
        scratch: &mut [F],
    ) {
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
            let dr = dsig(r[j]) * (dhh[j] + dxp[j]);
            let dz = dsig(z[j]) * (dhh[h + j] + dxp[h + j]);
            let dn = dtanh(n[j]) * (dxp[2 * h + j] + r[j] * dhh[2 * h + j] + dr * hn[j]);
            u_next[j] = (F::ONE - z[j]) * dn + dz * (s_prev[j] - n[j]) + z[j] * u_prev[j];
        }
    }
}

/// The `b_hh` rows added inside the product `W_hh h` (only `b_hn`: the r and z ones
/// are folded into the input projection).
fn hh_bias<F: Real>(b_hh: &[F], h: usize) -> Vec<F> {
    let mut b = vec![F::ZERO; 3 * h];
    b[2 * h..].copy_from_slice(&b_hh[2 * h..3 * h]);
    b
}

/// The elementwise part of a step for `n` units, from the input projection `xp` and
/// `hh = W_hh h + [0 0 b_hn]` (3n each): fills the record `[r z n hn h_prev]` and `h_next`.
fn pointwise<F: Real>(n: usize, xp: &[F], hh: &[F], h_prev: &[F], rec: &mut [F], h_next: &mut [F]) {
    let (rz, rest) = rec[..5 * n].split_at_mut(2 * n);
    let (nn, rest) = rest.split_at_mut(n);
    let (hn, keep) = rest.split_at_mut(n);
    for j in 0..2 * n {
        rz[j] = xp[j] + hh[j];
    }
    sigmoid_inplace(rz);
    for j in 0..n {
        hn[j] = hh[2 * n + j];
        nn[j] = xp[2 * n + j] + rz[j] * hh[2 * n + j];
    }
    tanh_inplace(nn);
    keep.copy_from_slice(&h_prev[..n]);
    for j in 0..n {
        let z = rz[n + j];
        h_next[j] = (F::ONE - z) * nn[j] + z * h_prev[j];
    }
}

/// The elementwise part of the reverse step for `n` units: `g_xp` (3n), the adjoint
/// `dhh` of `W_hh h` (3n) and the direct path `z * g` (n) of `dL/dh_prev`.
fn pointwise_vjp<F: Real>(
    n: usize,
    rec: &[F],
    g: &[F],
    g_xp: &mut [F],
    dhh: &mut [F],
    direct: &mut [F],
) {
    let (r, z, nn, hn, h_prev) = (
        &rec[..n],
        &rec[n..2 * n],
        &rec[2 * n..3 * n],
        &rec[3 * n..4 * n],
        &rec[4 * n..5 * n],
    );
    for j in 0..n {
        let gj = g[j];
        let da_n = gj * (F::ONE - z[j]) * dtanh(nn[j]);
        let da_r = da_n * hn[j] * dsig(r[j]);
        let da_z = gj * (h_prev[j] - nn[j]) * dsig(z[j]);
        g_xp[j] = da_r;
        g_xp[n + j] = da_z;
        g_xp[2 * n + j] = da_n;
        dhh[j] = da_r;
        dhh[n + j] = da_z;
        dhh[2 * n + j] = da_n * r[j];
        direct[j] = gj * z[j];
    }
}
