//! LSTM cell (PyTorch gate order i, f, g, o), state `(h, c)`.
//!
//! `[a_i a_f a_g a_o] = W_ih x + b_ih + W_hh h + b_hh`,
//! `i, f, o = sigmoid(a_.)`, `g = tanh(a_g)`, `c' = f c + i g`, `h' = o tanh(c')`.
//! The Jacobian is the full `2H x 2H` block matrix of `(h', c')` w.r.t. `(h, c)`.

use super::{dsig, dtanh, Cell, Params, SplitStep, Weights};
use crate::error::{Error, Result};
use crate::kernels::{gemv, sigmoid_inplace, tanh_inplace};
use crate::Real;

/// LSTM cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Lstm<F> {
    w: Weights<F>,
    bias: Vec<F>,
}

impl<F: Real> Lstm<F> {
    /// Build from named parameters (PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`).
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        Ok(Box::new(Lstm::new(p.dense(4, "lstm")?)?))
    }

    /// Build from validated weights (`G = 4`).
    pub fn new(w: Weights<F>) -> Result<Self> {
        if w.rows() != 4 * w.hidden() {
            return Err(Error::shape(
                "weight_hh",
                format!(
                    "{} rows (4 gates x hidden size {})",
                    4 * w.hidden(),
                    w.hidden()
                ),
                format!("{} rows", w.rows()),
            ));
        }
        let bias = w.b_ih.iter().zip(&w.b_hh).map(|(a, b)| *a + *b).collect();
        Ok(Lstm { w, bias })
    }
}

/// Split lanes: the gates of the own units from `prod = W_hh h + xp`; state `[h | c]`.
impl<F: Real> SplitStep<F> for Lstm<F> {
    fn state_blocks(&self) -> usize {
        2
    }
    fn record_per_unit(&self) -> usize {
        6
    }
    fn step_units(
        &self,
        n: usize,
        _xp: &[F],
        prod: &mut [F],
        st: &[F],
        next: &mut [F],
        rec: &mut [F],
    ) {
        rec[..4 * n].copy_from_slice(&prod[..4 * n]);
        let (hn, cn) = next[..2 * n].split_at_mut(n);
        pointwise(n, rec, &st[n..2 * n], hn, cn);
    }
    fn vjp_units(
        &self,
        n: usize,
        rec: &[F],
        g: &[F],
        gprod: &mut [F],
        _direct: &mut [F],
        g_rest: &mut [F],
        _scratch: &mut [F],
    ) {
        pointwise_vjp(n, rec, &g[..n], &g[n..2 * n], gprod, g_rest);
    }
}

impl<F: Real> Cell<F> for Lstm<F> {
    fn kind(&self) -> &'static str {
        "lstm"
    }
    fn hidden(&self) -> usize {
        self.w.hidden()
    }
    fn input(&self) -> usize {
        self.w.input()
    }
    fn state_dim(&self) -> usize {
        2 * self.w.hidden()
    }
    fn record_dim(&self) -> usize {
        // gates i, f, g, o, tanh(c') and c_prev (so the reverse pass needs no states).
        6 * self.w.hidden()
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
        &self.bias
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        gemv(&self.w.p_hh, &s_prev[..h], &xp[..4 * h], &mut rec[..4 * h]);
        let (h_next, c_next) = s_next.split_at_mut(h);
        pointwise(h, rec, &s_prev[h..2 * h], h_next, c_next);
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
        let (gh, gc) = g_next.split_at(h);
        let (gh_prev, gc_prev) = g_prev.split_at_mut(h);
        pointwise_vjp(h, rec, gh, gc, g_xp, gc_prev);
        gemv(&self.w.p_hh_t, &g_xp[..4 * h], &self.w.zeros[..h], gh_prev);
    }

    fn memory_dim(&self) -> usize {
        self.w.hidden()
    }

    /// `dL/dc_t = g_c + g_h o_t (1 - tanh^2 c_t)`.
    fn memory_adjoint(&self, rec: &[F], g: &[F], out: &mut [F]) {
        let h = self.w.hidden();
        let (go, tc) = (&rec[3 * h..4 * h], &rec[4 * h..5 * h]);
        for j in 0..h {
            out[j] = g[h + j] + g[j] * go[j] * dtanh(tc[j]);
        }
    }

    fn jvp(&self, rec: &[F], s_prev: &[F], u_prev: &[F], u_next: &mut [F], scratch: &mut [F]) {
        let zeros = &self.w.zeros[..4 * self.w.hidden()];
        self.jvp_xp(rec, s_prev, u_prev, zeros, u_next, scratch);
    }

    /// The projection enters beside the product: `d(pre) = W_hh u_h + dxp`.
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
        let (gi, gf, gg, go) = (
            &rec[..h],
            &rec[h..2 * h],
            &rec[2 * h..3 * h],
            &rec[3 * h..4 * h],
        );
        let tc = &rec[4 * h..5 * h];
        let c_prev = &s_prev[h..2 * h];
        let da = &mut scratch[..4 * h];
        gemv(&self.w.p_hh, &u_prev[..h], &dxp[..4 * h], da);
        let uc = &u_prev[h..2 * h];
        let (uh_next, uc_next) = u_next.split_at_mut(h);
        for j in 0..h {
            let di = dsig(gi[j]) * da[j];
            let df = dsig(gf[j]) * da[h + j];
            let dg = dtanh(gg[j]) * da[2 * h + j];
            let d_o = dsig(go[j]) * da[3 * h + j];
            let dc = df * c_prev[j] + gf[j] * uc[j] + di * gg[j] + gi[j] * dg;
            uc_next[j] = dc;
            uh_next[j] = d_o * tc[j] + go[j] * dtanh(tc[j]) * dc;
        }
    }
}

/// The elementwise part of a step for `n` units: `rec[..4n]` holds the gate
/// pre-activations `[a_i a_f a_g a_o]` on entry; on exit `rec` is the record
/// `[i f g o | tanh(c') | c_prev]` and `h_next`, `c_next` the new state.
fn pointwise<F: Real>(n: usize, rec: &mut [F], c_prev: &[F], h_next: &mut [F], c_next: &mut [F]) {
    let (gates, rest) = rec[..6 * n].split_at_mut(4 * n);
    let (tc, c_keep) = rest.split_at_mut(n);
    sigmoid_inplace(&mut gates[..2 * n]);
    tanh_inplace(&mut gates[2 * n..3 * n]);
    sigmoid_inplace(&mut gates[3 * n..]);
    c_keep.copy_from_slice(&c_prev[..n]);
    for j in 0..n {
        let c = gates[n + j] * c_prev[j] + gates[j] * gates[2 * n + j];
        c_next[j] = c;
        tc[j] = c;
    }
    tanh_inplace(tc);
    for j in 0..n {
        h_next[j] = gates[3 * n + j] * tc[j];
    }
}

/// The elementwise part of the reverse step for `n` units: the gate adjoints
/// `g_xp` (4n) and `gc_prev = f * dc` from the record and the adjoints `gh`, `gc`
/// of `(h', c')`. The recurrent part is `W_hh^T g_xp`, added by the caller.
fn pointwise_vjp<F: Real>(
    n: usize,
    rec: &[F],
    gh: &[F],
    gc: &[F],
    g_xp: &mut [F],
    gc_prev: &mut [F],
) {
    let (gi, gf, gg, go) = (
        &rec[..n],
        &rec[n..2 * n],
        &rec[2 * n..3 * n],
        &rec[3 * n..4 * n],
    );
    let (tc, c_prev) = (&rec[4 * n..5 * n], &rec[5 * n..6 * n]);
    for j in 0..n {
        let dc = gc[j] + gh[j] * go[j] * dtanh(tc[j]);
        g_xp[j] = dc * gg[j] * dsig(gi[j]);
        g_xp[n + j] = dc * c_prev[j] * dsig(gf[j]);
        g_xp[2 * n + j] = dc * gi[j] * dtanh(gg[j]);
        g_xp[3 * n + j] = gh[j] * tc[j] * dsig(go[j]);
        gc_prev[j] = dc * gf[j];
    }
}
