//! Elman (vanilla) RNN with optional residual connection and layer norm.
//!
//! `a = W_ih x + b_ih + W_hh h + b_hh`, `y = LN(a)` (or `a`),
//! `h' = phi(y)`, or with a residual weight `alpha`: `h' = h + alpha phi(y)`.

use super::{dense_grads, Cell, Params, SplitStep, Weights};
use crate::error::{check_finite, Error, Result};
use crate::kernels::{gemv, mul_into, tanh_inplace, tanh_slope};
use crate::Real;

/// The element-wise nonlinearity `phi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `tanh`.
    Tanh,
    /// `max(0, x)`; derivative 1 for x > 0, else 0 (PyTorch's convention at 0).
    Relu,
    /// Identity.
    Linear,
}

impl Nonlinearity {
    /// Parse "tanh", "relu" or "linear".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "tanh" => Ok(Nonlinearity::Tanh),
            "relu" => Ok(Nonlinearity::Relu),
            "linear" => Ok(Nonlinearity::Linear),
            other => Err(Error::value(
                "nonlinearity",
                "one of 'tanh', 'relu', 'linear'",
                format!("'{other}'"),
            )),
        }
    }
}

/// Layer normalisation of the pre-activation (PyTorch `LayerNorm(H)`):
/// `y = gamma (a - mean(a)) / sqrt(var(a) + eps) + beta` with the biased variance.
#[derive(Clone, Debug)]
pub struct LayerNorm<F> {
    /// `gamma`, `(H,)`.
    pub weight: Vec<F>,
    /// `beta`, `(H,)`.
    pub bias: Vec<F>,
    /// Added to the variance (PyTorch's default is 1e-5).
    pub eps: f64,
}

/// Elman cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Elman<F> {
    w: Weights<F>,
    bias: Vec<F>,
    nl: Nonlinearity,
    residual: Option<F>,
    ln: Option<LayerNorm<F>>,
}

impl<F: Real> Elman<F> {
    /// Build from validated weights (`G = 1`).
    /// Build from named parameters: the dense weights, `nonlinearity` ("tanh" by
    /// default), `residual` (alpha), `ln_weight`, `ln_bias` and `ln_eps` (layer norm).
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let w = p.dense(1, "elman")?;
        let hidden = w.hidden();
        let nl = Nonlinearity::parse(p.get_string("nonlinearity").unwrap_or("tanh"))?;
        let ln = match p.vector("ln_weight", hidden)? {
            None => None,
            Some(weight) => Some(LayerNorm {
                weight,
                bias: p
                    .vector("ln_bias", hidden)?
                    .unwrap_or_else(|| vec![F::ZERO; hidden]),
                eps: p.get_number("ln_eps").unwrap_or(1e-5),
            }),
        };
        Ok(Box::new(Elman::new(w, nl, p.get_number("residual"), ln)?))
    }

    /// Build from validated weights (`G = 1`) and options.
    pub fn new(
        w: Weights<F>,
        nl: Nonlinearity,
        residual: Option<f64>,
        ln: Option<LayerNorm<F>>,
    ) -> Result<Self> {
        if w.rows() != w.hidden() {
            return Err(Error::shape(
                "weight_hh",
                format!("{0} rows for an Elman cell of hidden size {0}", w.hidden()),
                format!("{} rows", w.rows()),
            ));
        }
        if let Some(a) = residual {
            if !a.is_finite() {
                return Err(Error::value("residual", "a finite number", format!("{a}")));
            }
        }
        if let Some(ln) = &ln {
            let h = w.hidden();
            for (name, v) in [("ln_weight", &ln.weight), ("ln_bias", &ln.bias)] {
                if v.len() != h {
                    return Err(Error::shape(
                        name,
                        format!("shape ({h},)"),
                        format!("({},)", v.len()),
                    ));
                }
                check_finite(name, v)?;
            }
            if !(ln.eps > 0.0 && ln.eps.is_finite()) {
                return Err(Error::value(
                    "ln_eps",
                    "a positive finite number",
                    format!("{}", ln.eps),
                ));
            }
        }
        let bias = w.b_ih.iter().zip(&w.b_hh).map(|(a, b)| *a + *b).collect();
        Ok(Elman {
            w,
            bias,
            nl,
            residual: residual.map(F::from_f64),
            ln,
        })
    }
}

/// `y = phi(y)` in place and its slope `d = phi'(a)` (from the output for tanh).
#[inline]
fn activate<F: Real>(nl: Nonlinearity, y: &mut [F], d: &mut [F]) {
    match nl {
        Nonlinearity::Tanh => {
            tanh_inplace(y);
            tanh_slope(d, y);
        }
        Nonlinearity::Relu => {
            for (yj, dj) in y.iter_mut().zip(d.iter_mut()) {
                let pos = *yj > F::ZERO;
                *dj = if pos { F::ONE } else { F::ZERO };
                *yj = if pos { *yj } else { F::ZERO };
            }
        }
        Nonlinearity::Linear => d.fill(F::ONE),
    }
}

/// Centre-and-scale Jacobian of layer norm applied to `d`, in place:
/// `d <- (d - mean(d) - z mean(z d)) / sigma`.
#[inline]
fn ln_jacobian<F: Real>(z: &[F], inv_sigma: F, d: &mut [F]) {
    let n = F::from_f64(d.len() as f64);
    let mut m1 = F::ZERO;
    let mut m2 = F::ZERO;
    for (di, zi) in d.iter().zip(z) {
        m1 += *di;
        m2 += *di * *zi;
    }
    m1 = m1 / n;
    m2 = m2 / n;
    for (di, zi) in d.iter_mut().zip(z) {
        *di = (*di - m1 - *zi * m2) * inv_sigma;
    }
}

/// Split lanes: `h_t = phi(prod)` unit by unit, the record is the slope `phi'`.
impl<F: Real> SplitStep<F> for Elman<F> {
    fn record_per_unit(&self) -> usize {
        1
    }
    fn step_units(
        &self,
        n: usize,
        _xp: &[F],
        prod: &mut [F],
        _st: &[F],
        next: &mut [F],
        rec: &mut [F],
    ) {
        next[..n].copy_from_slice(&prod[..n]);
        activate(self.nl, &mut next[..n], &mut rec[..n]);
    }
    fn vjp_units(
        &self,
        n: usize,
        rec: &[F],
        g: &[F],
        gprod: &mut [F],
        _direct: &mut [F],
        _g_rest: &mut [F],
        _scratch: &mut [F],
    ) {
        mul_into(&mut gprod[..n], &rec[..n], &g[..n]);
    }
}

impl<F: Real> Cell<F> for Elman<F> {
    fn kind(&self) -> &'static str {
        "elman"
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
        // phi'(y), then with layer norm the normalised z and 1/sigma.
        let h = self.w.hidden();
        if self.ln.is_some() {
            2 * h + 1
        } else {
            h
        }
    }
    fn vjp_reads_state(&self) -> bool {
        false
    }
    fn split(&self) -> Option<&dyn SplitStep<F>> {
        // Layer norm couples all units and a residual needs the whole h: one thread.
        (self.ln.is_none() && self.residual.is_none()).then_some(self as &dyn SplitStep<F>)
    }
    fn scratch_dim(&self) -> usize {
        self.w.hidden()
    }
    fn weights(&self) -> &Weights<F> {
        &self.w
    }
    fn proj_bias(&self) -> &[F] {
        &self.bias
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], scratch: &mut [F]) {
        let h = self.w.hidden();
        if self.ln.is_none() && self.residual.is_none() {
            // The plain cell: product into the new state, activation, slope.
            let y = &mut s_next[..h];
            gemv(&self.w.p_hh, &s_prev[..h], &xp[..h], y);
            activate(self.nl, y, &mut rec[..h]);
            return;
        }
        let y = &mut scratch[..h];
        gemv(&self.w.p_hh, &s_prev[..h], &xp[..h], y);
        if let Some(ln) = &self.ln {
            let n = h as f64;
            let mean = y.iter().map(|v| v.to_f64()).sum::<f64>() / n;
            let var = y.iter().map(|v| (v.to_f64() - mean).powi(2)).sum::<f64>() / n;
            let inv = 1.0 / (var + ln.eps).sqrt();
            let (z, inv_slot) = rec[h..].split_at_mut(h);
            for j in 0..h {
                let zj = F::from_f64((y[j].to_f64() - mean) * inv);
                z[j] = zj;
                y[j] = ln.weight[j] * zj + ln.bias[j];
            }
            inv_slot[0] = F::from_f64(inv);
        }
        activate(self.nl, y, &mut rec[..h]);
        match self.residual {
            None => s_next[..h].copy_from_slice(y),
            Some(alpha) => {
                for j in 0..h {
                    s_next[j] = s_prev[j] + alpha * y[j];
                }
            }
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
        let alpha = self.residual.unwrap_or(F::ONE);
        let d = &rec[..h];
        if self.residual.is_none() {
            mul_into(&mut g_xp[..h], d, &g_next[..h]);
        } else {
            for j in 0..h {
                g_xp[j] = d[j] * g_next[j] * alpha;
            }
        }
        if let Some(ln) = &self.ln {
            for j in 0..h {
                g_xp[j] *= ln.weight[j];
            }
            ln_jacobian(&rec[h..2 * h], rec[2 * h], &mut g_xp[..h]);
        }
        let skip = if self.residual.is_some() {
            &g_next[..h]
        } else {
            &self.w.zeros[..h]
        };
        gemv(&self.w.p_hh_t, &g_xp[..h], skip, &mut g_prev[..h]);
    }

    fn param_len(&self) -> usize {
        let h = self.w.hidden();
        let extra = if self.ln.is_some() { 2 * h } else { 0 };
        h * (self.w.input() + h + 2) + extra
    }

    /// Layout `[W_ih | W_hh | b_ih | b_hh]`, then `[ln_weight | ln_bias]` with layer norm.
    fn accumulate_grads(
        &self,
        rec: &[F],
        s_prev: &[F],
        x: &[F],
        g_next: &[F],
        g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        let h = self.w.hidden();
        dense_grads(&self.w, x, &s_prev[..h], g_xp, g_xp, acc);
        if self.ln.is_some() {
            let base = h * (self.w.input() + h + 2);
            let alpha = self.residual.unwrap_or(F::ONE);
            let (d, z) = (&rec[..h], &rec[h..2 * h]);
            for j in 0..h {
                let dy = alpha * d[j] * g_next[j];
                acc[base + j] += dy * z[j];
                acc[base + h + j] += dy;
            }
        }
    }

    fn jvp(&self, rec: &[F], s_prev: &[F], u_prev: &[F], u_next: &mut [F], scratch: &mut [F]) {
        let zeros = &self.w.zeros[..self.w.hidden()];
        self.jvp_xp(rec, s_prev, u_prev, zeros, u_next, scratch);
    }

    /// The projection enters beside the product: `d(pre) = W_hh u + dxp`.
    fn jvp_xp(
        &self,
        rec: &[F],
        _s_prev: &[F],
        u_prev: &[F],
        dxp: &[F],
        u_next: &mut [F],
        scratch: &mut [F],
    ) {
        let h = self.w.hidden();
        let da = &mut scratch[..h];
        gemv(&self.w.p_hh, &u_prev[..h], &dxp[..h], da);
        if let Some(ln) = &self.ln {
            ln_jacobian(&rec[h..2 * h], rec[2 * h], da);
            for j in 0..h {
                da[j] *= ln.weight[j];
            }
        }
        let d = &rec[..h];
        match self.residual {
            None => {
                for j in 0..h {
                    u_next[j] = d[j] * da[j];
                }
            }
            Some(alpha) => {
                for j in 0..h {
                    u_next[j] = u_prev[j] + alpha * d[j] * da[j];
                }
            }
        }
    }
}
