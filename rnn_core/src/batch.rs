//! Batches of a dense cell (Elman, LSTM, GRU) stepped together: each thread takes a
//! contiguous group of lanes, and one pass over `W_hh` per step gives the recurrent
//! products of the whole group ([`gemm`]), forward and reverse (`W_hh^T` times every
//! lane's adjoint). Each weight is read once for up to four lanes instead of once per
//! lane. The per-unit work is the cell's [`SplitStep`] with all `H` units, and every
//! `(row, lane)` product sums in the order of the one-lane kernel, so the results are
//! the same bits as one lane at a time.

use crate::cells::{Cell, SplitStep};
use crate::error::{Error, Result};
use crate::kernels::{gemm, norm_f64, scale_into, Lanes};
use crate::seq::{buffer, check_state, Seq, PROJ_BLOCK};
use crate::Real;

/// Lanes `0..batch` in `parts` contiguous groups, as even as possible.
pub(crate) fn lane_groups(batch: usize, parts: usize) -> Vec<(usize, usize)> {
    let parts = parts.clamp(1, batch.max(1));
    (0..parts)
        .map(|p| {
            let (a, e) = (p * batch / parts, (p + 1) * batch / parts);
            (a, e - a)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Record entries of one lane and step.
fn record_len<F: Real, C: Cell<F> + ?Sized>(step: &dyn SplitStep<F>, cell: &C) -> usize {
    step.record_per_unit() * cell.hidden()
}

/// Steps the lanes `b0..b0 + n` of a sequence together.
pub(crate) struct GroupRunner<'c, F, C: ?Sized> {
    cell: &'c C,
    step: &'c dyn SplitStep<F>,
    /// First lane and number of lanes.
    pub b0: usize,
    pub n: usize,
    /// `(n, PROJ_BLOCK, G*H)`: every lane's input projections for one block of steps.
    proj: Vec<F>,
    /// `(n, G*H)`: the recurrent products of one step.
    prod: Vec<F>,
    /// `(n, S)`: the states after the step.
    next: Vec<F>,
    /// `(n, R)`: the records of one step when the caller keeps none.
    rec: Vec<F>,
}

impl<'c, F: Real, C: Cell<F> + ?Sized> GroupRunner<'c, F, C> {
    pub fn new(cell: &'c C, step: &'c dyn SplitStep<F>, b0: usize, n: usize) -> Self {
        GroupRunner {
            cell,
            step,
            b0,
            n,
            proj: vec![F::ZERO; n * PROJ_BLOCK * cell.proj_dim()],
            prod: vec![F::ZERO; n * cell.proj_dim()],
            next: vec![F::ZERO; n * cell.state_dim()],
            rec: vec![F::ZERO; n * record_len(step, cell)],
        }
    }

    /// Steps `t0..t1` from `state` (`(n, S)`, left holding the states after `t1 - 1`),
    /// calling `each(t, states)` with the states after every step; with `recs`, the
    /// records of step `t` go to `recs[(t - t0) * n * R..]` (lane after lane).
    pub fn run(
        &mut self,
        seq: &Seq<'_, F>,
        state: &mut Vec<F>,
        t0: usize,
        t1: usize,
        mut recs: Option<&mut [F]>,
        mut each: impl FnMut(usize, &[F]) -> Result<()>,
    ) -> Result<()> {
        let (cell, step, n) = (self.cell, self.step, self.n);
        let (s, gh, units) = (cell.state_dim(), cell.proj_dim(), cell.hidden());
        let r = record_len(step, cell);
        let w = &cell.weights().p_hh;
        for b0 in (t0..t1).step_by(PROJ_BLOCK) {
            let b1 = (b0 + PROJ_BLOCK).min(t1);
            for (lane, proj) in self.proj.chunks_exact_mut(PROJ_BLOCK * gh).enumerate() {
                seq.project(cell, self.b0 + lane, b0, b1, proj)?;
            }
            for t in b0..b1 {
                let j = t - b0;
                let (bias, ldb) = match step.product_bias() {
                    Some(pb) => (pb, 0),
                    None => (&self.proj[j * gh..], PROJ_BLOCK * gh),
                };
                let lanes = Lanes {
                    n,
                    ldx: s,
                    ldb,
                    ldy: gh,
                };
                gemm(w, state, bias, &mut self.prod, lanes);
                let rec_all = match recs.as_deref_mut() {
                    Some(all) => &mut all[(t - t0) * n * r..(t - t0 + 1) * n * r],
                    None => &mut self.rec[..],
                };
                for lane in 0..n {
                    let next = &mut self.next[lane * s..(lane + 1) * s];
                    step.step_units(
                        units,
                        &self.proj[(lane * PROJ_BLOCK + j) * gh..][..gh],
                        &mut self.prod[lane * gh..(lane + 1) * gh],
                        &state[lane * s..(lane + 1) * s],
                        next,
                        &mut rec_all[lane * r..(lane + 1) * r],
                    );
                    check_state(next, t)?;
                }
                std::mem::swap(state, &mut self.next);
                each(t, state)?;
            }
        }
        Ok(())
    }
}

/// The group's states entering every `seg`-th step (`(nseg, n, S)`), from a first forward
/// pass; empty when one segment holds the whole sequence.
fn checkpoints<F: Real, C: Cell<F> + ?Sized>(
    run: &mut GroupRunner<'_, F, C>,
    seq: &Seq<'_, F>,
    s0: &[F],
    seg: usize,
) -> Result<Vec<F>> {
    let (steps, n, s) = (seq.steps, run.n, run.cell.state_dim());
    let nseg = steps.div_ceil(seg);
    let mut ckpt = buffer(
        if nseg > 1 { nseg * n * s } else { 0 },
        "the checkpointed states of the reverse pass",
    )?;
    if nseg > 1 {
        let mut state = s0.to_vec();
        ckpt[..n * s].copy_from_slice(s0);
        run.run(seq, &mut state, 0, steps, None, |t, st| {
            if (t + 1) % seg == 0 && t + 1 < steps {
                let k = (t + 1) / seg;
                ckpt[k * n * s..(k + 1) * n * s].copy_from_slice(st);
            }
            Ok(())
        })?;
    }
    Ok(ckpt)
}

/// Per-step `ln ||dL/dh_t||` of `L = v_b . h_{T-1,b}` for the lanes of one group:
/// `out[t * n + lane]`. `s0` holds their initial states (`(n, S)`), `v` their loss
/// weights (`(n, H)`); `seg` is the checkpoint interval ([`crate::bptt::plan_segment`]).
pub(crate) fn group_grad_norms<F: Real, C: Cell<F> + ?Sized>(
    run: &mut GroupRunner<'_, F, C>,
    seq: &Seq<'_, F>,
    s0: &[F],
    v: &[F],
    seg: usize,
    out: &mut [f64],
) -> Result<()> {
    let (cell, step, n) = (run.cell, run.step, run.n);
    let steps = seq.steps;
    let (s, h, gh) = (cell.state_dim(), cell.hidden(), cell.proj_dim());
    let r = record_len(step, cell);
    let seg = seg.clamp(1, steps);
    let nseg = steps.div_ceil(seg);
    let ckpt = checkpoints(run, seq, s0, seg)?;
    let mut recs = buffer(seg * n * r, "the stored records of the reverse pass")?;
    // Every lane's adjoint at unit norm (over the whole state) and its log-scale.
    let mut g = vec![F::ZERO; n * s];
    let mut log_scale = vec![0.0f64; n];
    let mut alive = vec![true; n];
    for lane in 0..n {
        let vb = &v[lane * h..(lane + 1) * h];
        let n0 = norm_f64(vb);
        if n0 == 0.0 {
            alive[lane] = false;
            for t in 0..steps {
                out[t * n + lane] = f64::NEG_INFINITY;
            }
            continue;
        }
        for (gj, vj) in g[lane * s..lane * s + h].iter_mut().zip(vb) {
            *gj = F::from_f64(vj.to_f64() / n0);
        }
        log_scale[lane] = n0.ln();
    }
    let blocks = s / h;
    let mut gprod = vec![F::ZERO; n * gh];
    let mut direct = vec![F::ZERO; n * h];
    let mut rest = vec![F::ZERO; (blocks - 1) * h];
    let mut scratch = vec![F::ZERO; gh.max(cell.scratch_dim())];
    let mut g_prev = vec![F::ZERO; n * s];
    let wt = &cell.weights().p_hh_t;
    let zeros = &cell.weights().zeros;
    let mut state = vec![F::ZERO; n * s];
    for k in (0..nseg).rev() {
        let (t0, t1) = (k * seg, ((k + 1) * seg).min(steps));
        state.copy_from_slice(if nseg > 1 {
            &ckpt[k * n * s..(k + 1) * n * s]
        } else {
            s0
        });
        run.run(seq, &mut state, t0, t1, Some(&mut recs), |_, _| Ok(()))?;
        for t in (t0..t1).rev() {
            if (t - t0) % PROJ_BLOCK == 0 {
                seq.check_cancel()?;
            }
            let j = t - t0;
            for lane in (0..n).filter(|l| alive[*l]) {
                let gl = &g[lane * s..(lane + 1) * s];
                out[t * n + lane] = if blocks == 1 {
                    log_scale[lane]
                } else {
                    log_scale[lane] + crate::kernels::ln_norm(&gl[..h])
                };
                step.vjp_units(
                    h,
                    &recs[(j * n + lane) * r..(j * n + lane + 1) * r],
                    gl,
                    &mut gprod[lane * gh..(lane + 1) * gh],
                    &mut direct[lane * h..(lane + 1) * h],
                    &mut rest,
                    &mut scratch,
                );
                g_prev[lane * s + h..(lane + 1) * s].copy_from_slice(&rest);
            }
            let (bias, ldb) = if step.has_direct() {
                (&direct[..], h)
            } else {
                (&zeros[..], 0)
            };
            let lanes = Lanes {
                n,
                ldx: gh,
                ldb,
                ldy: s,
            };
            gemm(wt, &gprod, bias, &mut g_prev, lanes);
            for lane in 0..n {
                if !alive[lane] {
                    continue;
                }
                let gp = &g_prev[lane * s..(lane + 1) * s];
                let nrm = norm_f64(gp);
                if !nrm.is_finite() {
                    return Err(Error::Numerics(format!(
                        "the backpropagated gradient overflowed at step {t} (a single step \
                         Jacobian has entries beyond the {} range)",
                        F::NAME
                    )));
                }
                if nrm == 0.0 {
                    alive[lane] = false;
                    for tt in 0..t {
                        out[tt * n + lane] = f64::NEG_INFINITY;
                    }
                    g[lane * s..(lane + 1) * s].fill(F::ZERO);
                    gprod[lane * gh..(lane + 1) * gh].fill(F::ZERO);
                    direct[lane * h..(lane + 1) * h].fill(F::ZERO);
                    continue;
                }
                scale_into(&mut g[lane * s..(lane + 1) * s], gp, F::from_f64(1.0 / nrm));
                log_scale[lane] += nrm.ln();
            }
        }
    }
    Ok(())
}

/// Steps of the reverse pass of [`group_param_grads`] whose weight-gradient outer
/// products are added as one matrix product.
const GRAD_BLOCK: usize = 64;

/// What [`group_param_grads`] returns for its lanes.
pub(crate) struct GroupGrads<F> {
    /// `dL/dtheta` summed over the group's lanes (`[W_ih | W_hh | b_ih | b_hh]`).
    pub params: Vec<F>,
    /// `dL/ds_init`, `(n, S)`.
    pub initial_state: Vec<F>,
    /// `dL/dx_t`, `(T, n, I)`, when asked for.
    pub inputs: Vec<f64>,
}

/// The outer products of one block of the reverse pass: the rows `D_in`, `D_hh` (the
/// adjoints of the projection and of the recurrent product) beside the inputs `x` and
/// states `h_{t-1}` they multiply.
struct GradBlock<F> {
    rows: usize,
    d_in: Vec<F>,
    d_hh: Vec<F>,
    x: Vec<F>,
    h: Vec<F>,
}

impl<F: Real> GradBlock<F> {
    /// `dW_ih += D_in^T X`, `dW_hh += D_hh^T H`, `db_ih += sum D_in`, `db_hh += sum D_hh`.
    fn flush(&mut self, gh: usize, i: usize, hd: usize, acc: &mut [F]) -> Result<()> {
        let m = self.rows;
        if m == 0 {
            return Ok(());
        }
        let (a_ih, rest) = acc.split_at_mut(gh * i);
        let (a_hh, rest) = rest.split_at_mut(gh * hd);
        let (a_bih, a_bhh) = rest.split_at_mut(gh);
        F::gemm_acc(gh, m, i, (&self.d_in, 1, gh), (&self.x, i, 1), (a_ih, i))?;
        F::gemm_acc(gh, m, hd, (&self.d_hh, 1, gh), (&self.h, hd, 1), (a_hh, hd))?;
        for q in 0..m {
            for (a, d) in a_bih.iter_mut().zip(&self.d_in[q * gh..(q + 1) * gh]) {
                *a += *d;
            }
            for (a, d) in a_bhh.iter_mut().zip(&self.d_hh[q * gh..(q + 1) * gh]) {
                *a += *d;
            }
        }
        self.rows = 0;
        Ok(())
    }
}

/// Exact BPTT of `L` (with `dh[t, b] = dL/dh_t`, `(T, B, H)`) for the lanes of one group:
/// the parameter gradient, `dL/ds_init` and optionally `dL/dx_t`. The recurrent products
/// of the group's adjoints are one pass over `W_hh^T` per step, and the weight gradients
/// are added as matrix products over blocks of [`GRAD_BLOCK`] steps.
pub(crate) fn group_param_grads<F: Real, C: Cell<F> + ?Sized>(
    run: &mut GroupRunner<'_, F, C>,
    seq: &Seq<'_, F>,
    s0: &[F],
    dh: &[F],
    want_inputs: bool,
    seg: usize,
) -> Result<GroupGrads<F>> {
    let (cell, step, n, b0) = (run.cell, run.step, run.n, run.b0);
    let (steps, batch) = (seq.steps, seq.batch);
    let (s, h, gh, i) = (
        cell.state_dim(),
        cell.hidden(),
        cell.proj_dim(),
        cell.input(),
    );
    let r = record_len(step, cell);
    let seg = seg.clamp(1, steps);
    let nseg = steps.div_ceil(seg);
    let ckpt = checkpoints(run, seq, s0, seg)?;
    let mut recs = buffer(seg * n * r, "the stored records of the reverse pass")?;
    let mut states = buffer((seg + 1) * n * s, "the stored states of the reverse pass")?;
    let mut inputs = if want_inputs {
        buffer::<f64>(steps * n * i, "the input gradients of one group of lanes")?
    } else {
        Vec::new()
    };
    let rows = GRAD_BLOCK * n;
    let mut block = GradBlock {
        rows: 0,
        d_in: buffer(rows * gh, "the gradient block")?,
        d_hh: buffer(rows * gh, "the gradient block")?,
        x: buffer(rows * i, "the gradient block")?,
        h: buffer(rows * h, "the gradient block")?,
    };
    let mut acc = vec![F::ZERO; cell.param_len()];
    let mut g = vec![F::ZERO; n * s];
    let mut g_prev = vec![F::ZERO; n * s];
    let mut gprod = vec![F::ZERO; n * gh];
    let mut d_in = vec![F::ZERO; n * gh];
    let mut direct = vec![F::ZERO; n * h];
    let mut rest = vec![F::ZERO; s - h];
    let mut scratch = vec![F::ZERO; gh.max(cell.scratch_dim())];
    let mut gx = vec![F::ZERO; n * i];
    let w = cell.weights();
    for k in (0..nseg).rev() {
        let (t0, t1) = (k * seg, ((k + 1) * seg).min(steps));
        states[..n * s].copy_from_slice(if nseg > 1 {
            &ckpt[k * n * s..(k + 1) * n * s]
        } else {
            s0
        });
        let mut state = states[..n * s].to_vec();
        run.run(seq, &mut state, t0, t1, Some(&mut recs), |t, st| {
            let j = t - t0 + 1;
            states[j * n * s..(j + 1) * n * s].copy_from_slice(st);
            Ok(())
        })?;
        for t in (t0..t1).rev() {
            if (t - t0) % PROJ_BLOCK == 0 {
                seq.check_cancel()?;
            }
            let j = t - t0;
            for lane in 0..n {
                let gl = &mut g[lane * s..(lane + 1) * s];
                let d = &dh[(t * batch + b0 + lane) * h..(t * batch + b0 + lane + 1) * h];
                for (a, v) in gl.iter_mut().zip(d) {
                    *a += *v;
                }
                let gp = &mut gprod[lane * gh..(lane + 1) * gh];
                step.vjp_units(
                    h,
                    &recs[(j * n + lane) * r..(j * n + lane + 1) * r],
                    gl,
                    gp,
                    &mut direct[lane * h..(lane + 1) * h],
                    &mut rest,
                    &mut scratch,
                );
                let din = &mut d_in[lane * gh..(lane + 1) * gh];
                din.copy_from_slice(if step.xp_adjoint_in_scratch() {
                    &scratch[..gh]
                } else {
                    gp
                });
                g_prev[lane * s + h..(lane + 1) * s].copy_from_slice(&rest);
                let q = block.rows;
                block.d_in[q * gh..(q + 1) * gh].copy_from_slice(din);
                block.d_hh[q * gh..(q + 1) * gh].copy_from_slice(gp);
                let xt = &seq.x[(t * batch + b0 + lane) * i..(t * batch + b0 + lane + 1) * i];
                block.x[q * i..(q + 1) * i].copy_from_slice(xt);
                let hp = &states[(j * n + lane) * s..(j * n + lane) * s + h];
                block.h[q * h..(q + 1) * h].copy_from_slice(hp);
                block.rows += 1;
            }
            let (bias, ldb) = if step.has_direct() {
                (&direct[..], h)
            } else {
                (&w.zeros[..], 0)
            };
            let lanes = Lanes {
                n,
                ldx: gh,
                ldb,
                ldy: s,
            };
            gemm(&w.p_hh_t, &gprod, bias, &mut g_prev, lanes);
            if want_inputs {
                let lanes = Lanes {
                    n,
                    ldx: gh,
                    ldb: 0,
                    ldy: i,
                };
                gemm(&w.p_ih_t, &d_in, &w.zeros, &mut gx, lanes);
                for (o, v) in inputs[t * n * i..(t + 1) * n * i].iter_mut().zip(&gx) {
                    *o = v.to_f64();
                }
            }
            std::mem::swap(&mut g, &mut g_prev);
            if block.rows + n > rows || t == t0 {
                block.flush(gh, i, h, &mut acc)?;
            }
        }
    }
    Ok(GroupGrads {
        params: acc,
        initial_state: g,
        inputs,
    })
}
