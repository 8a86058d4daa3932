//! The BPTT adjoints themselves, not only their norms: `dL/ds_t`, `dL/dx_t`, the
//! total `dL/dc_t` of a memory cell and `dL/ds_init`, for a loss on the last output
//! (`L = v . y_{T-1}`) or at every step (`L = sum_t v_t . y_t`).
//!
//! The adjoint is carried as `g * exp(ls)` with `g` renormalised every step (as in
//! [`crate::grad_norms`]), so the recursion itself never underflows; a step's loss term
//! `v_t` joins at the larger of the two scales. The values written are `g exp(ls)` in
//! float64: exact where float64 can hold them, 0 where an adjoint has vanished below
//! it, and an error if one grows beyond it.

use crate::bptt::{plan_segment_with, reverse_sweep_states};
use crate::cells::Cell;
use crate::error::{check_len, Error, Result};
use crate::kernels::{gemv, ln_norm, norm_f64};
use crate::seq::{check_rows, check_threads, Seq};
use crate::Real;

/// Where the loss sits.
#[derive(Clone, Copy, Debug)]
pub enum Loss<'a, F> {
    /// `L = sum_b v_b . y_{T-1, b}`; `(B, O)` with `O =` [`Cell::output_dim`].
    Last(&'a [F]),
    /// `L = sum_{t, b} v_{t, b} . y_{t, b}`; `(T, B, O)`.
    Every(&'a [F]),
    /// `L = sum_{t, b} exp(lv_{t, b}) v_{t, b} . y_{t, b}`: `v` `(T, B, O)` with its
    /// natural-log scales `lv` `(T, B)`, for loss weights beyond the float range (a
    /// stacked layer's weights are the adjoint of the next layer's input).
    Scaled(&'a [F], &'a [f64]),
}

impl<F: Real> Loss<'_, F> {
    /// The loss weights of lane `b` at step `t` and their log-scale, if the loss reads
    /// `y_t`.
    fn at(&self, t: usize, b: usize, steps: usize, batch: usize, o: usize) -> Option<(&[F], f64)> {
        let row = t * batch + b;
        match self {
            Loss::Last(v) => (t + 1 == steps).then(|| (&v[b * o..(b + 1) * o], 0.0)),
            Loss::Every(v) => Some((&v[row * o..(row + 1) * o], 0.0)),
            Loss::Scaled(v, lv) => Some((&v[row * o..(row + 1) * o], lv[row])),
        }
    }

    fn check(&self, steps: usize, batch: usize, o: usize) -> Result<()> {
        match self {
            Loss::Last(v) => check_rows("v", v, batch, o, "loss weights on the last output"),
            Loss::Every(v) => check_len("v", v, steps * batch * o, "T * B * output size"),
            Loss::Scaled(v, lv) => {
                check_len("v", v, steps * batch * o, "T * B * output size")?;
                check_len("v_scale", lv, steps * batch, "T * B log-scales")?;
                match lv.iter().position(|x| x.is_nan() || *x == f64::INFINITY) {
                    Some(k) => Err(Error::value(
                        "v_scale",
                        "finite log-scales (or -inf for a zero weight)",
                        format!("{} at row {k}", lv[k]),
                    )),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The arrays [`adjoints`] fills, each `(rows, B, .)` with `rows` the kept steps.
pub struct AdjointArrays<'a> {
    /// The kept steps, strictly increasing (`None`: every step, `rows = T`).
    pub at: Option<&'a [usize]>,
    /// `dL/ds_t`, `(rows, B, S)`: the adjoint of the whole state, total through every
    /// later step and loss term.
    pub state: &'a mut [f64],
    /// `dL/dx_t`, `(rows, B, I)`, when wanted.
    pub input: Option<&'a mut [f64]>,
    /// The total `dL/dc_t` of a memory cell ([`Cell::memory_adjoint`]),
    /// `(rows, B, memory_dim)`, when wanted.
    pub memory: Option<&'a mut [f64]>,
    /// `dL/ds_init`, `(B, S)`.
    pub initial: &'a mut [f64],
    /// When given, `(rows, B)`: the per-step arrays hold `dL/d. / exp(scale)` (each
    /// state adjoint of norm about 1) and this holds the natural-log scale, so that no
    /// adjoint underflows or overflows float64.
    pub scales: Option<&'a mut [f64]>,
    /// When given, `(B,)`: the same for `initial`.
    pub initial_scale: Option<&'a mut [f64]>,
}

/// An adjoint `g exp(ls)` of the last state `s_{T-1}` that enters from beyond the
/// sequence (the later part of a longer one): `g` `(B, S)`, `ls` `(B,)`.
#[derive(Clone, Copy, Debug)]
pub struct Seed<'a, F> {
    /// The adjoints, one row per lane.
    pub g: &'a [F],
    /// Their natural-log scales.
    pub ls: &'a [f64],
}

/// What one lane's reverse pass hands to its sink at step `t`: the adjoint
/// `g exp(ls)` of `s_t`, the step's record, and the projection adjoint
/// `dL/dxp_t` (scaled like `g`, direct loss paths included).
pub struct StepAdjoint<'s, F> {
    /// Step index.
    pub t: usize,
    /// `dL/ds_t / exp(ls)`.
    pub g: &'s [F],
    /// The log-scale `ls`.
    pub ls: f64,
    /// The step's record.
    pub rec: &'s [F],
    /// `dL/dxp_t / exp(ls)`.
    pub g_xp: &'s [F],
}

/// Run the reverse pass of lane `b` for `loss` (and the adjoint `seed = (g, ls)` of
/// `s_{T-1}` from beyond the sequence, if any), calling `sink` at every step from
/// `T-1` down to 0, and return `(g, ls)` of `dL/ds_init`. A lane whose adjoint is
/// exactly zero (before any loss term, or after a step that annihilates it) passes
/// `g = 0`.
#[allow(clippy::too_many_arguments)]
pub fn lane_adjoint<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    loss: Loss<'_, F>,
    seed: Option<(&[F], f64)>,
    seg: usize,
    mut sink: impl FnMut(&StepAdjoint<'_, F>) -> Result<()>,
) -> Result<(Vec<F>, f64)> {
    let (o, s, gh) = (cell.output_dim(), cell.state_dim(), cell.proj_dim());
    let (steps, batch) = (seq.steps, seq.batch);
    let mut g = vec![F::ZERO; s];
    let mut ls = 0.0f64;
    let mut alive = false;
    if let Some((g0, l0)) = seed {
        let n = norm_f64(g0);
        if n > 0.0 && l0 > f64::NEG_INFINITY {
            // Normalised, like the adjoint after every step.
            for (d, x) in g.iter_mut().zip(g0) {
                *d = F::from_f64(x.to_f64() / n);
            }
            ls = l0 + n.ln();
            alive = true;
        }
    }
    let mut g_prev = vec![F::ZERO; s];
    let mut g_xp = vec![F::ZERO; gh];
    let mut g_xp_out = vec![F::ZERO; gh];
    let mut scaled = vec![F::ZERO; o];
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    reverse_sweep_states(cell, seq, b, s0, seg, true, |t, rec, s_prev, s_next| {
        g_xp_out.fill(F::ZERO);
        if let Some((v, lv)) = loss.at(t, b, steps, batch, o) {
            let vn = norm_f64(v);
            if vn > 0.0 && lv > f64::NEG_INFINITY {
                // Join at the larger scale: both parts stay at most 1 in norm.
                let lvn = vn.ln() + lv;
                let c = if alive { ls.max(lvn) } else { lvn };
                if alive {
                    let a = F::from_f64((ls - c).exp());
                    g.iter_mut().for_each(|x| *x *= a);
                } else {
                    g.fill(F::ZERO);
                }
                // v exp(lv - c), with ||v|| exp(lv - c) <= 1: scale by 1/||v|| first.
                let e = (lvn - c).exp();
                for (d, x) in scaled.iter_mut().zip(v) {
                    *d = F::from_f64(x.to_f64() / vn * e);
                }
                cell.output_vjp(rec, s_next, &scaled, &mut g, &mut g_xp_out);
                ls = c;
                alive = true;
            }
        }
        if alive {
            cell.vjp(rec, s_prev, &g, &mut g_prev, &mut g_xp, &mut scratch);
            for (a, d) in g_xp.iter_mut().zip(&g_xp_out) {
                *a += *d;
            }
        } else {
            g_prev.fill(F::ZERO);
            g_xp.fill(F::ZERO);
        }
        sink(&StepAdjoint {
            t,
            g: &g,
            ls,
            rec,
            g_xp: &g_xp,
        })?;
        if alive {
            let n = norm_f64(&g_prev);
            if !n.is_finite() {
                return Err(Error::Numerics(format!(
                    "the backpropagated gradient overflowed at step {t} (a single step Jacobian \
                     has entries beyond the {} range)",
                    F::NAME
                )));
            }
            if n == 0.0 {
                alive = false;
                g.fill(F::ZERO);
                ls = 0.0;
            } else {
                let inv = F::from_f64(1.0 / n);
                for (d, x) in g.iter_mut().zip(&g_prev) {
                    *d = *x * inv;
                }
                ls += n.ln();
            }
        }
        Ok(true)
    })?;
    Ok((g, ls))
}

/// `at` holds steps in `0..steps`, strictly increasing.
pub(crate) fn check_steps(at: &[usize], steps: usize) -> Result<()> {
    for (k, &t) in at.iter().enumerate() {
        if t >= steps {
            return Err(Error::value(
                "at",
                format!("steps in 0..{steps} (T = {steps})"),
                format!("{t} at position {k}"),
            ));
        }
        if k > 0 && at[k - 1] >= t {
            return Err(Error::value(
                "at",
                "strictly increasing steps",
                format!("{} then {t} at position {k}", at[k - 1]),
            ));
        }
    }
    Ok(())
}

/// `v exp(ls)` as float64 into `dst`; an error naming `what` and the step if that is
/// beyond the float64 range.
fn write_scaled<F: Real>(dst: &mut [f64], v: &[F], ls: f64, what: &str, t: usize) -> Result<()> {
    if ls > 0.0 && ls + ln_norm(v) > f64::MAX.ln() {
        return Err(Error::Numerics(format!(
            "{what} at step {t} exceeds the float64 range (its norm is e^{:.1}); use grad_norms \
             with log=True for its size",
            ls + ln_norm(v)
        )));
    }
    let scale = ls.exp();
    for (d, x) in dst.iter_mut().zip(v) {
        *d = x.to_f64() * scale;
    }
    Ok(())
}

/// The adjoint arrays of `L` (see [`Loss`]) for every lane, into `out`. The lanes run
/// one after another (each writes rows spread over the whole output); `threads` only
/// bounds nothing else here and is checked for consistency with the other passes.
#[allow(clippy::too_many_arguments)]
pub fn adjoints<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    loss: Loss<'_, F>,
    seed: Option<Seed<'_, F>>,
    out: AdjointArrays<'_>,
    memory_budget: usize,
    threads: Option<usize>,
) -> Result<()> {
    seq.check_cell(cell)?;
    check_threads(threads)?;
    let (steps, batch) = (seq.steps, seq.batch);
    let (s, i, o, m) = (
        cell.state_dim(),
        cell.input(),
        cell.output_dim(),
        cell.memory_dim(),
    );
    check_rows("h0", s0, batch, s, "initial state")?;
    loss.check(steps, batch, o)?;
    if let Some(at) = out.at {
        check_steps(at, steps)?;
    }
    let rows = out.at.map_or(steps, <[usize]>::len);
    check_len(
        "out",
        out.state,
        rows * batch * s,
        "rows * B * S (the state adjoints)",
    )?;
    if let Some(x) = out.input.as_deref() {
        check_len(
            "out_x",
            x,
            rows * batch * i,
            "rows * B * I (the input adjoints)",
        )?;
    }
    if let Some(c) = out.memory.as_deref() {
        if m == 0 {
            return Err(Error::value(
                "memory",
                "a cell with a memory cell (LSTM)",
                format!("a {} cell", cell.kind()),
            ));
        }
        check_len(
            "out_cell",
            c,
            rows * batch * m,
            "rows * B * H (the memory adjoints)",
        )?;
    }
    check_len("h0 adjoint", out.initial, batch * s, "B * S")?;
    if let Some(sc) = out.scales.as_deref() {
        check_len("scales", sc, rows * batch, "rows * B log-scales")?;
    }
    if let Some(sc) = out.initial_scale.as_deref() {
        check_len("initial_scale", sc, batch, "B log-scales")?;
    }
    if let Some(sd) = seed {
        check_rows("seed", sd.g, batch, s, "adjoints of the last state")?;
        check_len("seed_scale", sd.ls, batch, "B log-scales")?;
        if let Some(k) = sd.ls.iter().position(|x| x.is_nan() || *x == f64::INFINITY) {
            return Err(Error::value(
                "seed_scale",
                "finite log-scales (or -inf for a zero seed)",
                format!("{} at lane {k}", sd.ls[k]),
            ));
        }
    }
    let seg = plan_segment_with(cell, steps, memory_budget, true)?;
    let w = cell.weights();
    let AdjointArrays {
        at,
        state,
        mut input,
        mut memory,
        initial,
        mut scales,
        mut initial_scale,
    } = out;
    let mut gx = vec![F::ZERO; i];
    let mut gc = vec![F::ZERO; m];
    for b in 0..batch {
        let mut next = at.map_or(0, <[usize]>::len);
        let lane_seed = seed.map(|sd| (&sd.g[b * s..(b + 1) * s], sd.ls[b]));
        let s0b = &s0[b * s..(b + 1) * s];
        let (g0, ls0) = lane_adjoint(cell, seq, b, s0b, loss, lane_seed, seg, |a| {
            let row = match at {
                None => a.t,
                Some(at) => {
                    if next == 0 || at[next - 1] != a.t {
                        return Ok(());
                    }
                    next -= 1;
                    next
                }
            };
            let base = row * batch + b;
            // With `scales`, the arrays keep the normalised adjoint and its scale apart.
            let ls = match scales.as_deref_mut() {
                Some(sc) => {
                    sc[base] = a.ls;
                    0.0
                }
                None => a.ls,
            };
            write_scaled(
                &mut state[base * s..(base + 1) * s],
                a.g,
                ls,
                "dL/ds_t",
                a.t,
            )?;
            if let Some(x) = input.as_deref_mut() {
                gemv(&w.p_ih_t, a.g_xp, &w.zeros[..i], &mut gx);
                write_scaled(&mut x[base * i..(base + 1) * i], &gx, ls, "dL/dx_t", a.t)?;
            }
            if let Some(c) = memory.as_deref_mut() {
                cell.memory_adjoint(a.rec, a.g, &mut gc);
                write_scaled(&mut c[base * m..(base + 1) * m], &gc, ls, "dL/dc_t", a.t)?;
            }
            Ok(())
        })?;
        let ls0 = match initial_scale.as_deref_mut() {
            Some(sc) => {
                sc[b] = ls0;
                0.0
            }
            None => ls0,
        };
        write_scaled(&mut initial[b * s..(b + 1) * s], &g0, ls0, "dL/ds_init", 0)?;
    }
    Ok(())
}

/// Per-step norms `out[t * B + b]` (natural log) of `dL/ds_t[..adjoint_dim]`,
/// `dL/dx_t` or the total `dL/dc_t` for a loss at every step (`v` `(T, B, O)`):
/// [`crate::grad_norms`] for [`Loss::Every`]. One thread per lane.
pub fn grad_norms_every<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    v: &[F],
    wrt: crate::Wrt,
    memory_budget: usize,
    out: &mut [f64],
) -> Result<()> {
    seq.check_cell(cell)?;
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    let loss = Loss::Every(v);
    loss.check(steps, batch, cell.output_dim())?;
    check_len("out", out, steps * batch, "T * B")?;
    if wrt == crate::Wrt::Cell && cell.memory_dim() == 0 {
        return Err(Error::value(
            "wrt",
            "'state' or 'input' for this cell (only a cell with a memory cell has 'cell')",
            "'cell'",
        ));
    }
    let seg = plan_segment_with(cell, steps, memory_budget, true)?;
    let (adim, i) = (cell.adjoint_dim(), cell.input());
    let w = cell.weights();
    let mut gx = vec![F::ZERO; i];
    let mut gc = vec![F::ZERO; cell.memory_dim()];
    for b in 0..batch {
        lane_adjoint(
            cell,
            seq,
            b,
            &s0[b * s..(b + 1) * s],
            loss,
            None,
            seg,
            |a| {
                let n = match wrt {
                    crate::Wrt::State => ln_norm(&a.g[..adim]),
                    crate::Wrt::Input => {
                        gemv(&w.p_ih_t, a.g_xp, &w.zeros[..i], &mut gx);
                        ln_norm(&gx)
                    }
                    crate::Wrt::Cell => {
                        cell.memory_adjoint(a.rec, a.g, &mut gc);
                        ln_norm(&gc)
                    }
                };
                out[a.t * batch + b] = a.ls + n;
                Ok(())
            },
        )?;
    }
    Ok(())
}
