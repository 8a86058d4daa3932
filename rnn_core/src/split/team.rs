//! The team: each worker's share of the weights, the shared buffers, and a worker's
//! steps forward.

use super::cpus::{placement, Unpin};
use super::sync::{AbortOnPanic, Barrier, Shared};
use super::RUNNING;
use crate::cells::{Cell, SplitStep};
use crate::error::{Error, Result};
use crate::kernels::{gemv, Packed};
use crate::seq::{check_state, Seq, PROJ_BLOCK};
use crate::Real;
use std::cell::Cell as Counter;
use std::sync::atomic::Ordering;

/// Counts a running team in [`RUNNING`] until dropped.
pub(super) struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One worker's share of the weights.
pub(super) struct Part<F> {
    pub(super) u0: usize,
    pub(super) n: usize,
    /// Own rows of `W_hh`, gate-major: `(G n, H)`.
    pub(super) w: Packed<F>,
    /// Their transpose `(H, G n)`.
    pub(super) wt: Packed<F>,
    pub(super) w_ih: Vec<F>,
    pub(super) w_ih_t: Vec<F>,
    pub(super) bias: Vec<F>,
    /// Own rows of the bias inside the recurrent product (GRU's `b_hn`); empty when
    /// the product is added to the projection instead.
    pub(super) hh_bias: Vec<F>,
}

fn make_parts<F: Real, C: Cell<F> + ?Sized>(cell: &C, parts: usize) -> Vec<Part<F>> {
    let (h, i) = (cell.hidden(), cell.input());
    let g = cell.proj_dim() / h;
    let w = cell.weights();
    let bias = cell.proj_bias();
    (0..parts)
        .map(|p| {
            let (u0, u1) = (p * h / parts, (p + 1) * h / parts);
            let n = u1 - u0;
            let rows: Vec<usize> = (0..g)
                .flat_map(|q| (u0..u1).map(move |j| q * h + j))
                .collect();
            let gather = |a: &[F], cols: usize| -> Vec<F> {
                rows.iter()
                    .flat_map(|&r| a[r * cols..(r + 1) * cols].iter().copied())
                    .collect()
            };
            let transpose = |a: &[F], cols: usize| -> Vec<F> {
                let m = rows.len();
                let mut t = vec![F::ZERO; a.len()];
                for r in 0..m {
                    for c in 0..cols {
                        t[c * m + r] = a[r * cols + c];
                    }
                }
                t
            };
            let w_hh = gather(&w.w_hh, h);
            let w_ih = gather(&w.w_ih, i);
            let hh_bias = match cell.split().and_then(|s| s.product_bias()) {
                Some(full) => rows.iter().map(|&r| full[r]).collect(),
                None => Vec::new(),
            };
            Part {
                u0,
                n,
                w: Packed::new(&w_hh, g * n, h),
                wt: Packed::new(&transpose(&w_hh, h), h, g * n),
                w_ih_t: transpose(&w_ih, i),
                w_ih,
                bias: rows.iter().map(|&r| bias[r]).collect(),
                hh_bias,
            }
        })
        .collect()
}

/// What the workers share.
pub(super) struct Team<'a, F> {
    /// The cell's unit-by-unit step.
    pub(super) step: &'a dyn SplitStep<F>,
    /// Blocks of H in the state (`[h | c]`: 2).
    pub(super) blocks: usize,
    pub(super) h: usize,
    pub(super) parts: Vec<Part<F>>,
    pub(super) barrier: Barrier,
    /// `h` after even steps and after odd steps.
    pub(super) hbuf: [Shared<'a, F>; 2],
    /// Two copies (by step parity) of one partial `W_hh^T g_xp` (length H) per worker.
    pub(super) partial: Shared<'a, F>,
    /// Two copies of the blocks after `h` of the new adjoint (LSTM: c), each worker
    /// its units.
    pub(super) gc: Shared<'a, F>,
    pub(super) zeros: Vec<F>,
}

pub(super) struct Buffers<F> {
    pub(super) hbuf: [Vec<F>; 2],
    pub(super) partial: Vec<F>,
    pub(super) gc: Vec<F>,
}

impl<F: Real> Buffers<F> {
    pub(super) fn new(h: usize, parts: usize, blocks: usize) -> Self {
        Buffers {
            hbuf: [vec![F::ZERO; h], vec![F::ZERO; h]],
            partial: vec![F::ZERO; 2 * parts * h],
            gc: vec![F::ZERO; 2 * (blocks - 1) * h],
        }
    }
}

impl<'a, F: Real> Team<'a, F> {
    pub(super) fn new<C: Cell<F> + ?Sized>(
        cell: &'a C,
        step: &'a dyn SplitStep<F>,
        parts: usize,
        bufs: &'a mut Buffers<F>,
    ) -> Self {
        let [h0, h1] = &mut bufs.hbuf;
        Team {
            step,
            blocks: step.state_blocks(),
            h: cell.hidden(),
            parts: make_parts(cell, parts),
            barrier: Barrier::new(parts),
            hbuf: [Shared::new(h0), Shared::new(h1)],
            partial: Shared::new(&mut bufs.partial),
            gc: Shared::new(&mut bufs.gc),
            zeros: vec![F::ZERO; cell.hidden()],
        }
    }

    /// Run `work` on every worker (worker 0 on this thread) and merge the results:
    /// the first real error wins over the `Cancelled` of workers released by `abort`.
    pub(super) fn run<R: Send>(
        &self,
        work: impl Fn(&mut Worker<'_, 'a, F>) -> Result<R> + Sync,
    ) -> Result<R>
    where
        F: Send + Sync,
    {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        let _running = Running;
        let mask = placement::current();
        let cpus = mask
            .as_ref()
            .and_then(|m| placement::plan(m, self.parts.len()));
        let one = |p: usize| -> Result<R> {
            let _guard = AbortOnPanic(&self.barrier);
            let _unpin = Unpin(cpus.as_ref().and(mask.as_ref()));
            if let Some(c) = &cpus {
                placement::pin(c[p]);
            }
            let mut w = Worker::new(self, p);
            let r = work(&mut w);
            if r.is_err() {
                self.barrier.abort();
            }
            r
        };
        let results: Vec<Result<R>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (1..self.parts.len())
                .map(|p| {
                    let one = &one;
                    sc.spawn(move || one(p))
                })
                .collect();
            let mut all = vec![one(0)];
            for hd in handles {
                all.push(hd.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            all
        });
        let mut first = None;
        let mut cancelled = None;
        for r in results {
            match r {
                Ok(v) => first = first.or(Some(Ok(v))),
                Err(Error::Cancelled) => cancelled = Some(Error::Cancelled),
                Err(e) => return Err(e),
            }
        }
        match cancelled {
            Some(e) => Err(e),
            None => first.unwrap_or(Err(Error::Cancelled)),
        }
    }
}

pub(super) struct Worker<'t, 'a, F> {
    pub(super) team: &'t Team<'a, F>,
    pub(super) p: usize,
    pub(super) part: &'t Part<F>,
    /// Own units of every state block (`[h | c]` for LSTM) before and after the step.
    pub(super) st: Vec<F>,
    pub(super) next: Vec<F>,
    pub(super) proj: Vec<F>,
    pub(super) rec: Vec<F>,
    /// The recurrent product of the own rows.
    pub(super) prod: Vec<F>,
    /// Barriers this worker has reached.
    pub(super) crossed: Counter<usize>,
}

impl<'t, 'a, F: Real> Worker<'t, 'a, F> {
    /// Meet the other workers.
    pub(super) fn sync(&self) -> Result<()> {
        let n = self.crossed.get() + 1;
        self.crossed.set(n);
        self.team.barrier.wait(self.p, n)
    }

    pub(super) fn new(team: &'t Team<'a, F>, p: usize) -> Self {
        let part = &team.parts[p];
        let s = team.blocks * part.n;
        Worker {
            team,
            p,
            part,
            st: vec![F::ZERO; s],
            next: vec![F::ZERO; s],
            proj: vec![F::ZERO; PROJ_BLOCK * part.bias.len()],
            rec: vec![F::ZERO; team.step.record_per_unit() * part.n],
            prod: vec![F::ZERO; part.bias.len()],
            crossed: Counter::new(0),
        }
    }

    /// Take the own units of every block of the initial state `s0` as the state
    /// before step 0, publish them, and wait for the other workers to do the same.
    pub(super) fn enter(&mut self, s0: &[F]) -> Result<()> {
        let (u0, n, h) = (self.part.u0, self.part.n, self.team.h);
        for b in 0..self.team.blocks {
            self.st[b * n..(b + 1) * n].copy_from_slice(&s0[b * h + u0..b * h + u0 + n]);
        }
        // As the output of step -1: the copy that step 0 reads.
        self.publish(usize::MAX)
    }

    /// Restore the own state saved by [`Worker::steps`]'s caller, as the state before `t`.
    pub(super) fn restore(&mut self, own: &[F], t: usize) -> Result<()> {
        self.st.copy_from_slice(own);
        self.publish(t.wrapping_sub(1))
    }

    /// Write the own part of `h` (as the output of step `t`) and meet at the barrier.
    pub(super) fn publish(&self, t: usize) -> Result<()> {
        let (u0, n) = (self.part.u0, self.part.n);
        // SAFETY: between two barriers each worker writes only its own units of
        // `hbuf[t & 1]`. The last reads of that copy were in step t - 1 (whose input
        // is the output of step t - 2, the same parity), and every worker finished
        // them before the barrier that ended step t - 1; in step t workers read only
        // `hbuf[(t + 1) & 1]`.
        let mine = unsafe { self.team.hbuf[t & 1].get_mut(u0..u0 + n) };
        mine.copy_from_slice(&self.st[..n]);
        self.sync()
    }

    /// Steps `t0..t1` from the current state; `each(t, before, after)` sees the own
    /// state around every step. Records go to `recs[(t - t0) * r..]` when given.
    pub(super) fn steps(
        &mut self,
        seq: &Seq<'_, F>,
        t0: usize,
        t1: usize,
        mut recs: Option<&mut [F]>,
        mut each: impl FnMut(usize, &[F], &[F]) -> Result<()>,
    ) -> Result<()> {
        let (step, h) = (self.team.step, self.team.h);
        let part = self.part;
        let (n, gn) = (part.n, part.bias.len());
        let r = step.record_per_unit() * n;
        for b0 in (t0..t1).step_by(PROJ_BLOCK) {
            let b1 = (b0 + PROJ_BLOCK).min(t1);
            seq.project_rows(
                0,
                b0,
                b1,
                &part.bias,
                &part.w_ih,
                &part.w_ih_t,
                &mut self.proj,
            )?;
            for t in b0..b1 {
                let xp = &self.proj[(t - b0) * gn..(t - b0 + 1) * gn];
                let rec = match recs.as_deref_mut() {
                    Some(all) => &mut all[(t - t0) * r..(t - t0 + 1) * r],
                    None => &mut self.rec[..],
                };
                // SAFETY: during step t every worker only reads `hbuf[(t + 1) & 1]`
                // (written before the barrier that ended step t - 1) and only writes
                // `hbuf[t & 1]`, after this read, in `publish`.
                let h_prev = unsafe { self.team.hbuf[(t + 1) & 1].get(0..h) };
                let inside = if part.hh_bias.is_empty() {
                    xp
                } else {
                    &part.hh_bias
                };
                gemv(&part.w, h_prev, inside, &mut self.prod);
                step.step_units(n, xp, &mut self.prod, &self.st, &mut self.next, rec);
                check_state(&mut self.next, t)?;
                each(t, &self.st, &self.next)?;
                std::mem::swap(&mut self.st, &mut self.next);
                self.publish(t)?;
            }
        }
        Ok(())
    }
}
