//! RG-LRU (De et al. 2024, "Griffin"; the recurrent layer of RecurrentGemma): a
//! diagonal linear recurrence whose decay and input gates read only the input.
//!
//! Named arrays `weight_a (H, H)`, `bias_a (H,)`, `weight_x (H, H)`, `bias_x (H,)`,
//! `a_param (H,)`; the input size equals `H` (the layer gates the very vector it feeds in):
//! `gate_a = sigmoid(W_a x + b_a)`, `gate_x = sigmoid(W_x x + b_x)`,
//! `log a = -8 gate_a softplus(a_param)`, `a = exp(log a)`,
//! `h_t = a h_{t-1} + sqrt(1 - a^2) (gate_x x_t)`.
//! The step Jacobian is `diag(a)`.
//!
//! The step reads `x_t` itself besides its two projections, so the input projection
//! has `3H` rows `[W_a; W_x; I]` (bias `[b_a; b_x; 0]`): `xp = [a_a, a_x, x_t]`, and
//! `W_ih^T g_xp` is the whole `dL/dx_t`, the direct path through `gate_x x_t` included.
//! The parameter gradient is still laid out by the named arrays (no identity rows).
//!
//! `sqrt(1 - a^2)` is formed as `sqrt(-expm1(2 log a))`, exact for `a` near 1. Its
//! derivative `d/d log a = -a^2 / sqrt(1 - a^2)` is unbounded as `a -> 1`; the product
//! with `d log a / d(a_a, a_param)` tends to 0 there, which is what the step uses when
//! `sqrt(1 - a^2)` rounds to 0 (possible only when `gate_a` or `softplus(a_param)`
//! underflows). Unlike RecurrentGemma's training code, the derivative is not clipped.

use super::{Cell, Params, Weights};
use crate::error::{check_finite, Error, Result};
use crate::kernels::{exp_nonpos_inplace, expm1_nonpos_inplace, sigmoid_inplace};
use crate::Real;

/// The fixed scale `c = 8` of `log a = -c gate_a softplus(a_param)`.
const C: f64 = 8.0;

/// `ln(1 + e^x)` without overflow or cancellation.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// RG-LRU cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct RgLru<F> {
    /// Projection rows `[W_a; W_x; I]`, bias `[b_a; b_x; 0]`.
    w: Weights<F>,
    /// `-8 softplus(a_param)`: `log a = log_a_scale * gate_a`.
    log_a_scale: Vec<F>,
    /// `-8 sigmoid(a_param)`: `d log a / d a_param = dscale * gate_a`.
    dscale: Vec<F>,
}

impl<F: Real> RgLru<F> {
    /// Build from named parameters `weight_a (H, H)`, optional `bias_a (H,)`,
    /// `weight_x (H, H)`, optional `bias_x (H,)` and `a_param (H,)`.
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (w_a, h, input) = p.matrix("weight_a")?;
        if h == 0 || input == 0 {
            return Err(Error::shape(
                "weight_a",
                "shape (H, H) with H >= 1",
                format!("({h}, {input})"),
            ));
        }
        if input != h {
            return Err(Error::shape(
                "weight_a",
                format!(
                    "shape ({h}, {h}): the RG-LRU's input size equals its hidden size H = {h} \
                     (it gates x_t itself)"
                ),
                format!("({h}, {input}), input size {input}"),
            ));
        }
        let (w_x, hx, ix) = p.matrix("weight_x")?;
        if (hx, ix) != (h, h) {
            return Err(Error::shape(
                "weight_x",
                format!(
                    "shape ({h}, {h}) like weight_a (the RG-LRU's input size equals its \
                     hidden size H = {h})"
                ),
                format!("({hx}, {ix}), input size {ix}"),
            ));
        }
        check_finite("weight_a", &w_a)?;
        check_finite("weight_x", &w_x)?;
        let b_a = p.vector("bias_a", h)?.unwrap_or_else(|| vec![F::ZERO; h]);
        let b_x = p.vector("bias_x", h)?.unwrap_or_else(|| vec![F::ZERO; h]);
        check_finite("bias_a", &b_a)?;
        check_finite("bias_x", &b_x)?;
        let lam = p.required_vector("a_param", h)?;
        check_finite("a_param", &lam)?;
        Ok(Box::new(RgLru::new(h, &w_a, &b_a, &w_x, &b_x, &lam)?))
    }

    /// From validated arrays: `w_a`, `w_x` `(H, H)` row-major, `b_a`, `b_x`, `lam` `(H,)`.
    fn new(h: usize, w_a: &[F], b_a: &[F], w_x: &[F], b_x: &[F], lam: &[F]) -> Result<Self> {
        let mut w_ih = Vec::with_capacity(3 * h * h);
        w_ih.extend_from_slice(w_a);
        w_ih.extend_from_slice(w_x);
        for r in 0..h {
            w_ih.extend((0..h).map(|c| if c == r { F::ONE } else { F::ZERO }));
        }
        let mut bias = Vec::with_capacity(3 * h);
        bias.extend_from_slice(b_a);
        bias.extend_from_slice(b_x);
        bias.resize(3 * h, F::ZERO);
        let w = Weights::projection(h, 3 * h, h, w_ih, Some(bias))?;
        let log_a_scale = lam
            .iter()
            .map(|l| F::from_f64(-C * softplus(l.to_f64())))
            .collect();
        let dscale = lam
            .iter()
            .map(|l| F::from_f64(-C / (1.0 + (-l.to_f64()).exp())))
            .collect();
        Ok(RgLru {
            w,
            log_a_scale,
            dscale,
        })
    }
}

impl<F: Real> Cell<F> for RgLru<F> {
    fn kind(&self) -> &'static str {
        "rglru"
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
    /// `[a | k_a | k_lam | k_ax | k_x]` (H each), the coefficients of the reverse step:
    /// with `p = d h_t / d log a = a h_{t-1} - a^2 gate_x x / sqrt(1 - a^2)`,
    /// `k_lam = p gate_a`, `k_a = k_lam (1 - gate_a) (-8 softplus(a_param))`,
    /// `k_ax = sqrt(1 - a^2) x gate_x (1 - gate_x)`, `k_x = sqrt(1 - a^2) gate_x`.
    /// The reverse pass needs no states.
    fn record_dim(&self) -> usize {
        5 * self.w.hidden()
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
        let (ra, rest) = rec[..5 * h].split_at_mut(h);
        let (gates, rest) = rest.split_at_mut(2 * h);
        let (k_ax, k_x) = rest.split_at_mut(h);
        // gates = [gate_a, gate_x] for now; rewritten to [k_a, k_lam] below.
        gates.copy_from_slice(&xp[..2 * h]);
        sigmoid_inplace(gates);
        // a = exp(log a) into ra and beta = sqrt(1 - a^2) = sqrt(-expm1(2 log a)) into
        // k_x (log a <= 0), vectorised over the units before the elementwise update.
        for j in 0..h {
            let log_a = self.log_a_scale[j] * gates[j];
            ra[j] = log_a;
            k_x[j] = log_a + log_a;
        }
        exp_nonpos_inplace(ra);
        expm1_nonpos_inplace(k_x);
        for j in 0..h {
            let (ga, gx, x) = (gates[j], gates[h + j], xp[2 * h + j]);
            let a = ra[j];
            let beta = (-k_x[j]).max(F::ZERO).sqrt();
            let hp = s_prev[j];
            s_next[j] = a * hp + beta * (gx * x);
            // p = d h_t / d log a; the sqrt term's limit is 0 where beta rounds to 0.
            let p = if beta > F::ZERO {
                a * hp - a * a * gx * x / beta
            } else {
                a * hp
            };
            let k_lam = p * ga;
            ra[j] = a;
            gates[j] = k_lam * (F::ONE - ga) * self.log_a_scale[j];
            gates[h + j] = k_lam;
            k_ax[j] = beta * x * gx * (F::ONE - gx);
            k_x[j] = beta * gx;
        }
    }

    /// `g_prev = a g`, `g_xp = [k_a g, k_ax g, k_x g]` (see [`Cell::record_dim`]).
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
        let (a, k_a) = (&rec[..h], &rec[h..2 * h]);
        let (k_ax, k_x) = (&rec[3 * h..4 * h], &rec[4 * h..5 * h]);
        for j in 0..h {
            let g = g_next[j];
            g_prev[j] = a[j] * g;
            g_xp[j] = k_a[j] * g;
            g_xp[h + j] = k_ax[j] * g;
            g_xp[2 * h + j] = k_x[j] * g;
        }
    }

    /// `u_next = a u_prev`.
    fn jvp(&self, rec: &[F], _s_prev: &[F], u_prev: &[F], u_next: &mut [F], _scratch: &mut [F]) {
        let h = self.w.hidden();
        for j in 0..h {
            u_next[j] = rec[j] * u_prev[j];
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

    /// Layout `[weight_a (H x H) | bias_a (H) | weight_x (H x H) | bias_x (H) | a_param (H)]`.
    fn param_len(&self) -> usize {
        let h = self.w.hidden();
        2 * h * h + 3 * h
    }

    /// `dW_a += g_{a_a} x^T`, `db_a += g_{a_a}`, `dW_x += g_{a_x} x^T`, `db_x += g_{a_x}`,
    /// `d a_param += g k_lam (-8 sigmoid(a_param))`.
    fn accumulate_grads(
        &self,
        rec: &[F],
        _s_prev: &[F],
        x: &[F],
        g_next: &[F],
        g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        let h = self.w.hidden();
        let (a_wa, rest) = acc.split_at_mut(h * h);
        let (a_ba, rest) = rest.split_at_mut(h);
        let (a_wx, rest) = rest.split_at_mut(h * h);
        let (a_bx, a_lam) = rest.split_at_mut(h);
        for r in 0..h {
            let (ga, gx) = (g_xp[r], g_xp[h + r]);
            a_ba[r] += ga;
            a_bx[r] += gx;
            for ((wa, wx), xk) in a_wa[r * h..(r + 1) * h]
                .iter_mut()
                .zip(&mut a_wx[r * h..(r + 1) * h])
                .zip(x)
            {
                *wa += ga * *xk;
                *wx += gx * *xk;
            }
            a_lam[r] += g_next[r] * rec[2 * h + r] * self.dscale[r];
        }
    }
}
