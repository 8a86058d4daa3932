//! The passes on a team: forward, and the reverse pass of `grad_norms`.

use super::sync::Shared;
use super::team::{Buffers, Team};
use crate::cells::{Cell, SplitStep};
use crate::error::{Error, Result};
use crate::kernels::{gemv, norm_f64, prefetch, scale_into};
use crate::seq::{buffer, Seq, PROJ_BLOCK};
use crate::Real;

/// The cell's unit-by-unit step; an error (not a panic) for a cell without one.
fn split_step<F: Real, C: Cell<F> + ?Sized>(cell: &C) -> Result<&dyn SplitStep<F>> {
    cell.split().ok_or_else(|| {
        Error::value(
            "cell",
            "a cell that can be split by hidden unit",
            cell.kind().to_string(),
        )
    })
}

/// [`crate::forward`] for one sequence split over `parts` workers (`out`: `(T, H)`).
pub fn forward<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    out: &mut [F],
    parts: usize,
) -> Result<()> {
    let (h, steps) = (cell.hidden(), seq.steps);
    let step = split_step(cell)?;
    let mut bufs = Buffers::new(h, parts, step.state_blocks());
    let team = Team::new(cell, step, parts, &mut bufs);
    let out = Shared::new(out);
    team.run(|w| {
        w.enter(s0)?;
        let (u0, n) = (w.part.u0, w.part.n);
        w.steps(seq, 0, steps, None, |t, _before, after| {
            // SAFETY: row t's units u0..u0 + n are written by this worker only, once,
            // and nobody reads `out` until the team has finished.
            unsafe { out.get_mut(t * h + u0..t * h + u0 + n) }.copy_from_slice(&after[..n]);
            Ok(())
        })
    })
}

/// [`crate::grad_norms`] with `wrt` state (`||dL/dh_t||`) for one sequence split over
/// `parts` workers, with segments of `seg` steps (`seg >= T`: everything stored).
#[allow(clippy::too_many_arguments)]
pub fn grad_norms<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    v: &[F],
    seg: usize,
    parts: usize,
    out: &mut [f64],
) -> Result<()> {
    let (h, steps) = (cell.hidden(), seq.steps);
    let n0 = norm_f64(v);
    if n0 == 0.0 {
        out.fill(f64::NEG_INFINITY);
        return Ok(());
    }
    let seg = seg.clamp(1, steps);
    let nseg = steps.div_ceil(seg);
    let step = split_step(cell)?;
    let blocks = step.state_blocks();
    let mut bufs = Buffers::new(h, parts, blocks);
    let team = Team::new(cell, step, parts, &mut bufs);
    let out = Shared::new(out);
    team.run(|w| {
        let (u0, n, p) = (w.part.u0, w.part.n, w.p);
        let (sl, rl) = (blocks * n, step.record_per_unit() * n);
        // SAFETY: only worker 0 writes `out` and nobody reads it during the run.
        let mut out0 = (p == 0).then(|| unsafe { out.get_mut(0..steps) });
        let mut ckpt = buffer(
            if nseg > 1 { nseg * sl } else { 0 },
            "the checkpointed states of the reverse pass",
        )?;
        if nseg > 1 {
            w.enter(s0)?;
            w.steps(seq, 0, steps, None, |t, before, _after| {
                if t % seg == 0 {
                    ckpt[(t / seg) * sl..(t / seg + 1) * sl].copy_from_slice(before);
                }
                Ok(())
            })?;
        }
        let mut recs = buffer(seg * rl, "the stored records of the reverse pass")?;
        // The adjoint of the own units, kept at unit norm overall: [gh | gc].
        let mut g = vec![F::ZERO; sl];
        for j in 0..n {
            g[j] = F::from_f64(v[u0 + j].to_f64() / n0);
        }
        let mut log_scale = n0.ln();
        if let Some(o) = out0.as_deref_mut() {
            o[steps - 1] = log_scale;
        }
        let gn = w.part.bias.len();
        // The adjoint of the own rows' product, the own blocks after h of the new
        // adjoint, the direct path (GRU's z g) and the cell's scratch.
        let mut gprod = vec![F::ZERO; gn];
        let mut rest_own = vec![F::ZERO; (blocks - 1) * n];
        let mut direct = vec![F::ZERO; n];
        let mut scratch = vec![F::ZERO; gn];
        let has_direct = step.has_direct();
        // The whole new adjoint (every block), formed by every worker from the shared parts.
        let mut full = vec![F::ZERO; blocks * h];
        let rest = (blocks - 1) * h;
        for k in (0..nseg).rev() {
            let (t0, t1) = (k * seg, ((k + 1) * seg).min(steps));
            if nseg > 1 {
                w.restore(&ckpt[k * sl..(k + 1) * sl], t0)?;
            } else {
                w.enter(s0)?;
            }
            w.steps(seq, t0, t1, Some(&mut recs), |_t, _b, _a| Ok(()))?;
            for t in (t0..t1).rev() {
                let j = t - t0;
                if j >= 4 {
                    prefetch(&recs[(j - 4) * rl..(j - 3) * rl]);
                }
                if j % PROJ_BLOCK == 0 {
                    seq.check_cancel()?;
                }
                let rec = &recs[j * rl..(j + 1) * rl];
                step.vjp_units(
                    n,
                    rec,
                    &g,
                    &mut gprod,
                    &mut direct,
                    &mut rest_own,
                    &mut scratch,
                );
                // Step t uses copy t & 1 of the shared parts. A worker writes copy t & 1
                // again only at step t - 2, after the barrier of step t - 1, which every
                // worker reaches only once it has finished reading copy t & 1 here.
                let (pbase, cbase) = ((t & 1) * parts * h, (t & 1) * rest);
                {
                    // SAFETY: row p of this copy of `partial` and units u0..u0 + n of this
                    // copy of `gc` are written by worker p only, before the barrier below;
                    // nobody reads them until after it (see above for the next write).
                    let mine =
                        unsafe { w.team.partial.get_mut(pbase + p * h..pbase + (p + 1) * h) };
                    gemv(&w.part.wt, &gprod, &w.team.zeros, mine);
                    if has_direct {
                        // The direct path of the own units joins this worker's partial.
                        for (a, d) in mine[u0..u0 + n].iter_mut().zip(&direct) {
                            *a += *d;
                        }
                    }
                    for b in 1..blocks {
                        let at = cbase + (b - 1) * h + u0;
                        let c = unsafe { w.team.gc.get_mut(at..at + n) };
                        c.copy_from_slice(&rest_own[(b - 1) * n..b * n]);
                    }
                }
                w.sync()?;
                {
                    // SAFETY: this copy is not written again before the next barrier.
                    let all = unsafe { w.team.partial.get(pbase..pbase + parts * h) };
                    let (fh, fc) = full.split_at_mut(h);
                    fh.copy_from_slice(&all[..h]);
                    for row in all[h..].chunks_exact(h) {
                        for (a, b) in fh.iter_mut().zip(row) {
                            *a += *b;
                        }
                    }
                    if blocks > 1 {
                        // SAFETY: as for `partial`.
                        fc.copy_from_slice(unsafe { w.team.gc.get(cbase..cbase + rest) });
                    }
                }
                // Every worker computes the same norms from the same values.
                let norm_h = norm_f64(&full[..h]);
                let norm_c = if blocks > 1 {
                    norm_f64(&full[h..])
                } else {
                    0.0
                };
                if !(norm_h.is_finite() && norm_c.is_finite()) {
                    return Err(Error::Numerics(format!(
                        "the backpropagated gradient overflowed at step {t} (a single step \
                         Jacobian has entries beyond the {} range)",
                        F::NAME
                    )));
                }
                let m = norm_h.max(norm_c);
                if m == 0.0 {
                    if let Some(o) = out0.as_deref_mut() {
                        o[..t].fill(f64::NEG_INFINITY);
                    }
                    return Ok(());
                }
                let norm = m * ((norm_h / m).powi(2) + (norm_c / m).powi(2)).sqrt();
                if t > 0 {
                    if let Some(o) = out0.as_deref_mut() {
                        // ln ||g_h|| after dividing by `norm` and adding ln(norm).
                        o[t - 1] = log_scale + norm_h.ln();
                    }
                }
                let inv = F::from_f64(1.0 / norm);
                for b in 0..blocks {
                    let own = &full[b * h + u0..b * h + u0 + n];
                    scale_into(&mut g[b * n..(b + 1) * n], own, inv);
                }
                log_scale += norm.ln();
            }
        }
        Ok(())
    })
}
