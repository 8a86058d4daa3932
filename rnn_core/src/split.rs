//! One long sequence on several cores.
//!
//! A single batch element leaves nothing to run in parallel across lanes, but every
//! step splits by hidden unit. Worker `p` owns units `u0..u0 + n`: the rows
//! `q H + j` (every gate `q`, own unit `j`) of `W_hh` and `W_ih`, those units' gates,
//! records and state. Forward, the workers publish their part of the new `h` and meet
//! at a barrier once per step (the `h` buffer alternates between two copies, so the
//! next step's writes never race the last step's reads). Reverse, each worker
//! multiplies its own gate adjoints by its columns of `W_hh^T`, which is a partial
//! sum of the whole `dL/dh_{t-1}`; after one barrier every worker adds all the
//! partials (H numbers each), takes the norm of the whole new adjoint itself, and
//! keeps its own units (the partials alternate between two copies like `h`).
//!
//! The forward values equal the single-thread pass bit for bit (each row's dot
//! product runs in the same order). The reverse adds the partials in another order,
//! so it agrees to rounding. Checkpointing follows [`crate::bptt::plan_segment`]:
//! the records and checkpoints are divided among the workers.

use crate::cells::{Cell, SplitStep};
use crate::error::{Error, Result};
use crate::kernels::{gemv, norm_f64, prefetch, scale_into, Packed};
use crate::seq::{buffer, check_state, effective_threads, env_threads, Seq, PROJ_BLOCK};
use crate::Real;
use std::cell::Cell as Counter;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many steps, starting threads costs more than it saves.
pub const MIN_STEPS: usize = 1024;
/// Fewest rows of `W_hh` per worker: below this the barrier of every step costs
/// more than the halved product saves (measured: an Elman cell with H = 64 on two
/// threads is slower than on one; with H = 128 and LSTMs from H = 32 it is faster).
pub const MIN_ROWS: usize = 64;
/// Fewest hidden units per worker.
pub const MIN_UNITS: usize = 16;
/// Most workers on one sequence (each step's barrier grows with the team).
pub const MAX_PARTS: usize = 8;

/// How many workers [`grad_norms`] and [`forward`] use for this call (1: no split).
pub fn parts_for<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    batch: usize,
    steps: usize,
    threads: Option<usize>,
) -> usize {
    if batch != 1
        || steps < MIN_STEPS
        || cell.split().is_none()
        || RUNNING.load(Ordering::Relaxed) > 0
    {
        return 1;
    }
    // Never more workers than CPUs this thread may use: spinning workers sharing a
    // CPU wait a time slice at every barrier.
    let mut cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads.is_none() && env_threads().is_none() {
        // By default, only the CPUs no other task is running on (one busy CPU would
        // hold up every step of both workers); an explicit thread count is obeyed.
        cpus = cpus.min(idle_cpus());
    }
    effective_threads(threads)
        .min(cpus)
        .min(cell.proj_dim() / MIN_ROWS)
        .min(cell.hidden() / MIN_UNITS)
        .clamp(1, MAX_PARTS)
}

/// CPUs not running another task now: the machine's CPUs minus the runnable tasks
/// other than the calling thread (`procs_running` of `/proc/stat`). The fewest of a
/// few readings 20 µs apart, so a thread that is just going to sleep (the Python
/// thread that started this call) is not taken for a busy CPU.
#[cfg(target_os = "linux")]
fn idle_cpus() -> usize {
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    let running = || {
        std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("procs_running "))
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
    };
    let mut fewest: Option<usize> = None;
    for attempt in 0..5 {
        match running() {
            None => break,
            Some(r) => fewest = Some(fewest.map_or(r, |f| f.min(r))),
        }
        if fewest <= Some(1) {
            break;
        }
        if attempt < 4 {
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }
    match fewest {
        Some(r) => online.saturating_sub(r.saturating_sub(1)).max(1),
        None => online,
    }
}

#[cfg(not(target_os = "linux"))]
fn idle_cpus() -> usize {
    usize::MAX
}

/// A buffer several workers access at once under the team's barrier protocol.
struct Shared<'a, T> {
    ptr: *mut T,
    len: usize,
    _owner: PhantomData<&'a mut [T]>,
}

// SAFETY: a `Shared` is a view of a buffer borrowed mutably for its whole lifetime,
// so nothing outside the team touches it. Inside the team every access goes through
// `get`/`get_mut`, whose callers uphold the barrier protocol: between two barriers,
// an element is either written by one worker only or read by any, never both.
unsafe impl<T: Send> Send for Shared<'_, T> {}
// SAFETY: as for `Send`; shared references only hand out the disjoint or read-only
// slices the protocol allows.
unsafe impl<T: Send + Sync> Sync for Shared<'_, T> {}

impl<'a, T> Shared<'a, T> {
    fn new(v: &'a mut [T]) -> Self {
        Shared {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            _owner: PhantomData,
        }
    }

    /// # Safety
    /// No worker writes any element of `r` between the last barrier before this call
    /// and the next barrier after it (while the slice is alive).
    unsafe fn get(&self, r: Range<usize>) -> &[T] {
        assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds (checked above) of a live allocation; no concurrent writer
        // by the caller's contract.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.len()) }
    }

    /// # Safety
    /// No other worker reads or writes any element of `r` between the last barrier
    /// before this call and the next barrier after it (while the slice is alive).
    #[allow(clippy::mut_from_ref)]
    unsafe fn get_mut(&self, r: Range<usize>) -> &mut [T] {
        assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds (checked above); exclusive for its lifetime by the contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.len()) }
    }
}

/// Busy-wait iterations before a waiting worker yields its core. A crossing takes
/// well under a microsecond when every worker has a core of its own.
const SPINS: u32 = 1 << 11;

/// Split teams running in this process now; a call made while one runs does not
/// split (two teams would need more cores than a split is meant to use).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// One cache line per worker, so a flag's writer never contends with another's.
#[repr(align(128))]
struct Line(AtomicUsize);

/// A spinning barrier for the team: worker `p` announces how many barriers it has
/// reached in its own cache line and waits until every other worker has reached as
/// many (no shared read-modify-write, so each crossing costs about one cache-line
/// transfer per direction). `abort` releases every waiter with an error, so a
/// worker that stops early (an error, a cancel, a panic) never strands the others.
struct Barrier {
    reached: Vec<Line>,
    aborted: Line,
}

impl Barrier {
    fn new(parties: usize) -> Self {
        Barrier {
            reached: (0..parties).map(|_| Line(AtomicUsize::new(0))).collect(),
            aborted: Line(AtomicUsize::new(0)),
        }
    }

    /// Worker `p` arrives at its `count`-th barrier (counts start at 1).
    fn wait(&self, p: usize, count: usize) -> Result<()> {
        // Release: this worker's writes before the barrier are visible to whoever
        // acquires the count below.
        self.reached[p].0.store(count, Ordering::Release);
        for (q, line) in self.reached.iter().enumerate() {
            if q == p {
                continue;
            }
            let mut spins = 0u32;
            while line.0.load(Ordering::Acquire) < count {
                if self.aborted.0.load(Ordering::Relaxed) != 0 {
                    return Err(Error::Cancelled);
                }
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    // The partner is not running (more busy threads than cores):
                    // give it our core instead of burning it.
                    std::thread::yield_now();
                }
            }
        }
        Ok(())
    }

    fn abort(&self) {
        self.aborted.0.store(1, Ordering::Relaxed);
    }
}

/// One CPU per worker when the calling thread may run on at least that many: worker
/// 0 (the calling thread) keeps the CPU it is on, the others take the next allowed
/// ones. Without this the scheduler starts a new thread on its parent's CPU and moves
/// it only milliseconds later, and two spinning workers on one CPU make every barrier
/// wait for a time slice.
#[cfg(target_os = "linux")]
mod placement {
    pub struct Mask(libc::cpu_set_t);

    /// The calling thread's allowed CPUs.
    pub fn current() -> Option<Mask> {
        // SAFETY: `cpu_set_t` is plain data, valid when zeroed; `sched_getaffinity`
        // (pid 0: the calling thread) writes at most `size_of::<cpu_set_t>()` bytes.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let n = std::mem::size_of::<libc::cpu_set_t>();
            (libc::sched_getaffinity(0, n, &mut set) == 0).then_some(Mask(set))
        }
    }

    /// A CPU for each of `parts` workers, worker 0's being the current one.
    pub fn plan(mask: &Mask, parts: usize) -> Option<Vec<usize>> {
        // SAFETY: `CPU_ISSET` reads bit c < CPU_SETSIZE of a valid set; `sched_getcpu`
        // has no preconditions.
        let (allowed, here) = unsafe {
            let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &mask.0))
                .collect();
            (allowed, libc::sched_getcpu())
        };
        if allowed.len() < parts {
            return None;
        }
        let start = allowed.iter().position(|&c| c as i32 == here).unwrap_or(0);
        Some(
            (0..parts)
                .map(|p| allowed[(start + p) % allowed.len()])
                .collect(),
        )
    }

    /// Restrict the calling thread to `cpu`.
    pub fn pin(cpu: usize) {
        // SAFETY: a zeroed set is valid; `cpu` < CPU_SETSIZE (it came from `plan`);
        // pid 0 is the calling thread. A refusal leaves the mask as it was: harmless.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }

    /// Give the calling thread `mask` again.
    pub fn restore(mask: &Mask) {
        // SAFETY: `mask` is a valid set read by `current`; pid 0 is the calling thread.
        unsafe {
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mask.0);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod placement {
    pub struct Mask;
    pub fn current() -> Option<Mask> {
        None
    }
    pub fn plan(_mask: &Mask, _parts: usize) -> Option<Vec<usize>> {
        None
    }
    pub fn pin(_cpu: usize) {}
    pub fn restore(_mask: &Mask) {}
}

/// Restores the thread's CPU mask when the worker ends (the caller's thread is
/// worker 0 and must not stay pinned).
struct Unpin<'m>(Option<&'m placement::Mask>);

impl Drop for Unpin<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.0 {
            placement::restore(m);
        }
    }
}

/// Counts a running team in [`RUNNING`] until dropped.
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sets `abort` if the worker leaves by unwinding.
struct AbortOnPanic<'a>(&'a Barrier);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}

/// One worker's share of the weights.
struct Part<F> {
    u0: usize,
    n: usize,
    /// Own rows of `W_hh`, gate-major: `(G n, H)`.
    w: Packed<F>,
    /// Their transpose `(H, G n)`.
    wt: Packed<F>,
    w_ih: Vec<F>,
    w_ih_t: Vec<F>,
    bias: Vec<F>,
    /// Own rows of the bias inside the recurrent product (GRU's `b_hn`); empty when
    /// the product is added to the projection instead.
    hh_bias: Vec<F>,
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
struct Team<'a, F> {
    /// The cell's unit-by-unit step.
    step: &'a dyn SplitStep<F>,
    /// Blocks of H in the state (`[h | c]`: 2).
    blocks: usize,
    h: usize,
    parts: Vec<Part<F>>,
    barrier: Barrier,
    /// `h` after even steps and after odd steps.
    hbuf: [Shared<'a, F>; 2],
    /// Two copies (by step parity) of one partial `W_hh^T g_xp` (length H) per worker.
    partial: Shared<'a, F>,
    /// Two copies of the blocks after `h` of the new adjoint (LSTM: c), each worker
    /// its units.
    gc: Shared<'a, F>,
    zeros: Vec<F>,
}

struct Buffers<F> {
    hbuf: [Vec<F>; 2],
    partial: Vec<F>,
    gc: Vec<F>,
}

impl<F: Real> Buffers<F> {
    fn new(h: usize, parts: usize, blocks: usize) -> Self {
        Buffers {
            hbuf: [vec![F::ZERO; h], vec![F::ZERO; h]],
            partial: vec![F::ZERO; 2 * parts * h],
            gc: vec![F::ZERO; 2 * (blocks - 1) * h],
        }
    }
}

impl<'a, F: Real> Team<'a, F> {
    fn new<C: Cell<F> + ?Sized>(
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
    fn run<R: Send>(&self, work: impl Fn(&mut Worker<'_, 'a, F>) -> Result<R> + Sync) -> Result<R>
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

struct Worker<'t, 'a, F> {
    team: &'t Team<'a, F>,
    p: usize,
    part: &'t Part<F>,
    /// Own units of every state block (`[h | c]` for LSTM) before and after the step.
    st: Vec<F>,
    next: Vec<F>,
    proj: Vec<F>,
    rec: Vec<F>,
    /// The recurrent product of the own rows.
    prod: Vec<F>,
    /// Barriers this worker has reached.
    crossed: Counter<usize>,
}

impl<'t, 'a, F: Real> Worker<'t, 'a, F> {
    /// Meet the other workers.
    fn sync(&self) -> Result<()> {
        let n = self.crossed.get() + 1;
        self.crossed.set(n);
        self.team.barrier.wait(self.p, n)
    }

    fn new(team: &'t Team<'a, F>, p: usize) -> Self {
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
    fn enter(&mut self, s0: &[F]) -> Result<()> {
        let (u0, n, h) = (self.part.u0, self.part.n, self.team.h);
        for b in 0..self.team.blocks {
            self.st[b * n..(b + 1) * n].copy_from_slice(&s0[b * h + u0..b * h + u0 + n]);
        }
        // As the output of step -1: the copy that step 0 reads.
        self.publish(usize::MAX)
    }

    /// Restore the own state saved by [`Worker::steps`]'s caller, as the state before `t`.
    fn restore(&mut self, own: &[F], t: usize) -> Result<()> {
        self.st.copy_from_slice(own);
        self.publish(t.wrapping_sub(1))
    }

    /// Write the own part of `h` (as the output of step `t`) and meet at the barrier.
    fn publish(&self, t: usize) -> Result<()> {
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
    fn steps(
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
                check_state(&self.next, t)?;
                each(t, &self.st, &self.next)?;
                std::mem::swap(&mut self.st, &mut self.next);
                self.publish(t)?;
            }
        }
        Ok(())
    }
}

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
        let mut ckpt = buffer(if nseg > 1 { nseg * sl } else { 0 });
        if nseg > 1 {
            w.enter(s0)?;
            w.steps(seq, 0, steps, None, |t, before, _after| {
                if t % seg == 0 {
                    ckpt[(t / seg) * sl..(t / seg + 1) * sl].copy_from_slice(before);
                }
                Ok(())
            })?;
        }
        let mut recs = buffer(seg * rl);
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
