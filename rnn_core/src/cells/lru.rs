//! Linear recurrent unit (Orvieto et al. 2023): a diagonal complex recurrence.
//!
//! `h_t = lambda * h_{t-1} + gamma * (B x_t)` element-wise over `H` complex units,
//! with `lambda = exp(-exp(nu) + i exp(theta))` and the normalisation `gamma`.
//! The state is carried as the real vector `[Re h, Im h]` of length `2H`; the
//! input projection `[gamma Re(B); gamma Im(B)] x` is formed by the caller.

use super::{Cell, Params, Weights};
use crate::error::{check_finite, Error, Result};
use crate::Real;

/// LRU cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Lru<F> {
    w: Weights<F>,
    lam_re: Vec<F>,
    lam_im: Vec<F>,
    bias: Vec<F>,
}

impl<F: Real> Lru<F> {
    /// Build from named parameters: `weight_ih (2H, I)`, `lambda_re`, `lambda_im (H,)`.
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (w_ih, rows, input) = p.matrix("weight_ih")?;
        if rows % 2 != 0 {
            return Err(Error::shape(
                "weight_ih",
                "an even number of rows (2H)",
                format!("{rows}"),
            ));
        }
        let units = rows / 2;
        let lam_re = p.required_vector("lambda_re", units)?;
        let lam_im = p.required_vector("lambda_im", units)?;
        Ok(Box::new(Lru::new(units, input, w_ih, lam_re, lam_im)?))
    }

    /// `w_ih` is `(2H, I)`: `gamma * Re(B)` stacked over `gamma * Im(B)`;
    /// `lam_re`, `lam_im` the `H` eigenvalues.
    pub fn new(
        units: usize,
        input: usize,
        w_ih: Vec<F>,
        lam_re: Vec<F>,
        lam_im: Vec<F>,
    ) -> Result<Self> {
        for (name, v) in [("lambda_re", &lam_re), ("lambda_im", &lam_im)] {
            if v.len() != units {
                return Err(Error::shape(
                    name,
                    format!("shape ({units},)"),
                    format!("({},)", v.len()),
                ));
            }
            check_finite(name, v)?;
        }
        let w = Weights::input_only(2 * units, input, w_ih)?;
        Ok(Lru {
            bias: vec![F::ZERO; 2 * units],
            w,
            lam_re,
            lam_im,
        })
    }
}

impl<F: Real> Cell<F> for Lru<F> {
    fn kind(&self) -> &'static str {
        "lru"
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
        0
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
        &self.bias
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], _rec: &mut [F], _scratch: &mut [F]) {
        let n = self.lam_re.len();
        let (re, im) = s_prev[..2 * n].split_at(n);
        let (nre, nim) = s_next[..2 * n].split_at_mut(n);
        for j in 0..n {
            let (a, b) = (self.lam_re[j], self.lam_im[j]);
            nre[j] = a * re[j] - b * im[j] + xp[j];
            nim[j] = a * im[j] + b * re[j] + xp[n + j];
        }
    }

    fn vjp(
        &self,
        _rec: &[F],
        _s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        _scratch: &mut [F],
    ) {
        // The real Jacobian is [[a, -b], [b, a]] per unit; its transpose multiplies by conj(lambda).
        let n = self.lam_re.len();
        let (gr, gi) = g_next[..2 * n].split_at(n);
        let (pr, pi) = g_prev[..2 * n].split_at_mut(n);
        for j in 0..n {
            let (a, b) = (self.lam_re[j], self.lam_im[j]);
            pr[j] = a * gr[j] + b * gi[j];
            pi[j] = a * gi[j] - b * gr[j];
        }
        g_xp[..2 * n].copy_from_slice(&g_next[..2 * n]);
    }

    /// Layout `[W_ih (2H x I) | lambda_re (H) | lambda_im (H)]`.
    fn param_len(&self) -> usize {
        let n = self.lam_re.len();
        2 * n * self.w.input() + 2 * n
    }

    fn accumulate_grads(
        &self,
        _rec: &[F],
        s_prev: &[F],
        x: &[F],
        g_next: &[F],
        _g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        let n = self.lam_re.len();
        let i = self.w.input();
        let (a_w, a_lam) = acc.split_at_mut(2 * n * i);
        for r in 0..2 * n {
            let g = g_next[r];
            for (a, xk) in a_w[r * i..(r + 1) * i].iter_mut().zip(x) {
                *a += g * *xk;
            }
        }
        let (re, im) = s_prev[..2 * n].split_at(n);
        let (gr, gi) = g_next[..2 * n].split_at(n);
        for j in 0..n {
            a_lam[j] += gr[j] * re[j] + gi[j] * im[j];
            a_lam[n + j] += gi[j] * re[j] - gr[j] * im[j];
        }
    }

    fn jvp(&self, _rec: &[F], _s_prev: &[F], u_prev: &[F], u_next: &mut [F], _scratch: &mut [F]) {
        let n = self.lam_re.len();
        let (ur, ui) = u_prev[..2 * n].split_at(n);
        let (nr, ni) = u_next[..2 * n].split_at_mut(n);
        for j in 0..n {
            let (a, b) = (self.lam_re[j], self.lam_im[j]);
            nr[j] = a * ur[j] - b * ui[j];
            ni[j] = a * ui[j] + b * ur[j];
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
}
