//! Forward mode: how much of an initial-state perturbation survives each step.
//!
//! `u_t = J_t u_{t-1}` with `u_{-1} = u`, streamed with the trajectory in
//! `O(S)` memory per lane whatever `T` is; carried as a unit vector plus an
//! accumulated log-norm like the reverse pass.

use crate::cells::Cell;
use crate::error::{check_len, Error, Result};
use crate::kernels::{ln_norm, norm_f64};
use crate::seq::{check_rows, lane_columns, Runner, Seq, PROJ_BLOCK};
use crate::Real;

/// Which part of the state perturbation is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The whole state (LSTM: `(h, c)`).
    State,
    /// The output `h` only (the first `H` entries of the state; refused for a cell
    /// with an output map, [`Cell::has_output_map`]).
    Hidden,
}

impl Part {
    /// Parse "state" or "hidden".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "state" => Ok(Part::State),
            "hidden" => Ok(Part::Hidden),
            other => Err(Error::value(
                "part",
                "'state' or 'hidden'",
                format!("'{other}'"),
            )),
        }
    }
}

/// Per-step `ln ||(d s_t / d s_init) u||` into `out` (`(T, B)`), where `s_init` is the
/// initial state and `s_t` the state after step `t`.
pub fn sensitivity<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    u: &[F],
    part: Part,
    threads: Option<usize>,
    out: &mut [f64],
) -> Result<()> {
    seq.check_cell(cell)?;
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    check_rows(
        "u",
        u,
        batch,
        s,
        "one initial-state perturbation per batch element",
    )?;
    check_len("out", out, steps * batch, "T * B")?;
    if part == Part::Hidden && cell.has_output_map() {
        // The output is not a part of the state: its tangent (dy_t/ds_t) u_t is not
        // implemented, and the first H entries of the state would be a wrong answer.
        return Err(Error::value(
            "part",
            format!(
                "'state' for {} (its output y_t is computed from the state, not a part of it; \
                 part='hidden' is not supported)",
                cell.kind()
            ),
            "'hidden'",
        ));
    }
    let lane = |b: usize, o: &mut [f64]| {
        lane_sens(
            cell,
            seq,
            b,
            &s0[b * s..(b + 1) * s],
            &u[b * s..(b + 1) * s],
            part,
            o,
        )
    };
    lane_columns(out, steps, batch, threads, lane)
}

fn lane_sens<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    u0: &[F],
    part: Part,
    out: &mut [f64],
) -> Result<()> {
    let s = cell.state_dim();
    let reported = match part {
        Part::State => s,
        Part::Hidden => cell.hidden(),
    };
    let n0 = norm_f64(u0);
    if n0 == 0.0 {
        out.fill(f64::NEG_INFINITY);
        return Ok(());
    }
    let mut u: Vec<F> = u0.iter().map(|x| F::from_f64(x.to_f64() / n0)).collect();
    let mut u_next = vec![F::ZERO; s];
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    let mut log_scale = n0.ln();
    let mut state = s0.to_vec();
    let mut zero_from = None;
    Runner::new(cell).stream(seq, b, &mut state, 0, seq.steps, |t, s_prev, rec| {
        cell.jvp(rec, s_prev, &u, &mut u_next, &mut scratch);
        out[t] = log_scale + ln_norm(&u_next[..reported]);
        let n = norm_f64(&u_next);
        if !n.is_finite() {
            return Err(Error::Numerics(format!(
                "the propagated perturbation overflowed at step {t} (a step Jacobian has entries \
                 beyond the {} range)",
                F::NAME
            )));
        }
        if n == 0.0 {
            zero_from = Some(t + 1);
            return Ok(false);
        }
        let inv = F::from_f64(1.0 / n);
        for (ui, vi) in u.iter_mut().zip(&u_next) {
            *ui = *vi * inv;
        }
        log_scale += n.ln();
        Ok(true)
    })?;
    if let Some(t) = zero_from {
        out[t..].fill(f64::NEG_INFINITY);
    }
    Ok(())
}

/// A tangent of the inputs for [`tangents`]: `dx` `(T, B, I)`, optionally scaled by
/// `e^{log_scale}` per step and lane (`(T, B)`).
#[derive(Clone, Copy, Debug)]
pub struct InputTangent<'a, F> {
    /// The tangent (or its direction when `log_scale` is given).
    pub dx: &'a [F],
    /// Natural log of the factor each `dx[t, b]` is multiplied by.
    pub log_scale: Option<&'a [f64]>,
}

/// The tangents `u_t = (d s_t / d s_init) u` themselves, as float64 `(rows, B, S)` into
/// `out`: every step (`at = None`, `rows = T`) or the strictly increasing steps `at`.
/// With `dx` (`(T, B, I)`, a tangent of the inputs) they are
/// `(d s_t / d s_init) u + sum_{k <= t} (d s_t / d x_k) dx_k`.
/// Carried normalised with a log-scale like [`sensitivity`] (rescaled to the larger of
/// the two parts at every step); a value below the float64 range is written as 0, one
/// beyond it is an error naming the step. One thread per lane.
///
/// With `dx.log_scale` (`(T, B)`) the input tangent of step `t`, lane `b` is
/// `dx[t, b] e^{log_scale[t, b]}`; with `scales` (`(rows, B)`) every row of `out` is
/// written at unit norm (or 0) and its natural log-norm goes to `scales`, so nothing
/// overflows or vanishes however far the tangents fall (a stack passes them on so).
#[allow(clippy::too_many_arguments)]
pub fn tangents<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    u: &[F],
    dx: Option<InputTangent<'_, F>>,
    at: Option<&[usize]>,
    out: &mut [f64],
    mut scales: Option<&mut [f64]>,
) -> Result<()> {
    seq.check_cell(cell)?;
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    check_rows(
        "u",
        u,
        batch,
        s,
        "one initial-state perturbation per batch element",
    )?;
    if let Some(at) = at {
        crate::adjoint::check_steps(at, steps)?;
    }
    let rows = at.map_or(steps, <[usize]>::len);
    check_len("out", out, rows * batch * s, "rows * B * S (the tangents)")?;
    if let Some(sc) = scales.as_deref() {
        check_len("scales", sc, rows * batch, "rows * B")?;
    }
    let dx_scale = dx.and_then(|d| d.log_scale);
    if let Some(sc) = dx_scale {
        check_len("dx_scale", sc, steps * batch, "T * B")?;
        if sc.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
            return Err(Error::value(
                "dx_scale",
                "finite log-scales or -inf",
                "NaN or +inf",
            ));
        }
    }
    let dseq = match dx.map(|d| d.dx) {
        Some(d) => Some(Seq::new(d, steps, batch, seq.input).map_err(|e| match e {
            Error::Shape { .. } => Error::shape(
                "dx",
                format!("shape ({steps}, {batch}, {}) like x", seq.input),
                format!("{} values", d.len()),
            ),
            other => other,
        })?),
        None => None,
    };
    let gh = cell.proj_dim();
    let (w, zeros) = (cell.weights(), vec![F::ZERO; gh]);
    let mut dxp = vec![F::ZERO; if dx.is_some() { PROJ_BLOCK * gh } else { 0 }];
    let mut dxp_scaled = vec![F::ZERO; gh];
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    for b in 0..batch {
        let u0 = &u[b * s..(b + 1) * s];
        let n0 = norm_f64(u0);
        let mut next = 0usize;
        let mut row_of = |t: usize| -> Option<usize> {
            match at {
                None => Some(t),
                Some(at) => {
                    if next < at.len() && at[next] == t {
                        next += 1;
                        Some(next - 1)
                    } else {
                        None
                    }
                }
            }
        };
        if n0 == 0.0 && dseq.is_none() {
            for t in 0..steps {
                if let Some(r) = row_of(t) {
                    let base = r * batch + b;
                    out[base * s..(base + 1) * s].fill(0.0);
                    if let Some(sc) = scales.as_deref_mut() {
                        sc[base] = f64::NEG_INFINITY;
                    }
                }
            }
            continue;
        }
        let mut v: Vec<F> = if n0 > 0.0 {
            u0.iter().map(|x| F::from_f64(x.to_f64() / n0)).collect()
        } else {
            vec![F::ZERO; s]
        };
        let mut v_next = vec![F::ZERO; s];
        let mut ls = if n0 > 0.0 { n0.ln() } else { f64::NEG_INFINITY };
        let mut state = s0[b * s..(b + 1) * s].to_vec();
        let mut dead = n0 == 0.0;
        Runner::new(cell).stream(seq, b, &mut state, 0, steps, |t, s_prev, rec| {
            // The input tangent's part of this step, `dxp = W_ih dx_t`, and its size.
            let mut input = None;
            if let Some(ds) = dseq.as_ref() {
                let j = t % PROJ_BLOCK;
                if j == 0 {
                    let t1 = (t + PROJ_BLOCK).min(steps);
                    ds.project_rows(b, t, t1, &zeros, &w.w_ih, &w.w_ih_t, &mut dxp)?;
                }
                let row = &dxp[j * gh..(j + 1) * gh];
                let nd = norm_f64(row);
                let extra = dx_scale.map_or(0.0, |sc| sc[t * batch + b]);
                if nd > 0.0 && extra > f64::NEG_INFINITY {
                    input = Some((row, nd.ln() + extra, extra));
                }
            }
            match input {
                Some((row, ln_d, extra)) => {
                    // Both parts at the larger scale: v e^{ls - L} and dxp e^{extra - L}.
                    let big = if dead { ln_d } else { ls.max(ln_d) };
                    let f = if dead { 0.0 } else { (ls - big).exp() };
                    for vi in v.iter_mut() {
                        *vi = F::from_f64(vi.to_f64() * f);
                    }
                    let g = (extra - big).exp();
                    for (d, r) in dxp_scaled.iter_mut().zip(row) {
                        *d = F::from_f64(r.to_f64() * g);
                    }
                    cell.jvp_xp(rec, s_prev, &v, &dxp_scaled, &mut v_next, &mut scratch);
                    ls = big;
                    dead = false;
                }
                None if dead => v_next.fill(F::ZERO),
                None => cell.jvp(rec, s_prev, &v, &mut v_next, &mut scratch),
            }
            let n = norm_f64(&v_next);
            if !n.is_finite() {
                return Err(Error::Numerics(format!(
                    "the propagated perturbation overflowed at step {t} (a step Jacobian has \
                     entries beyond the {} range)",
                    F::NAME
                )));
            }
            let row = row_of(t);
            if let (Some(r), Some(sc)) = (row, scales.as_deref_mut()) {
                let base = r * batch + b;
                let dst = &mut out[base * s..(base + 1) * s];
                if n > 0.0 {
                    for (d, x) in dst.iter_mut().zip(&v_next) {
                        *d = x.to_f64() / n;
                    }
                    sc[base] = ls + n.ln();
                } else {
                    dst.fill(0.0);
                    sc[base] = f64::NEG_INFINITY;
                }
            } else if let Some(r) = row {
                let base = r * batch + b;
                let dst = &mut out[base * s..(base + 1) * s];
                if ls > 0.0 && ls + n.ln() > f64::MAX.ln() {
                    return Err(Error::Numerics(format!(
                        "the tangent at step {t} exceeds the float64 range (its norm is \
                         e^{:.1}); use sensitivity with log=True for its size",
                        ls + n.ln()
                    )));
                }
                let f = ls.exp();
                for (d, x) in dst.iter_mut().zip(&v_next) {
                    *d = x.to_f64() * f;
                }
            }
            if n == 0.0 {
                dead = true;
            } else if !dead {
                for (vi, wi) in v.iter_mut().zip(&v_next) {
                    *vi = F::from_f64(wi.to_f64() / n);
                }
                ls += n.ln();
            }
            Ok(true)
        })?;
    }
    Ok(())
}
