//! Forward mode: how much of an initial-state perturbation survives each step.
//!
//! `u_t = J_t u_{t-1}` with `u_{-1} = u`, streamed with the trajectory in
//! `O(S)` memory per lane whatever `T` is; carried as a unit vector plus an
//! accumulated log-norm like the reverse pass.

use crate::cells::Cell;
use crate::error::{check_len, Error, Result};
use crate::kernels::{ln_norm, norm_f64};
use crate::seq::{check_rows, lane_columns, Runner, Seq};
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

/// The tangents `u_t = (d s_t / d s_init) u` themselves, as float64 `(rows, B, S)` into
/// `out`: every step (`at = None`, `rows = T`) or the strictly increasing steps `at`.
/// Carried normalised with a log-scale like [`sensitivity`]; a value below the float64
/// range is written as 0, one beyond it is an error naming the step. One thread per
/// lane.
pub fn tangents<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    u: &[F],
    at: Option<&[usize]>,
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
    if let Some(at) = at {
        crate::adjoint::check_steps(at, steps)?;
    }
    let rows = at.map_or(steps, <[usize]>::len);
    check_len("out", out, rows * batch * s, "rows * B * S (the tangents)")?;
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
        if n0 == 0.0 {
            for t in 0..steps {
                if let Some(r) = row_of(t) {
                    let base = r * batch + b;
                    out[base * s..(base + 1) * s].fill(0.0);
                }
            }
            continue;
        }
        let mut v: Vec<F> = u0.iter().map(|x| F::from_f64(x.to_f64() / n0)).collect();
        let mut v_next = vec![F::ZERO; s];
        let mut ls = n0.ln();
        let mut state = s0[b * s..(b + 1) * s].to_vec();
        let mut dead = false;
        Runner::new(cell).stream(seq, b, &mut state, 0, steps, |t, s_prev, rec| {
            if dead {
                v_next.fill(F::ZERO);
            } else {
                cell.jvp(rec, s_prev, &v, &mut v_next, &mut scratch);
            }
            let n = norm_f64(&v_next);
            if !n.is_finite() {
                return Err(Error::Numerics(format!(
                    "the propagated perturbation overflowed at step {t} (a step Jacobian has \
                     entries beyond the {} range)",
                    F::NAME
                )));
            }
            if let Some(r) = row_of(t) {
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
