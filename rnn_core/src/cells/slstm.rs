//! sLSTM (Beck et al. 2024, "xLSTM"): the scalar-memory LSTM with exponential gating
//! and a normaliser, the vanilla pointwise step of NX-AI/xlstm. State `(h, c, n, m)`.
//!
//! `weight_ih (4H, I)`, `weight_hh (4H, H)` (the recurrent `R`), `bias (4H,)`, gate
//! order `(i, f, z, o)`: `[i_r f_r z_r o_r] = W x + R h_{t-1} + b`;
//! `log f~ = m_{t-1} + logsigmoid(f_r)`, `m_t = max(i_r, log f~)`,
//! `i' = exp(i_r - m_t)`, `f' = exp(log f~ - m_t)`,
//! `c_t = f' c_{t-1} + i' tanh(z_r)`, `n_t = f' n_{t-1} + i'`,
//! `h_t = sigmoid(o_r) c_t / n_t`.
//!
//! `m` is a stabiliser: `(c, n, m)` and `(c e^-d, n e^-d, m + d)` give the same `h`
//! now and later, so `h_t` and `dL/dh_t` do not depend on it (starting from
//! `c_0 = n_0 = 0`, not on `m_0` either). One of `i'`, `f'` is always 1.
//!
//! The Jacobian is exact and includes the `m` path: `max` is differentiated as the
//! branch taken, `d m_t = d i_r` when `i_r >= log f~` (ties go to the input gate) and
//! `d m_t = d log f~` otherwise; then `d i' = i' (d i_r - d m_t)`,
//! `d f' = f' (d log f~ - d m_t)`.
//!
//! Unlike the reference, `m_t` is the `max` also when `n_{t-1} = 0` (the reference
//! then takes `m_t = i_r`); both give the same `h`.

use super::{dsig, dtanh, Cell, Params, Weights};
use crate::error::{check_finite, Error, Result};
use crate::kernels::{gemv, sigmoid_inplace, tanh_inplace};
use crate::Real;

/// `ln sigmoid(x) = -ln(1 + e^-x)` without overflow or cancellation.
fn log_sigmoid(x: f64) -> f64 {
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}

/// sLSTM cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Slstm<F> {
    w: Weights<F>,
}

impl<F: Real> Slstm<F> {
    /// Build from named parameters `weight_ih (4H, I)`, `weight_hh (4H, H)` and
    /// optional `bias (4H,)` (zeros when absent).
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (w_ih, rows, input) = p.matrix("weight_ih")?;
        let (w_hh, rows_hh, hidden) = p.matrix("weight_hh")?;
        if hidden == 0 || rows_hh != 4 * hidden {
            return Err(Error::shape(
                "weight_hh",
                format!(
                    "shape (4H, H) with H >= 1 (the recurrent R of gates i, f, z, o): ({}, \
                     {hidden}) for hidden size {hidden}",
                    4 * hidden
                ),
                format!("({rows_hh}, {hidden})"),
            ));
        }
        if rows != rows_hh || input == 0 {
            return Err(Error::shape(
                "weight_ih",
                format!("shape ({rows_hh}, I) with I >= 1 (4H rows to match weight_hh)"),
                format!("({rows}, {input})"),
            ));
        }
        let bias = p.vector("bias", rows)?;
        if let Some(b) = &bias {
            check_finite("bias", b)?;
        }
        let w = Weights::new(4, hidden, input, w_ih, w_hh, bias, None)?;
        Ok(Box::new(Slstm { w }))
    }
}

/// `(i', f')` from the record's `e = exp(-|i_r - log f~|)` and branch flag.
#[inline(always)]
fn gates<F: Real>(e: F, branch: F) -> (F, F) {
    if branch > F::ZERO {
        (F::ONE, e)
    } else {
        (e, F::ONE)
    }
}

impl<F: Real> Cell<F> for Slstm<F> {
    fn kind(&self) -> &'static str {
        "slstm"
    }
    fn hidden(&self) -> usize {
        self.w.hidden()
    }
    fn input(&self) -> usize {
        self.w.input()
    }
    /// `(h, c, n, m)`: `4H`.
    fn state_dim(&self) -> usize {
        4 * self.w.hidden()
    }
    /// `[o | tanh z_r | 1 - sigmoid(f_r) | e | branch | c_{t-1} | n_{t-1}]` (H each), with
    /// `o = sigmoid(o_r)`, `e = exp(-|i_r - log f~|)` the gate that is not 1, and
    /// `branch = 1` where `m_t = i_r` (then `i' = 1`, `f' = e`), 0 where `m_t = log f~`
    /// (`i' = e`, `f' = 1`). `c_t`, `n_t` are recomputed from these; the reverse pass
    /// needs no states.
    fn record_dim(&self) -> usize {
        7 * self.w.hidden()
    }
    fn vjp_reads_state(&self) -> bool {
        false
    }
    fn scratch_dim(&self) -> usize {
        4 * self.w.hidden()
    }
    fn weights(&self) -> &Weights<F> {
        &self.w
    }
    fn proj_bias(&self) -> &[F] {
        &self.w.b_ih
    }

    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], scratch: &mut [F]) {
        let h = self.w.hidden();
        let raw = &mut scratch[..4 * h];
        gemv(&self.w.p_hh, &s_prev[..h], &xp[..4 * h], raw);
        let (c_prev, rest) = s_prev[h..4 * h].split_at(h);
        let (n_prev, m_prev) = rest.split_at(h);
        let (og, rest) = rec[..7 * h].split_at_mut(h);
        let (tz, rest) = rest.split_at_mut(h);
        let (sfn, rest) = rest.split_at_mut(h);
        let (e, rest) = rest.split_at_mut(h);
        let (branch, rest) = rest.split_at_mut(h);
        let (rc, rn) = rest.split_at_mut(h);
        og.copy_from_slice(&raw[3 * h..]);
        sigmoid_inplace(og);
        tz.copy_from_slice(&raw[2 * h..3 * h]);
        tanh_inplace(tz);
        rc.copy_from_slice(c_prev);
        rn.copy_from_slice(n_prev);
        let (hn, rest) = s_next[..4 * h].split_at_mut(h);
        let (cn, rest) = rest.split_at_mut(h);
        let (nn, mn) = rest.split_at_mut(h);
        for j in 0..h {
            let (ir, fr) = (raw[j], raw[h + j]);
            let frd = fr.to_f64();
            sfn[j] = F::from_f64(1.0 / (1.0 + frd.exp()));
            let lf = m_prev[j] + F::from_f64(log_sigmoid(frd));
            let (ip, fp) = if ir >= lf {
                branch[j] = F::ONE;
                mn[j] = ir;
                e[j] = (lf - ir).exp();
                (F::ONE, e[j])
            } else {
                branch[j] = F::ZERO;
                mn[j] = lf;
                e[j] = (ir - lf).exp();
                (e[j], F::ONE)
            };
            let c = fp * c_prev[j] + ip * tz[j];
            let n = fp * n_prev[j] + ip;
            cn[j] = c;
            nn[j] = n;
            hn[j] = og[j] * (c / n);
        }
    }

    /// With `g = (g_h, g_c, g_n, g_m)`: `g_c~ = g_c + g_h o / n_t`,
    /// `g_n~ = g_n - g_h o c_t / n_t^2`, `g_{o_r} = g_h (c_t / n_t) o (1 - o)`,
    /// `g_{f'} = g_c~ c_{t-1} + g_n~ n_{t-1}`, `g_{i'} = g_c~ tanh z_r + g_n~`,
    /// `g_{z_r} = g_c~ i' (1 - tanh^2 z_r)`; through `m_t`: `g_{i_r} = g_m - g_{f'} f'`,
    /// `g_{log f~} = g_{f'} f'` (input branch) or `g_{i_r} = g_{i'} i'`,
    /// `g_{log f~} = g_m - g_{i'} i'` (forget branch); `g_{f_r} = g_{log f~} (1 - sigmoid f_r)`;
    /// `g_prev = (R^T g_raw, g_c~ f', g_n~ f', g_{log f~})`.
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
        let (og, tz, sfn) = (&rec[..h], &rec[h..2 * h], &rec[2 * h..3 * h]);
        let (e, branch) = (&rec[3 * h..4 * h], &rec[4 * h..5 * h]);
        let (c_prev, n_prev) = (&rec[5 * h..6 * h], &rec[6 * h..7 * h]);
        let (gh, rest) = g_next[..4 * h].split_at(h);
        let (gc, rest) = rest.split_at(h);
        let (gn, gm) = rest.split_at(h);
        let (gh_prev, rest) = g_prev[..4 * h].split_at_mut(h);
        let (gc_prev, rest) = rest.split_at_mut(h);
        let (gn_prev, gm_prev) = rest.split_at_mut(h);
        for j in 0..h {
            let (ip, fp) = gates(e[j], branch[j]);
            let c = fp * c_prev[j] + ip * tz[j];
            let n = fp * n_prev[j] + ip;
            let inv = F::ONE / n;
            let hr = c * inv;
            let gho = gh[j] * og[j];
            let gct = gc[j] + gho * inv;
            let gnt = gn[j] - gho * hr * inv;
            let g_fp = gct * c_prev[j] + gnt * n_prev[j];
            let g_ip = gct * tz[j] + gnt;
            let (g_i, g_lf) = if branch[j] > F::ZERO {
                (gm[j] - g_fp * fp, g_fp * fp)
            } else {
                (g_ip * ip, gm[j] - g_ip * ip)
            };
            g_xp[j] = g_i;
            g_xp[h + j] = g_lf * sfn[j];
            g_xp[2 * h + j] = gct * ip * dtanh(tz[j]);
            g_xp[3 * h + j] = gh[j] * hr * dsig(og[j]);
            gc_prev[j] = gct * fp;
            gn_prev[j] = gnt * fp;
            gm_prev[j] = g_lf;
        }
        gemv(&self.w.p_hh_t, &g_xp[..4 * h], &self.w.zeros[..h], gh_prev);
    }

    /// With `u = (u_h, u_c, u_n, u_m)` and `d = R u_h`: `d log f~ = u_m + (1 - sigmoid f_r) d_f`,
    /// `d m_t` by the branch, `d i' = i' (d_i - d m_t)`, `d f' = f' (d log f~ - d m_t)`,
    /// `d c_t = d f' c_{t-1} + f' u_c + d i' tanh z_r + i' (1 - tanh^2 z_r) d_z`,
    /// `d n_t = d f' n_{t-1} + f' u_n + d i'`,
    /// `d h_t = (c_t / n_t) o (1 - o) d_o + (o / n_t) (d c_t - (c_t / n_t) d n_t)`.
    fn jvp(&self, rec: &[F], s_prev: &[F], u_prev: &[F], u_next: &mut [F], scratch: &mut [F]) {
        let zeros = &self.w.zeros[..4 * self.w.hidden()];
        self.jvp_xp(rec, s_prev, u_prev, zeros, u_next, scratch);
    }

    /// The projection enters beside the product: `d[i_r f_r z_r o_r] = R u_h + dxp`.
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
        let (og, tz, sfn) = (&rec[..h], &rec[h..2 * h], &rec[2 * h..3 * h]);
        let (e, branch) = (&rec[3 * h..4 * h], &rec[4 * h..5 * h]);
        let (c_prev, n_prev) = (&rec[5 * h..6 * h], &rec[6 * h..7 * h]);
        let d = &mut scratch[..4 * h];
        gemv(&self.w.p_hh, &u_prev[..h], &dxp[..4 * h], d);
        let (uc, un, um) = (
            &u_prev[h..2 * h],
            &u_prev[2 * h..3 * h],
            &u_prev[3 * h..4 * h],
        );
        let (uh_next, rest) = u_next[..4 * h].split_at_mut(h);
        let (uc_next, rest) = rest.split_at_mut(h);
        let (un_next, um_next) = rest.split_at_mut(h);
        for j in 0..h {
            let (ip, fp) = gates(e[j], branch[j]);
            let dlf = um[j] + sfn[j] * d[h + j];
            let (dm, dip, dfp) = if branch[j] > F::ZERO {
                (d[j], F::ZERO, fp * (dlf - d[j]))
            } else {
                (dlf, ip * (d[j] - dlf), F::ZERO)
            };
            let dc = dfp * c_prev[j] + fp * uc[j] + dip * tz[j] + ip * dtanh(tz[j]) * d[2 * h + j];
            let dn = dfp * n_prev[j] + fp * un[j] + dip;
            let c = fp * c_prev[j] + ip * tz[j];
            let n = fp * n_prev[j] + ip;
            let inv = F::ONE / n;
            let hr = c * inv;
            uh_next[j] = hr * dsig(og[j]) * d[3 * h + j] + og[j] * inv * (dc - hr * dn);
            uc_next[j] = dc;
            un_next[j] = dn;
            um_next[j] = dm;
        }
    }

    /// Layout `[weight_ih (4H x I) | weight_hh (4H x H) | bias (4H)]`, gate order `(i, f, z, o)`.
    fn param_len(&self) -> usize {
        let w = self.weights();
        w.rows() * (w.input() + w.hidden() + 1)
    }

    /// `dW_ih += g_raw x^T`, `dW_hh += g_raw h_{t-1}^T`, `dbias += g_raw` (`g_raw = g_xp`).
    fn accumulate_grads(
        &self,
        _rec: &[F],
        s_prev: &[F],
        x: &[F],
        _g_next: &[F],
        g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        let (rows, i, hd) = (self.w.rows(), self.w.input(), self.w.hidden());
        let h_prev = &s_prev[..hd];
        let (a_ih, rest) = acc.split_at_mut(rows * i);
        let (a_hh, a_b) = rest.split_at_mut(rows * hd);
        for r in 0..rows {
            let g = g_xp[r];
            a_b[r] += g;
            if g != F::ZERO {
                for (a, xk) in a_ih[r * i..(r + 1) * i].iter_mut().zip(x) {
                    *a += g * *xk;
                }
                for (a, hk) in a_hh[r * hd..(r + 1) * hd].iter_mut().zip(h_prev) {
                    *a += g * *hk;
                }
            }
        }
    }
}
