//! The forward pass: outputs `y_t` for every step (`h_t`, the first `H` entries of
//! the state, unless the cell has an output map: [`Cell::output`]).

use crate::batch::{lane_groups, GroupRunner};
use crate::cells::{Cell, SplitStep};
use crate::error::{check_len, Result};
use crate::seq::{
    check_rows, check_state, check_threads, effective_threads, in_pool, par_each, Seq, PROJ_BLOCK,
};
use crate::Real;

/// Per batch element: its running state and one block of outputs.
struct Lane<F> {
    state: Vec<F>,
    next: Vec<F>,
    proj: Vec<F>,
    rec: Vec<F>,
    scratch: Vec<F>,
    out: Vec<F>,
}

/// Run the recurrence from `s0` (`(B, S)`) and write `y_t` into `out`
/// (`(T, B, output_dim)`): `h_t` (`H`), or `y_t = g(rec_t, s_t)` for a cell with an
/// output map.
pub fn forward<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    out: &mut [F],
    threads: Option<usize>,
) -> Result<()> {
    forward_states(cell, seq, s0, out, false, threads)
}

/// Like [`forward`]; with `full` the whole state `s_t` (`(T, B, S)`, LSTM: `(h, c)`)
/// is written instead of `y_t`.
pub fn forward_states<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    out: &mut [F],
    full: bool,
    threads: Option<usize>,
) -> Result<()> {
    seq.check_cell(cell)?;
    let (steps, batch) = (seq.steps, seq.batch);
    let s = cell.state_dim();
    let h = if full { s } else { cell.output_dim() };
    // An output map is evaluated per step; the split path only copies `h`.
    let mapped = !full && cell.has_output_map();
    check_rows("h0", s0, batch, s, "initial state")?;
    check_len("out", out, steps * batch * h, "T * B * (output size or S)")?;
    check_threads(threads)?;
    let parts = crate::split::parts_for(cell, batch, steps, threads);
    if parts > 1 && !full && !cell.has_output_map() {
        // One long sequence: split its hidden units over the threads.
        return crate::split::forward(cell, seq, s0, out, parts);
    }
    if let Some(step) = cell.split().filter(|_| batch >= 2 && !mapped) {
        return forward_groups(cell, step, seq, s0, out, h, threads);
    }
    let mut lanes: Vec<Lane<F>> = (0..batch)
        .map(|b| Lane {
            state: s0[b * s..(b + 1) * s].to_vec(),
            next: vec![F::ZERO; s],
            proj: vec![F::ZERO; PROJ_BLOCK * cell.proj_dim()],
            rec: vec![F::ZERO; cell.record_dim()],
            scratch: vec![F::ZERO; cell.scratch_dim()],
            out: vec![F::ZERO; PROJ_BLOCK * h],
        })
        .collect();
    let gh = cell.proj_dim();
    in_pool(threads, || {
        for t0 in (0..steps).step_by(PROJ_BLOCK) {
            let t1 = (t0 + PROJ_BLOCK).min(steps);
            par_each(&mut lanes, |b, ln| {
                seq.project(cell, b, t0, t1, &mut ln.proj)?;
                for t in t0..t1 {
                    let j = t - t0;
                    cell.step(
                        &ln.proj[j * gh..(j + 1) * gh],
                        &ln.state,
                        &mut ln.next,
                        &mut ln.rec,
                        &mut ln.scratch,
                    );
                    check_state(&mut ln.next, t)?;
                    std::mem::swap(&mut ln.state, &mut ln.next);
                    let y = &mut ln.out[j * h..(j + 1) * h];
                    if mapped {
                        cell.output(&ln.rec, &ln.state, y);
                    } else {
                        y.copy_from_slice(&ln.state[..h]);
                    }
                }
                Ok(())
            })?;
            for (b, ln) in lanes.iter().enumerate() {
                for t in t0..t1 {
                    let j = t - t0;
                    let dst = (t * batch + b) * h;
                    out[dst..dst + h].copy_from_slice(&ln.out[j * h..(j + 1) * h]);
                }
            }
        }
        Ok(())
    })
}

/// The forward pass of a dense cell with B >= 2: each thread steps a group of lanes
/// together ([`crate::batch`]); the same bits as one lane at a time.
fn forward_groups<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    step: &dyn SplitStep<F>,
    seq: &Seq<'_, F>,
    s0: &[F],
    out: &mut [F],
    h: usize,
    threads: Option<usize>,
) -> Result<()> {
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    // Per group: its runner, its states and one block of outputs `(PROJ_BLOCK, n, out)`.
    let mut groups: Vec<_> = lane_groups(batch, effective_threads(threads))
        .into_iter()
        .map(|(b0, n)| {
            let run = GroupRunner::new(cell, step, b0, n);
            (
                run,
                s0[b0 * s..(b0 + n) * s].to_vec(),
                vec![F::ZERO; PROJ_BLOCK * n * h],
            )
        })
        .collect();
    in_pool(threads, || {
        for t0 in (0..steps).step_by(PROJ_BLOCK) {
            let t1 = (t0 + PROJ_BLOCK).min(steps);
            par_each(&mut groups, |_, (run, state, buf)| {
                let n = run.n;
                run.run(seq, state, t0, t1, None, |t, st| {
                    let j = t - t0;
                    for lane in 0..n {
                        let y = &mut buf[(j * n + lane) * h..(j * n + lane + 1) * h];
                        y.copy_from_slice(&st[lane * s..lane * s + h]);
                    }
                    Ok(())
                })
            })?;
            for (run, _, buf) in &groups {
                let n = run.n;
                for t in t0..t1 {
                    let j = t - t0;
                    let dst = (t * batch + run.b0) * h;
                    out[dst..dst + n * h].copy_from_slice(&buf[j * n * h..(j + 1) * n * h]);
                }
            }
        }
        Ok(())
    })
}
