//! Reverse pass: per-step gradient norms of `L = v . y_{T-1}` by exact BPTT (`y_t` the
//! output: `h_t`, or [`Cell::output`] for a cell with an output map).
//!
//! The adjoint `g_t = dL/ds_t` obeys `g_{t-1} = J_t^T g_t`. It is carried as a
//! unit vector and an accumulated log-norm (renormalised every step), so the
//! norms stay exact far below the smallest float. States are kept for the whole
//! sequence when they fit the memory budget; otherwise every `K ~ sqrt(T)`-th
//! state is checkpointed and each segment is recomputed on the way back.

use crate::batch::{group_grad_norms, group_param_grads, lane_groups, GroupRunner};
use crate::cells::Cell;
use crate::error::{check_len, Error, Result};
use crate::kernels::{gemv, ln_norm, norm_f64, prefetch, scale_into};

/// How many steps ahead the reverse pass prefetches the stored records.
const PREFETCH_STEPS: usize = 4;
use crate::seq::{
    buffer, check_rows, check_threads, effective_threads, in_pool, lane_columns, Runner, Seq,
};
use crate::Real;
use rayon::prelude::*;

/// What the per-step norm is taken of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrt {
    /// `||dL/ds_t[..A]||` with `A =` [`Cell::adjoint_dim`]: `||dL/dh_t||`, the total
    /// derivative through the recurrence (the SSM: its whole `D N` state).
    State,
    /// `||dL/dx_t||`.
    Input,
    /// `||dL/dc_t||`, the total derivative of the memory cell (cells with one: LSTM),
    /// through `c_{t+1}` and through `h_t`.
    Cell,
}

impl Wrt {
    /// Parse "state", "input" or "cell".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "state" => Ok(Wrt::State),
            "input" => Ok(Wrt::Input),
            "cell" => Ok(Wrt::Cell),
            other => Err(Error::value(
                "wrt",
                "one of 'state', 'input', 'cell'",
                format!("'{other}'"),
            )),
        }
    }
}

/// Bytes of stored records a reverse pass may use before it checkpoints.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 << 20;

/// Options of [`grad_norms`].
#[derive(Clone, Copy, Debug)]
pub struct BpttOptions {
    /// Quantity whose norm is reported.
    pub wrt: Wrt,
    /// Bytes the stored states may take (across the lanes running at once).
    pub memory_budget: usize,
    /// Worker threads (None: default pool).
    pub threads: Option<usize>,
    /// Whether one long sequence (B = 1) may be split by hidden unit over the threads.
    /// The split adds the partial products of the reverse pass in another order than
    /// one thread does, and whether it runs depends on the idle cores at the call, so
    /// `false` gives results that are the same bit for bit on every call.
    pub split: bool,
}

impl Default for BpttOptions {
    fn default() -> Self {
        BpttOptions {
            wrt: Wrt::State,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            threads: None,
            split: true,
        }
    }
}

/// Segment length for a sequence of `steps` under `budget` bytes: `steps` when all
/// states fit (no recomputation), else about `sqrt(steps * S / (S + R))`.
pub fn plan_segment<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    steps: usize,
    budget: usize,
) -> Result<usize> {
    plan_segment_with(cell, steps, budget, cell.vjp_reads_state())
}

/// [`plan_segment`] for a reverse pass that keeps the states (`need_states`) or
/// only the per-step records.
pub fn plan_segment_with<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    steps: usize,
    budget: usize,
    need_states: bool,
) -> Result<usize> {
    let s = cell.state_dim();
    let kept = if need_states { s } else { 0 };
    let r = cell.record_dim() + kept;
    let size = std::mem::size_of::<F>();
    if steps.saturating_mul(r * size) <= budget {
        return Ok(steps);
    }
    // ceil(T/K) checkpoints of S plus a segment of K records: least at K = sqrt(T S / R).
    let k = ((steps as f64 * s as f64 / r as f64).sqrt().ceil() as usize).max(1);
    let need = (steps.div_ceil(k) * s + k * r + kept + s) * size;
    if need > budget {
        return Err(Error::Resource(format!(
            "memory_budget of {budget} bytes is too small: checkpointed BPTT over {steps} steps \
             needs about {need} bytes per batch element running at once"
        )));
    }
    Ok(k)
}

/// Per-step norms `out[t * B + b]` (natural log) of `dL/ds_t[..adjoint_dim]` (or of
/// `dL/dx_t`, `dL/dc_t` by `opts.wrt`) for `L = sum_b v_b . y_{T-1, b}`, by exact BPTT.
/// `v` is `(B, output_dim)`; with an output map the seed is `dL/ds_{T-1} =
/// (dy/ds)^T v` and `dL/dx_{T-1}` includes the direct path through `y_{T-1}`.
pub fn grad_norms<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    v: &[F],
    opts: &BpttOptions,
    out: &mut [f64],
) -> Result<()> {
    seq.check_cell(cell)?;
    let (steps, batch) = (seq.steps, seq.batch);
    let (h, s) = (cell.output_dim(), cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    check_rows("v", v, batch, h, "one loss weight vector per batch element")?;
    check_len("out", out, steps * batch, "T * B")?;
    if opts.wrt == Wrt::Cell && cell.memory_dim() == 0 {
        return Err(Error::value(
            "wrt",
            "'state' or 'input' for a cell without a memory cell ('cell' needs an LSTM)",
            format!("'cell' for {}", cell.kind()),
        ));
    }
    check_threads(opts.threads)?;
    // The split path seeds and measures `h` only: never for a cell with an output map.
    let parts = if cell.has_output_map() || !opts.split {
        1
    } else {
        crate::split::parts_for(cell, batch, steps, opts.threads)
    };
    if parts > 1 && opts.wrt == Wrt::State {
        // One long sequence: split its hidden units over the threads.
        let seg = plan_segment(cell, steps, opts.memory_budget)?;
        return crate::split::grad_norms(cell, seq, s0, v, seg, parts, out);
    }
    if let Some(step) = cell.split() {
        // Every lane of a group is alive at once: the budget is shared by all B. When it
        // is too small for that, one lane at a time (below) may still fit.
        let seg = plan_segment_with(cell, steps, opts.memory_budget / batch, false);
        if let (true, Ok(seg)) = (batch >= 2 && opts.wrt == Wrt::State, seg) {
            if !cell.has_output_map() {
                return grad_norms_groups(cell, step, seq, s0, v, seg, opts.threads, out);
            }
        }
    }
    let running = effective_threads(opts.threads).min(batch).max(1);
    let seg = plan_segment_with(
        cell,
        steps,
        opts.memory_budget / running,
        needs_states(cell),
    )?;
    let lane = |b: usize, o: &mut [f64]| {
        lane_grad(
            cell,
            seq,
            b,
            &s0[b * s..(b + 1) * s],
            &v[b * h..(b + 1) * h],
            opts.wrt,
            seg,
            o,
        )
    };
    lane_columns(out, steps, batch, opts.threads, lane)
}

/// [`grad_norms`] of a dense cell with B >= 2 (`wrt` state): each thread runs a group
/// of lanes whose recurrent products, forward and reverse, are one pass over the weights
/// per step ([`crate::batch`]).
#[allow(clippy::too_many_arguments)]
fn grad_norms_groups<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    step: &dyn crate::cells::SplitStep<F>,
    seq: &Seq<'_, F>,
    s0: &[F],
    v: &[F],
    seg: usize,
    threads: Option<usize>,
    out: &mut [f64],
) -> Result<()> {
    let (steps, batch) = (seq.steps, seq.batch);
    let (s, h) = (cell.state_dim(), cell.output_dim());
    let groups = lane_groups(batch, effective_threads(threads));
    in_pool(threads, || {
        let cols = groups
            .par_iter()
            .map(|&(b0, n)| {
                let mut o = buffer(steps * n, "the per-step results of one group of lanes")?;
                let mut run = GroupRunner::new(cell, step, b0, n);
                let (sg, vg) = (&s0[b0 * s..(b0 + n) * s], &v[b0 * h..(b0 + n) * h]);
                group_grad_norms(&mut run, seq, sg, vg, seg, &mut o)?;
                Ok(o)
            })
            .collect::<Result<Vec<_>>>()?;
        for (&(b0, n), col) in groups.iter().zip(&cols) {
            for t in 0..steps {
                out[t * batch + b0..t * batch + b0 + n].copy_from_slice(&col[t * n..(t + 1) * n]);
            }
        }
        Ok(())
    })
}

/// Whether the reverse pass of `grad_norms` keeps the states: when the step's vjp reads
/// them, or the output map reads the last one.
fn needs_states<F: Real, C: Cell<F> + ?Sized>(cell: &C) -> bool {
    cell.vjp_reads_state() || cell.has_output_map()
}

/// Visit steps `T-1, ..., 0` of lane `b` in reverse, calling `each(t, rec_t, s_{t-1})`.
///
/// With `seg < T` the states entering every `seg`-th step are checkpointed in a
/// first forward pass and each segment is recomputed on the way back; with
/// `seg == T` every record is kept. Stops early when `each` returns `false`.
pub fn reverse_sweep<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    seg: usize,
    need_states: bool,
    mut each: impl FnMut(usize, &[F], &[F]) -> Result<bool>,
) -> Result<()> {
    reverse_sweep_states(cell, seq, b, s0, seg, need_states, |t, rec, s_prev, _| {
        each(t, rec, s_prev)
    })
}

/// [`reverse_sweep`] calling `each(t, rec_t, s_{t-1}, s_t)`: also the state the step
/// produced (which an output map reads). Both states are empty without `need_states`.
pub fn reverse_sweep_states<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    seg: usize,
    need_states: bool,
    mut each: impl FnMut(usize, &[F], &[F], &[F]) -> Result<bool>,
) -> Result<()> {
    let steps = seq.steps;
    let (s, r) = (cell.state_dim(), cell.record_dim());
    let seg = seg.clamp(1, steps);
    let nseg = steps.div_ceil(seg);
    let mut run = Runner::new(cell);
    let mut ckpt = buffer(
        if nseg > 1 { nseg * s } else { 0 },
        "the checkpointed states of the reverse pass",
    )?;
    if nseg > 1 {
        let mut state = s0.to_vec();
        run.stream(seq, b, &mut state, 0, steps, |t, s_prev, _rec| {
            if t % seg == 0 {
                ckpt[(t / seg) * s..(t / seg + 1) * s].copy_from_slice(s_prev);
            }
            Ok(true)
        })?;
    }
    let mut states = buffer(
        if need_states { (seg + 1) * s } else { 0 },
        "the stored states of the reverse pass",
    )?;
    let mut recs = buffer(seg * r, "the stored records of the reverse pass")?;
    let mut state = vec![F::ZERO; s];
    for k in (0..nseg).rev() {
        let t0 = k * seg;
        let t1 = (t0 + seg).min(steps);
        let start = if nseg > 1 {
            &ckpt[k * s..(k + 1) * s]
        } else {
            s0
        };
        if need_states {
            states[..s].copy_from_slice(start);
            run.run(seq, b, t0, t1, &mut states, &mut recs)?;
        } else {
            state.copy_from_slice(start);
            run.run_records(seq, b, t0, t1, &mut state, &mut recs)?;
        }
        for t in (t0..t1).rev() {
            let j = t - t0;
            if j >= PREFETCH_STEPS {
                let k = j - PREFETCH_STEPS;
                prefetch(&recs[k * r..(k + 1) * r]);
                if need_states {
                    prefetch(&states[k * s..(k + 1) * s]);
                }
            }
            let (s_prev, s_next) = if need_states {
                (
                    &states[j * s..(j + 1) * s],
                    &states[(j + 1) * s..(j + 2) * s],
                )
            } else {
                (&[][..], &[][..])
            };
            if !each(t, &recs[j * r..(j + 1) * r], s_prev, s_next)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn lane_grad<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    v: &[F],
    wrt: Wrt,
    seg: usize,
    out: &mut [f64],
) -> Result<()> {
    let (h, s, gh) = (cell.output_dim(), cell.state_dim(), cell.proj_dim());
    let adim = cell.adjoint_dim();
    let mapped = cell.has_output_map();
    let n0 = norm_f64(v);
    if n0 == 0.0 {
        out.fill(f64::NEG_INFINITY);
        return Ok(());
    }
    let vhat: Vec<F> = v.iter().map(|x| F::from_f64(x.to_f64() / n0)).collect();
    let mut g = vec![F::ZERO; s];
    if !mapped {
        g[..h].copy_from_slice(&vhat);
    }
    let mut log_scale = n0.ln();
    let mut g_prev = vec![F::ZERO; s];
    let mut g_xp = vec![F::ZERO; gh];
    // The direct path `(dy_{T-1}/dxp_{T-1})^T v` of an output map (scaled like g).
    let mut g_xp_out = vec![F::ZERO; if mapped { gh } else { 0 }];
    let mut gx = vec![F::ZERO; cell.input()];
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    let mut gc = vec![F::ZERO; cell.memory_dim()];
    let w = cell.weights();
    let last = seq.steps - 1;
    // g is kept at unit norm, so with wrt=state and S = H its norm is 1 and the
    // accumulated log-scale is the answer; (h, c) states need the h part's norm.
    let unit = wrt == Wrt::State && s == adim && !mapped;
    reverse_sweep_states(
        cell,
        seq,
        b,
        s0,
        seg,
        needs_states(cell),
        |t, rec, s_prev, s_next| {
            if mapped && t == last {
                // Seed dL/ds_{T-1} = (dy/ds)^T v through the output map, at unit norm.
                cell.output_vjp(rec, s_next, &vhat, &mut g, &mut g_xp_out);
                let n1 = norm_f64(&g);
                if !n1.is_finite() {
                    return Err(Error::Numerics(format!(
                        "the output map's adjoint overflowed at step {t} (beyond the {} range)",
                        F::NAME
                    )));
                }
                if n1 > 0.0 {
                    let inv = F::from_f64(1.0 / n1);
                    g.iter_mut().for_each(|x| *x *= inv);
                    g_xp_out.iter_mut().for_each(|x| *x *= inv);
                    log_scale += n1.ln();
                }
            }
            match wrt {
                Wrt::State if unit => out[t] = log_scale,
                Wrt::State => out[t] = log_scale + ln_norm(&g[..adim]),
                Wrt::Cell => {
                    cell.memory_adjoint(rec, &g, &mut gc);
                    out[t] = log_scale + ln_norm(&gc);
                }
                Wrt::Input => {}
            }
            cell.vjp(rec, s_prev, &g, &mut g_prev, &mut g_xp, &mut scratch);
            if wrt == Wrt::Input {
                if mapped && t == last {
                    for (a, o) in g_xp.iter_mut().zip(&g_xp_out) {
                        *a += *o;
                    }
                }
                gemv(&w.p_ih_t, &g_xp, &w.zeros[..cell.input()], &mut gx);
                out[t] = log_scale + ln_norm(&gx);
            }
            let n = norm_f64(&g_prev);
            if !n.is_finite() {
                return Err(Error::Numerics(format!(
                    "the backpropagated gradient overflowed at step {t} (a single step Jacobian \
                     has entries beyond the {} range)",
                    F::NAME
                )));
            }
            if n == 0.0 {
                out[..t].fill(f64::NEG_INFINITY);
                return Ok(false);
            }
            scale_into(&mut g, &g_prev, F::from_f64(1.0 / n));
            log_scale += n.ln();
            Ok(true)
        },
    )
}

/// Gradients returned by [`param_grads`].
pub struct ParamGrads {
    /// `dL/dtheta` summed over the batch, in the cell's parameter layout
    /// (see [`Cell::accumulate_grads`]).
    pub params: Vec<f64>,
    /// `dL/ds_init`, `(B, S)`.
    pub initial_state: Vec<f64>,
    /// `dL/dx_t`, `(T, B, I)`, when requested.
    pub inputs: Option<Vec<f64>>,
}

/// Exact BPTT of `L` given `dh[t, b, :] = dL/dy_t` (`(T, B, output_dim)`, the loss's
/// direct dependence on each output): parameter gradients and the gradient of the
/// initial state. With an output map, `dy_t/ds_t`, `dy_t/dxp_t` and `dy_t/dtheta`
/// ([`Cell::output_vjp`], [`Cell::output_param_grads`]) enter at every step.
pub fn param_grads<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    dh: &[F],
    want_inputs: bool,
    memory_budget: usize,
    threads: Option<usize>,
) -> Result<ParamGrads> {
    seq.check_cell(cell)?;
    let (steps, batch) = (seq.steps, seq.batch);
    let (h, s, gh, i) = (
        cell.output_dim(),
        cell.state_dim(),
        cell.proj_dim(),
        cell.input(),
    );
    check_rows("h0", s0, batch, s, "initial state")?;
    if dh.len() != steps * batch * h {
        return Err(Error::shape(
            "dh",
            format!("shape ({steps}, {batch}, {h}) (dL/dy_t for every step)"),
            format!("{} values", dh.len()),
        ));
    }
    crate::error::check_finite("dh", dh)?;
    if let Some(step) = cell.split() {
        let dense = gh * (i + cell.hidden() + 2);
        let seg = plan_segment_with(cell, steps, memory_budget / batch, true);
        if let (true, Ok(seg)) = (!cell.has_output_map() && cell.param_len() == dense, seg) {
            let groups = lane_groups(batch, effective_threads(threads));
            let parts = in_pool(threads, || {
                groups
                    .par_iter()
                    .map(|&(b0, n)| {
                        let mut run = GroupRunner::new(cell, step, b0, n);
                        let sg = &s0[b0 * s..(b0 + n) * s];
                        group_param_grads(&mut run, seq, sg, dh, want_inputs, seg)
                    })
                    .collect::<Result<Vec<_>>>()
            })?;
            let dims = (cell.param_len(), steps, batch, i, want_inputs);
            let each = groups
                .iter()
                .zip(&parts)
                .map(|(&(b0, n), p)| (b0, n, &p.params[..], &p.initial_state[..], &p.inputs[..]));
            return combine_grads(dims, each);
        }
    }
    let running = effective_threads(threads).min(batch).max(1);
    let seg = plan_segment_with(cell, steps, memory_budget / running, true)?;
    let lanes = in_pool(threads, || {
        (0..batch)
            .into_par_iter()
            .map(|b| {
                let mut acc = vec![F::ZERO; cell.param_len()];
                let mut g = vec![F::ZERO; s];
                let mut g_prev = vec![F::ZERO; s];
                let mut g_xp = vec![F::ZERO; gh];
                let mapped = cell.has_output_map();
                let mut g_xp_out = vec![F::ZERO; if mapped { gh } else { 0 }];
                let mut scratch = vec![F::ZERO; cell.scratch_dim()];
                let mut scratch2 = vec![F::ZERO; cell.scratch_dim().max(gh)];
                let mut gx = vec![F::ZERO; i];
                let mut dx = if want_inputs {
                    buffer::<f64>(steps * i, "the input gradients of one batch element")?
                } else {
                    Vec::new()
                };
                let w = cell.weights();
                reverse_sweep_states(
                    cell,
                    seq,
                    b,
                    &s0[b * s..(b + 1) * s],
                    seg,
                    true,
                    |t, rec, s_prev, s_next| {
                        let d = &dh[(t * batch + b) * h..(t * batch + b + 1) * h];
                        if mapped {
                            g_xp_out.fill(F::ZERO);
                            cell.output_vjp(rec, s_next, d, &mut g, &mut g_xp_out);
                            cell.output_param_grads(rec, s_next, d, &mut acc);
                        } else {
                            for (gj, dj) in g.iter_mut().zip(d) {
                                *gj += *dj;
                            }
                        }
                        cell.vjp(rec, s_prev, &g, &mut g_prev, &mut g_xp, &mut scratch);
                        if mapped {
                            for (a, o) in g_xp.iter_mut().zip(&g_xp_out) {
                                *a += *o;
                            }
                        }
                        let x = &seq.x[(t * batch + b) * i..(t * batch + b + 1) * i];
                        cell.accumulate_grads(rec, s_prev, x, &g, &g_xp, &mut scratch2, &mut acc);
                        if want_inputs {
                            gemv(&w.p_ih_t, &g_xp, &w.zeros[..i], &mut gx);
                            for (d, v) in dx[t * i..(t + 1) * i].iter_mut().zip(&gx) {
                                *d = v.to_f64();
                            }
                        }
                        std::mem::swap(&mut g, &mut g_prev);
                        Ok(true)
                    },
                )?;
                Ok((acc, g, dx))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let dims = (cell.param_len(), steps, batch, i, want_inputs);
    let each = lanes
        .iter()
        .enumerate()
        .map(|(b, (acc, g, dx))| (b, 1, &acc[..], &g[..], &dx[..]));
    combine_grads(dims, each)
}

/// The gradients of every group of lanes `(b0, n, params, initial states (n, S), inputs
/// (T, n, I))` summed (parameters) and placed (states, inputs) into the batch's arrays,
/// unless they overflowed. `dims` is `(param_len, T, B, I, want_inputs)`.
fn combine_grads<'a, F: Real>(
    (len, steps, batch, i, want_inputs): (usize, usize, usize, usize, bool),
    parts: impl Iterator<Item = (usize, usize, &'a [F], &'a [F], &'a [f64])>,
) -> Result<ParamGrads> {
    let mut params = vec![0.0; len];
    let mut initial_state = Vec::new();
    let mut inputs = match want_inputs {
        true => Some(buffer::<f64>(
            steps * batch * i,
            "the input gradients dL/dx",
        )?),
        false => None,
    };
    for (b0, n, acc, g, dx) in parts {
        for (p, a) in params.iter_mut().zip(acc) {
            *p += a.to_f64();
        }
        initial_state.extend(g.iter().map(|v| v.to_f64()));
        if let Some(all) = inputs.as_mut() {
            for t in 0..steps {
                all[(t * batch + b0) * i..(t * batch + b0 + n) * i]
                    .copy_from_slice(&dx[t * n * i..(t + 1) * n * i]);
            }
        }
    }
    finish_grads(params, initial_state, inputs)
}

/// The gradients, unless they overflowed.
fn finish_grads(
    params: Vec<f64>,
    initial_state: Vec<f64>,
    inputs: Option<Vec<f64>>,
) -> Result<ParamGrads> {
    if params.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerics(
            "the parameter gradient overflowed (inf/NaN); lower the learning rate or clip".into(),
        ));
    }
    Ok(ParamGrads {
        params,
        initial_state,
        inputs,
    })
}
