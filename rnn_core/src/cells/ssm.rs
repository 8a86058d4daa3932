//! Mamba's selective state-space recurrence (S6; Gu & Dao 2023, `selective_scan_ref`
//! of `mamba_ssm` with `delta_softplus`, the `x_proj` / `dt_proj` of a Mamba block).
//!
//! Named arrays `x_proj_weight (R + 2N, D)`, `dt_proj_weight (D, R)`,
//! `dt_proj_bias (D,)`, `A_log (D, N)` and `D (D,)` (the array named `D` is the skip
//! weight; `D` also denotes the channel count, which is the input size). With input
//! `u_t` (`D`):
//!
//! - `[delta; B_t; C_t] = x_proj_weight u_t` (rows: `R`, then `N`, then `N`),
//! - `z_t = dt_proj_weight delta + dt_proj_bias`, `Delta_t = softplus(z_t)` (`D`),
//! - `A = -exp(A_log)` (`D x N`),
//! - `h_t[d, n] = exp(Delta_t[d] A[d, n]) h_{t-1}[d, n] + Delta_t[d] B_t[n] u_t[d]`,
//! - output `y_t[d] = sum_n C_t[n] h_t[d, n] + D[d] u_t[d]`.
//!
//! The state `h` (`D x N`) is flattened row-major (`d` major): `s[d N + n]`. The
//! output is not a part of the state, so the cell has an output map
//! ([`Cell::output`]); [`Cell::hidden`] is `D`, the length of `y_t`, and the
//! adjoint reported by `grad_norms(wrt = "state")` is the whole `D N` state.
//! The step Jacobian is `diag(exp(Delta_t[d] A[d, n]))`.
//!
//! Like the RG-LRU, the step reads `u_t` itself: the input projection has
//! `R + 2N + D` rows `[x_proj_weight; I]` (zero bias), so `xp = [delta, B, C, u]` and
//! `W_ih^T g_xp` is the whole `dL/du_t`, direct paths included. The parameter
//! gradient is laid out by the named arrays, in the order above (no identity rows).

use super::{Cell, Params, Weights};
use crate::error::{check_finite, Error, Result};
use crate::kernels::exp_nonpos_inplace;
use crate::Real;

/// `ln(1 + e^z) = max(z, 0) + ln(1 + e^{-|z|})`, without overflow or cancellation.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// `1 / (1 + e^{-z})`, the derivative of [`softplus`].
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Selective SSM (S6) cell; see the module docs for the equations.
#[derive(Clone, Debug)]
pub struct Ssm<F> {
    /// Projection rows `[x_proj_weight; I_D]`, zero bias: `xp = [delta, B, C, u]`.
    w: Weights<F>,
    /// Channels `D`.
    d: usize,
    /// State size per channel `N`.
    n: usize,
    /// Rank `R` of the step-size projection.
    r: usize,
    /// `dt_proj_weight (D, R)` row-major.
    dt_w: Vec<F>,
    /// `dt_proj_bias (D,)`.
    dt_b: Vec<F>,
    /// `A = -exp(A_log)` `(D, N)` row-major.
    a: Vec<F>,
    /// The skip weight, the array named `D` `(D,)`.
    skip: Vec<F>,
}

impl<F: Real> Ssm<F> {
    /// Build from named parameters `x_proj_weight (R + 2N, D)`, `dt_proj_weight (D, R)`,
    /// `dt_proj_bias (D,)`, `A_log (D, N)` and `D (D,)`, all required.
    pub fn build(p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
        let (a_log, d, n) = p.matrix("A_log")?;
        if d == 0 || n == 0 {
            return Err(Error::shape(
                "A_log",
                "shape (D, N) with D >= 1 channels and N >= 1 states per channel",
                format!("({d}, {n})"),
            ));
        }
        let (dt_w, dd, r) = p.matrix("dt_proj_weight")?;
        if dd != d || r == 0 {
            return Err(Error::shape(
                "dt_proj_weight",
                format!("shape ({d}, R) with R >= 1 (D = {d} rows like A_log)"),
                format!("({dd}, {r})"),
            ));
        }
        let (x_proj, rows, input) = p.matrix("x_proj_weight")?;
        if rows != r + 2 * n {
            return Err(Error::shape(
                "x_proj_weight",
                format!(
                    "R + 2N = {} rows (R = {r}, the columns of dt_proj_weight; N = {n}, the \
                     columns of A_log)",
                    r + 2 * n
                ),
                format!("({rows}, {input}), {rows} rows"),
            ));
        }
        if input != d {
            return Err(Error::shape(
                "x_proj_weight",
                format!("D = {d} columns: the SSM's input size is its channel count (A_log rows)"),
                format!("({rows}, {input}), input size {input}"),
            ));
        }
        let dt_b = p.required_vector("dt_proj_bias", d)?;
        let skip = p.required_vector("D", d)?;
        check_finite("x_proj_weight", &x_proj)?;
        check_finite("dt_proj_weight", &dt_w)?;
        check_finite("dt_proj_bias", &dt_b)?;
        check_finite("A_log", &a_log)?;
        check_finite("D", &skip)?;
        let a: Vec<F> = a_log
            .iter()
            .map(|v| F::from_f64(-v.to_f64().exp()))
            .collect();
        if a.iter().any(|v| !v.is_finite()) {
            return Err(Error::value(
                "A_log",
                format!("values whose exp fits the {} range", F::NAME),
                "an entry with exp(A_log) = inf",
            ));
        }
        let rows = r + 2 * n + d;
        let mut w_ih = Vec::with_capacity(rows * d);
        w_ih.extend_from_slice(&x_proj);
        for k in 0..d {
            w_ih.extend((0..d).map(|c| if c == k { F::ONE } else { F::ZERO }));
        }
        let w = Weights::projection(d, rows, d, w_ih, None)?;
        Ok(Box::new(Ssm {
            w,
            d,
            n,
            r,
            dt_w,
            dt_b,
            a,
            skip,
        }))
    }

    /// Offsets in the record `[Delta (D) | sigmoid(z) (D) | delta (R) | B (N) | C (N) | u (D)]`.
    fn rec_parts<'a>(&self, rec: &'a [F]) -> SsmRec<'a, F> {
        let (d, n, r) = (self.d, self.n, self.r);
        let (delta_t, rest) = rec.split_at(d);
        let (sig, rest) = rest.split_at(d);
        let (low, rest) = rest.split_at(r);
        let (b, rest) = rest.split_at(n);
        let (c, rest) = rest.split_at(n);
        SsmRec {
            delta_t,
            sig,
            low,
            b,
            c,
            u: &rest[..d],
        }
    }

    /// `dL/dz_t[d] = sigmoid(z_t[d]) sum_n g[d, n] (A[d, n] a[d, n] h_{t-1}[d, n] + B_t[n] u_t[d])`
    /// into `gz`, with `a = exp(Delta A)`; also `g_prev = a g` when given.
    fn reverse_core(
        &self,
        rc: &SsmRec<'_, F>,
        s_prev: &[F],
        g: &[F],
        g_prev: Option<&mut [F]>,
        gz: &mut [F],
        decay: &mut [F],
    ) {
        let n = self.n;
        let decays = &mut *decay;
        self.decays(rc.delta_t, decays);
        for dd in 0..self.d {
            let ud = rc.u[dd];
            let mut g_delta = F::ZERO;
            for k in 0..n {
                let j = dd * n + k;
                let gj = g[j];
                g_delta += gj * (self.a[j] * decays[j] * s_prev[j] + rc.b[k] * ud);
            }
            gz[dd] = g_delta * rc.sig[dd];
        }
        if let Some(gp) = g_prev {
            for ((p, d), gj) in gp.iter_mut().zip(decays.iter()).zip(g) {
                *p = *d * *gj;
            }
        }
    }

    /// `out[d N + n] = exp(Delta[d] A[d, n])` for every state entry (vectorised).
    fn decays(&self, delta_t: &[F], out: &mut [F]) {
        let n = self.n;
        for (dd, row) in out[..self.d * n].chunks_exact_mut(n).enumerate() {
            let dt = delta_t[dd];
            for (o, ad) in row.iter_mut().zip(&self.a[dd * n..(dd + 1) * n]) {
                *o = dt * *ad;
            }
        }
        exp_nonpos_inplace(&mut out[..self.d * n]);
    }
}

/// The record of one step, split into its parts.
struct SsmRec<'a, F> {
    /// `Delta_t = softplus(z_t)` (`D`).
    delta_t: &'a [F],
    /// `sigmoid(z_t)` (`D`).
    sig: &'a [F],
    /// The low-rank step input `delta` (`R`).
    low: &'a [F],
    /// `B_t` (`N`).
    b: &'a [F],
    /// `C_t` (`N`).
    c: &'a [F],
    /// `u_t` (`D`).
    u: &'a [F],
}

impl<F: Real> Cell<F> for Ssm<F> {
    fn kind(&self) -> &'static str {
        "ssm"
    }
    /// The channel count `D`: the length of the output `y_t` (not of the state).
    fn hidden(&self) -> usize {
        self.d
    }
    fn input(&self) -> usize {
        self.d
    }
    /// `D N`.
    fn state_dim(&self) -> usize {
        self.d * self.n
    }
    /// `[Delta (D) | sigmoid(z) (D) | delta (R) | B (N) | C (N) | u (D)]`: `3D + R + 2N`.
    /// With `s_prev` this is all the reverse step needs; `exp(Delta A)` is recomputed
    /// from `Delta` by the very expression the step used.
    fn record_dim(&self) -> usize {
        3 * self.d + self.r + 2 * self.n
    }
    /// `dL/dDelta` reads `h_{t-1}`.
    fn vjp_reads_state(&self) -> bool {
        true
    }
    /// `dL/dz` (`D`) in [`Cell::vjp`].
    fn scratch_dim(&self) -> usize {
        // dL/dz (D) and the decays exp(Delta A) (D N).
        self.d + self.d * self.n
    }
    fn weights(&self) -> &Weights<F> {
        &self.w
    }
    fn proj_bias(&self) -> &[F] {
        &self.w.b_ih
    }

    /// `h_t[d, n] = exp(Delta[d] A[d, n]) h_{t-1}[d, n] + Delta[d] B[n] u[d]`.
    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], _scratch: &mut [F]) {
        let (d, n, r) = (self.d, self.n, self.r);
        let (delta_t, rest) = rec[..self.record_dim()].split_at_mut(d);
        let (sig, rest) = rest.split_at_mut(d);
        // [delta | B | C | u] is xp itself.
        rest.copy_from_slice(&xp[..r + 2 * n + d]);
        let (low, b, u) = (&xp[..r], &xp[r..r + n], &xp[r + 2 * n..r + 2 * n + d]);
        for dd in 0..d {
            let mut z = self.dt_b[dd];
            for (w, l) in self.dt_w[dd * r..(dd + 1) * r].iter().zip(low) {
                z += *w * *l;
            }
            let zf = z.to_f64();
            let dt = F::from_f64(softplus(zf));
            delta_t[dd] = dt;
            sig[dd] = F::from_f64(sigmoid(zf));
        }
        // The decays exp(Delta A), vectorised over the whole state, then the update.
        self.decays(delta_t, s_next);
        for dd in 0..d {
            let du = delta_t[dd] * u[dd];
            for k in 0..n {
                let j = dd * n + k;
                s_next[j] = s_next[j] * s_prev[j] + du * b[k];
            }
        }
    }

    /// `g_prev = exp(Delta A) g`; `g_xp = [dt_proj_weight^T gz, sum_d g[d, :] Delta[d] u[d],
    /// 0, sum_n g[:, n] Delta B[n]]` with `gz = dL/dz` (see [`Ssm`]'s reverse core).
    fn vjp(
        &self,
        rec: &[F],
        s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        scratch: &mut [F],
    ) {
        let (d, n, r) = (self.d, self.n, self.r);
        let rc = self.rec_parts(rec);
        let (gz, decay) = scratch.split_at_mut(d);
        self.reverse_core(&rc, s_prev, g_next, Some(g_prev), gz, decay);
        g_xp[..r + 2 * n + d].fill(F::ZERO);
        let (g_low, rest) = g_xp.split_at_mut(r);
        let (g_b, rest) = rest.split_at_mut(n);
        let g_u = &mut rest[n..n + d];
        for dd in 0..d {
            let gzd = gz[dd];
            for (gl, w) in g_low.iter_mut().zip(&self.dt_w[dd * r..(dd + 1) * r]) {
                *gl += *w * gzd;
            }
            let (dt, ud) = (rc.delta_t[dd], rc.u[dd]);
            let row = &g_next[dd * n..(dd + 1) * n];
            let mut gu = F::ZERO;
            for k in 0..n {
                g_b[k] += row[k] * dt * ud;
                gu += row[k] * rc.b[k];
            }
            g_u[dd] = gu * dt;
        }
    }

    /// `u_next = exp(Delta A) u_prev`.
    fn jvp(&self, rec: &[F], _s_prev: &[F], u_prev: &[F], u_next: &mut [F], _scratch: &mut [F]) {
        self.decays(&rec[..self.d], u_next);
        for (o, v) in u_next[..self.d * self.n].iter_mut().zip(u_prev) {
            *o *= *v;
        }
    }

    /// With `xp = [delta | B | C | u]`: `dDelta[d] = sigmoid(z[d]) dt_proj_weight[d] . ddelta`
    /// and `ds[d, n] = a u_prev + (A a h_{t-1} + B[n] u[d]) dDelta[d] + Delta[d] (du[d] B[n]
    /// + u[d] dB[n])`, with `a = exp(Delta A)` (`C` only reaches the output).
    fn jvp_xp(
        &self,
        rec: &[F],
        s_prev: &[F],
        u_prev: &[F],
        dxp: &[F],
        u_next: &mut [F],
        scratch: &mut [F],
    ) {
        let (d, n, r) = (self.d, self.n, self.r);
        let rc = self.rec_parts(rec);
        let (dlow, db, du) = (&dxp[..r], &dxp[r..r + n], &dxp[r + 2 * n..r + 2 * n + d]);
        let decay = &mut scratch[..d * n];
        self.decays(rc.delta_t, decay);
        for dd in 0..d {
            let mut dz = F::ZERO;
            for (w, l) in self.dt_w[dd * r..(dd + 1) * r].iter().zip(dlow) {
                dz += *w * *l;
            }
            let ddelta = rc.sig[dd] * dz;
            let (dt, ud) = (rc.delta_t[dd], rc.u[dd]);
            for k in 0..n {
                let j = dd * n + k;
                let e = decay[j];
                u_next[j] = e * u_prev[j]
                    + (self.a[j] * e * s_prev[j] + rc.b[k] * ud) * ddelta
                    + dt * (du[dd] * rc.b[k] + ud * db[k]);
            }
        }
    }

    /// `D`, the output `y_t`.
    fn output_dim(&self) -> usize {
        self.d
    }
    fn has_output_map(&self) -> bool {
        true
    }
    /// The whole state `h` (`D N`).
    fn adjoint_dim(&self) -> usize {
        self.d * self.n
    }
    /// `y[d] = sum_n C[n] h[d, n] + D[d] u[d]`.
    fn output(&self, rec: &[F], s: &[F], y: &mut [F]) {
        let rc = self.rec_parts(rec);
        let n = self.n;
        for dd in 0..self.d {
            let mut acc = self.skip[dd] * rc.u[dd];
            for (c, h) in rc.c.iter().zip(&s[dd * n..(dd + 1) * n]) {
                acc += *c * *h;
            }
            y[dd] = acc;
        }
    }
    /// `gs[d, n] += C[n] gy[d]`, `g_C[n] += sum_d gy[d] h[d, n]`, `g_u[d] += D[d] gy[d]`.
    fn output_vjp(&self, rec: &[F], s: &[F], gy: &[F], gs: &mut [F], gxp: &mut [F]) {
        let rc = self.rec_parts(rec);
        let (d, n, r) = (self.d, self.n, self.r);
        for dd in 0..d {
            let g = gy[dd];
            for k in 0..n {
                let j = dd * n + k;
                gs[j] += rc.c[k] * g;
                gxp[r + n + k] += g * s[j];
            }
            gxp[r + 2 * n + dd] += self.skip[dd] * g;
        }
    }
    /// `dD[d] += gy[d] u[d]`.
    fn output_param_grads(&self, rec: &[F], _s: &[F], gy: &[F], acc: &mut [F]) {
        let rc = self.rec_parts(rec);
        let off = self.param_len() - self.d;
        for dd in 0..self.d {
            acc[off + dd] += gy[dd] * rc.u[dd];
        }
    }

    /// Layout `[x_proj_weight ((R+2N) x D) | dt_proj_weight (D x R) | dt_proj_bias (D) |
    /// A_log (D x N) | D (D)]`, row-major, the order of the named arrays.
    fn param_len(&self) -> usize {
        let (d, n, r) = (self.d, self.n, self.r);
        (r + 2 * n) * d + d * r + d + d * n + d
    }

    /// `dx_proj_weight += g_xp[..R+2N] u^T`; with `gz = dL/dz`:
    /// `d dt_proj_weight += gz delta^T`, `d dt_proj_bias += gz`;
    /// `dA_log[d, n] += g[d, n] exp(Delta A) h_{t-1}[d, n] Delta[d] A[d, n]`
    /// (`dA/dA_log = A`). The skip `D` enters through [`Cell::output_param_grads`].
    fn accumulate_grads(
        &self,
        rec: &[F],
        s_prev: &[F],
        x: &[F],
        g_next: &[F],
        g_xp: &[F],
        scratch: &mut [F],
        acc: &mut [F],
    ) {
        let (d, n, r) = (self.d, self.n, self.r);
        let rc = self.rec_parts(rec);
        let (a_x, rest) = acc.split_at_mut((r + 2 * n) * d);
        let (a_dtw, rest) = rest.split_at_mut(d * r);
        let (a_dtb, rest) = rest.split_at_mut(d);
        let a_alog = &mut rest[..d * n];
        for row in 0..r + 2 * n {
            let g = g_xp[row];
            if g != F::ZERO {
                for (a, xk) in a_x[row * d..(row + 1) * d].iter_mut().zip(x) {
                    *a += g * *xk;
                }
            }
        }
        let (gz, decay) = scratch.split_at_mut(d);
        self.reverse_core(&rc, s_prev, g_next, None, gz, decay);
        for dd in 0..d {
            let gzd = gz[dd];
            a_dtb[dd] += gzd;
            for (a, l) in a_dtw[dd * r..(dd + 1) * r].iter_mut().zip(rc.low) {
                *a += gzd * *l;
            }
            let dt = rc.delta_t[dd];
            for k in 0..n {
                let j = dd * n + k;
                let ad = self.a[j];
                a_alog[j] += g_next[j] * (dt * ad).exp() * s_prev[j] * dt * ad;
            }
        }
    }
}
