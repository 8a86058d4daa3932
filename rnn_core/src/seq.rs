//! Input sequences, the input projection, and batch parallelism shared by the passes.

use crate::cells::Cell;
use crate::error::{check_finite, Error, Result};
use crate::Real;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Steps per block of the input projection: one matrix product per block.
pub const PROJ_BLOCK: usize = 256;

/// A batch of sequences laid out `(T, B, I)` row-major.
#[derive(Clone, Copy, Debug)]
pub struct Seq<'a, F> {
    /// The data, `steps * batch * input` values.
    pub x: &'a [F],
    /// `T`.
    pub steps: usize,
    /// `B`.
    pub batch: usize,
    /// `I`.
    pub input: usize,
    /// Set from another thread to stop the computation at the next block of steps.
    pub cancel: Option<&'a AtomicBool>,
    /// Whether `x` holds subnormal numbers, which are read as 0 (see [`check_state`]).
    pub subnormal: bool,
}

impl<'a, F: Real> Seq<'a, F> {
    /// Validate the layout against a cell and that every value is finite.
    pub fn new(x: &'a [F], steps: usize, batch: usize, input: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::value(
                "x",
                "at least one time step (T >= 1)",
                "T = 0",
            ));
        }
        if batch == 0 {
            return Err(Error::value(
                "x",
                "at least one batch element (B >= 1)",
                "B = 0",
            ));
        }
        let n = steps
            .checked_mul(batch)
            .and_then(|v| v.checked_mul(input))
            .ok_or_else(|| {
                Error::shape("x", "a size that fits in memory", "an overflowing size")
            })?;
        if x.len() != n {
            return Err(Error::shape(
                "x",
                format!("{n} values for shape ({steps}, {batch}, {input})"),
                format!("{} values", x.len()),
            ));
        }
        check_finite("x", x)?;
        Ok(Seq {
            x,
            steps,
            batch,
            input,
            cancel: None,
            subnormal: crate::kernels::any_subnormal(x),
        })
    }

    /// The same sequence, stopping with [`Error::Cancelled`] once `flag` is set.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Fail with [`Error::Cancelled`] if the caller asked to stop.
    #[inline]
    pub fn check_cancel(&self) -> Result<()> {
        match self.cancel {
            Some(f) if f.load(Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Fail unless the input size matches the cell's.
    pub fn check_cell<C: Cell<F> + ?Sized>(&self, cell: &C) -> Result<()> {
        if self.input != cell.input() {
            return Err(Error::shape(
                "x",
                format!(
                    "shape (T, B, {0}) to match weight_ih ({1}, {0})",
                    cell.input(),
                    cell.proj_dim()
                ),
                format!("({}, {}, {})", self.steps, self.batch, self.input),
            ));
        }
        Ok(())
    }

    /// `out[(t - t0) * G*H + r] = bias[r] + sum_k W_ih[r, k] x[t, b, k]` for `t` in `t0..t1`,
    /// as one matrix product.
    pub fn project<C: Cell<F> + ?Sized>(
        &self,
        cell: &C,
        b: usize,
        t0: usize,
        t1: usize,
        out: &mut [F],
    ) -> Result<()> {
        let w = cell.weights();
        self.project_rows(b, t0, t1, cell.proj_bias(), &w.w_ih, &w.w_ih_t, out)
    }

    /// [`Seq::project`] for any rows: `out[t - t0] = bias + W x_t` for `t` in
    /// `t0..t1` with `W` given row-major (`w`, `(G, I)`) and transposed (`w_t`, `(I, G)`).
    #[allow(clippy::too_many_arguments)]
    pub fn project_rows(
        &self,
        b: usize,
        t0: usize,
        t1: usize,
        bias: &[F],
        w: &[F],
        w_t: &[F],
        out: &mut [F],
    ) -> Result<()> {
        self.check_cancel()?;
        let gh = bias.len();
        let n = t1 - t0;
        for row in out[..n * gh].chunks_exact_mut(gh) {
            row.copy_from_slice(bias);
        }
        let i = self.input;
        let start = (t0 * self.batch + b) * i;
        if self.subnormal {
            // Read subnormal inputs as 0, like the state (see `check_state`): a copy of
            // this block's rows with them flushed.
            let mut rows = Vec::with_capacity(n * i);
            for j in 0..n {
                let at = start + j * self.batch * i;
                rows.extend(self.x[at..at + i].iter().map(|v| {
                    if v.abs() < F::MIN_POSITIVE {
                        F::ZERO
                    } else {
                        *v
                    }
                }));
            }
            let block = Seq {
                x: &rows,
                steps: n,
                batch: 1,
                input: i,
                cancel: None,
                subnormal: false,
            };
            return block.project_rows(0, 0, n, bias, w, w_t, out);
        }
        if i <= 4 {
            // Narrow inputs: the product is a few scaled columns of W_ih added to each
            // row; a direct loop beats packing for a general matrix product.
            for (j, row) in out[..n * gh].chunks_exact_mut(gh).enumerate() {
                let xt = &self.x[start + j * self.batch * i..start + j * self.batch * i + i];
                for (k, xk) in xt.iter().enumerate() {
                    for (o, wk) in row.iter_mut().zip(&w_t[k * gh..(k + 1) * gh]) {
                        *o += *wk * *xk;
                    }
                }
            }
            return Ok(());
        }
        F::gemm_acc(
            n,
            i,
            gh,
            (&self.x[start..], self.batch * i, 1),
            (w, 1, i),
            (&mut out[..n * gh], gh),
        )
    }
}

/// `a` must hold `batch` rows of `dim` values (`what` says what a row is).
pub fn check_rows<F: Real>(
    name: &str,
    a: &[F],
    batch: usize,
    dim: usize,
    what: &str,
) -> Result<()> {
    if a.len() != batch * dim {
        return Err(Error::shape(
            name,
            format!("shape ({batch}, {dim}) ({what})"),
            format!("{} values", a.len()),
        ));
    }
    check_finite(name, a)
}

/// Fail with a numerics error if the state left the float range, and flush its
/// subnormal entries to zero.
///
/// Flush to zero in software: values below the smallest normal number (1.2e-38 in
/// float32, 2.2e-308 in float64) in the state carried from step to step, and in the
/// inputs ([`Seq::project_rows`]), count as 0. Arithmetic on subnormal numbers is many
/// times slower on some CPUs, and they carry no information a norm can see next to
/// the values the cell adds every step. The CPU's own FTZ/DAZ modes are not used: the
/// compiler assumes the default floating-point environment, so changing it from Rust
/// is undefined behaviour.
#[inline]
pub fn check_state<F: Real>(s: &mut [F], t: usize) -> Result<()> {
    if crate::kernels::settle(s) {
        Ok(())
    } else {
        Err(Error::Numerics(format!(
            "the hidden state left the {} range at step {t} (overflow to inf/NaN); \
             the forward trajectory cannot be computed. Lower the spectral radius or the \
             input scale, or use float64",
            F::NAME
        )))
    }
}

/// Upper bound on a requested thread count (far above any useful value).
pub const MAX_THREADS: usize = 1024;

/// `threads` must be `None` or in `1..=MAX_THREADS`.
pub fn check_threads(threads: Option<usize>) -> Result<()> {
    match threads {
        Some(0) => Err(Error::value("threads", "a positive number of threads", "0")),
        Some(n) if n > MAX_THREADS => Err(Error::value(
            "threads",
            format!("at most {MAX_THREADS} threads"),
            n.to_string(),
        )),
        _ => Ok(()),
    }
}

/// Run `f` inside a pool of `threads` threads (None: sized by LONGDEP_NUM_THREADS or
/// the number of cores).
///
/// The pools belong to the process that built them: rayon's global pool is never used,
/// and a pool found after a `fork` (its threads do not exist in the child) is set aside
/// and a new one built, so a forked child's calls run instead of waiting forever.
pub fn in_pool<R: Send>(threads: Option<usize>, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    let threads = threads.or_else(env_threads);
    check_threads(threads)?;
    let n = threads.unwrap_or_else(cores);
    pool(n)?.install(f)
}

/// The number of cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// This process's pool of `n` threads (built on first use, rebuilt after a fork).
fn pool(n: usize) -> Result<std::sync::Arc<rayon::ThreadPool>> {
    use std::sync::{Arc, Mutex};
    type Pools = Vec<(usize, Arc<rayon::ThreadPool>)>;
    static POOLS: Mutex<(u32, Pools)> = Mutex::new((0, Vec::new()));
    let pid = std::process::id();
    // A poisoned lock only means another call panicked while holding it; the list
    // itself is still valid.
    let mut guard = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if guard.0 != pid {
        // Inherited across a fork: the threads are gone. Dropping these pools would
        // try to signal them, so they are leaked (a few hundred bytes each, once).
        for (_, p) in guard.1.drain(..) {
            std::mem::forget(p);
        }
        guard.0 = pid;
    }
    if let Some((_, p)) = guard.1.iter().find(|(m, _)| *m == n) {
        return Ok(Arc::clone(p));
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| Error::Resource(format!("cannot start {n} threads: {e}")))?;
    let p = Arc::new(built);
    guard.1.push((n, Arc::clone(&p)));
    Ok(p)
}

/// Fill the `(T, B)` row-major `out` lane by lane: `lane(b, column)` writes the
/// `T` values of lane `b`. Lanes run in parallel; a single lane writes in place.
pub fn lane_columns(
    out: &mut [f64],
    steps: usize,
    batch: usize,
    threads: Option<usize>,
    lane: impl Fn(usize, &mut [f64]) -> Result<()> + Send + Sync,
) -> Result<()> {
    in_pool(threads, || {
        if batch == 1 {
            return lane(0, out);
        }
        let cols = (0..batch)
            .into_par_iter()
            .map(|b| {
                let mut o = buffer(steps, "the per-step results of one batch element")?;
                lane(b, &mut o).map(|_| o)
            })
            .collect::<Result<Vec<_>>>()?;
        for (b, col) in cols.iter().enumerate() {
            for (t, val) in col.iter().enumerate() {
                out[t * batch + b] = *val;
            }
        }
        Ok(())
    })
}

/// `f(b, item_b)` for every item, in parallel (serially for a single item).
pub fn par_each<T: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut T) -> Result<()> + Send + Sync,
) -> Result<()> {
    if items.len() == 1 {
        return f(0, &mut items[0]);
    }
    items
        .par_iter_mut()
        .enumerate()
        .try_for_each(|(b, it)| f(b, it))
}

pub(crate) fn env_threads() -> Option<usize> {
    std::env::var("LONGDEP_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
}

/// Number of threads a call with `threads` would use.
pub fn effective_threads(threads: Option<usize>) -> usize {
    threads.or_else(env_threads).unwrap_or_else(cores)
}

/// Runs a cell forward over a lane, projecting the input in blocks.
pub struct Runner<'c, F, C: ?Sized> {
    cell: &'c C,
    proj: Vec<F>,
    scratch: Vec<F>,
    next: Vec<F>,
    rec: Vec<F>,
}

impl<'c, F: Real, C: Cell<F> + ?Sized> Runner<'c, F, C> {
    /// Buffers for `cell`.
    pub fn new(cell: &'c C) -> Self {
        Runner {
            cell,
            proj: vec![F::ZERO; PROJ_BLOCK * cell.proj_dim()],
            scratch: vec![F::ZERO; cell.scratch_dim()],
            next: vec![F::ZERO; cell.state_dim()],
            rec: vec![F::ZERO; cell.record_dim()],
        }
    }

    /// Run steps `t0..t1` of lane `b`, keeping every state: `states` holds
    /// `s_{t0-1}` in row 0 on entry and `s_t` in row `t - t0 + 1` on exit; row
    /// `t - t0` of `recs` receives the record of step `t`.
    pub fn run(
        &mut self,
        seq: &Seq<'_, F>,
        b: usize,
        t0: usize,
        t1: usize,
        states: &mut [F],
        recs: &mut [F],
    ) -> Result<()> {
        let (s, r, gh) = (
            self.cell.state_dim(),
            self.cell.record_dim(),
            self.cell.proj_dim(),
        );
        for b0 in (t0..t1).step_by(PROJ_BLOCK) {
            let b1 = (b0 + PROJ_BLOCK).min(t1);
            seq.project(self.cell, b, b0, b1, &mut self.proj)?;
            for t in b0..b1 {
                let j = t - t0;
                let (prev, next) = states.split_at_mut((j + 1) * s);
                let xp = &self.proj[(t - b0) * gh..(t - b0 + 1) * gh];
                self.cell.step(
                    xp,
                    &prev[j * s..],
                    &mut next[..s],
                    &mut recs[j * r..(j + 1) * r],
                    &mut self.scratch,
                );
                check_state(&mut next[..s], t)?;
            }
        }
        Ok(())
    }

    /// Steps `t0..t1` from `state` (left holding the state after `t1 - 1`), writing
    /// only the records into `recs` (for reverse passes that do not read states).
    pub fn run_records(
        &mut self,
        seq: &Seq<'_, F>,
        b: usize,
        t0: usize,
        t1: usize,
        state: &mut Vec<F>,
        recs: &mut [F],
    ) -> Result<()> {
        let (r, gh) = (self.cell.record_dim(), self.cell.proj_dim());
        for b0 in (t0..t1).step_by(PROJ_BLOCK) {
            let b1 = (b0 + PROJ_BLOCK).min(t1);
            seq.project(self.cell, b, b0, b1, &mut self.proj)?;
            for t in b0..b1 {
                let j = t - t0;
                let xp = &self.proj[(t - b0) * gh..(t - b0 + 1) * gh];
                self.cell.step(
                    xp,
                    state,
                    &mut self.next,
                    &mut recs[j * r..(j + 1) * r],
                    &mut self.scratch,
                );
                check_state(&mut self.next, t)?;
                std::mem::swap(state, &mut self.next);
            }
        }
        Ok(())
    }

    /// Stream steps `t0..t1` of lane `b` from `state` (updated in place), calling
    /// `each(t, s_prev, rec)` after every step while it returns `true`.
    pub fn stream(
        &mut self,
        seq: &Seq<'_, F>,
        b: usize,
        state: &mut Vec<F>,
        t0: usize,
        t1: usize,
        mut each: impl FnMut(usize, &[F], &[F]) -> Result<bool>,
    ) -> Result<()> {
        let gh = self.cell.proj_dim();
        for b0 in (t0..t1).step_by(PROJ_BLOCK) {
            let b1 = (b0 + PROJ_BLOCK).min(t1);
            seq.project(self.cell, b, b0, b1, &mut self.proj)?;
            for t in b0..b1 {
                let xp = &self.proj[(t - b0) * gh..(t - b0 + 1) * gh];
                self.cell
                    .step(xp, state, &mut self.next, &mut self.rec, &mut self.scratch);
                check_state(&mut self.next, t)?;
                if !each(t, state, &self.rec)? {
                    return Ok(());
                }
                std::mem::swap(state, &mut self.next);
            }
        }
        Ok(())
    }
}

/// Bytes from which a buffer is worth backing with transparent huge pages.
const HUGE_MIN: usize = 2 << 20;

/// A zeroed buffer of `n` values, or [`Error::Resource`] naming `what` when the
/// allocation fails: never the abort of `vec!` (these sizes come from the caller's
/// `T`, `B` and `H`). Large buffers ask Linux for transparent huge pages before first
/// use: the reverse pass writes its stored states once and reads them once, so with
/// 4 KiB pages the page faults cost as much as the arithmetic.
pub fn buffer<F: Real>(n: usize, what: &str) -> Result<Vec<F>> {
    let size = std::mem::size_of::<F>();
    let too_big = || {
        let bytes = n as f64 * size as f64;
        Error::Resource(format!(
            "cannot allocate {what}: {n} values of {size} bytes ({}) do not fit in this \
             machine's memory; shorten the sequence or the batch (for the stored states \
             of a reverse pass, lower memory_budget)",
            human_bytes(bytes)
        ))
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<F>(n).map_err(|_| too_big())?;
    // SAFETY: `layout` has a non-zero size (n >= 1 and F is f32 or f64), as
    // `alloc_zeroed` requires.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut F;
    if ptr.is_null() {
        return Err(too_big());
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of `[F; n]`
    // (`Layout::array::<F>(n)`), which is what `Vec<F>` with capacity `n` frees it with;
    // its `n` values are initialised, because every `Real` (f32, f64) is valid as
    // all-zero bytes (`0.0`). Nothing else owns the allocation.
    let v = unsafe { Vec::from_raw_parts(ptr, n, n) };
    // Zeroed by the allocator, as `vec![0.0; n]` is: untouched pages until written.
    if n.saturating_mul(size) >= HUGE_MIN {
        advise_huge(&v);
    }
    Ok(v)
}

/// `bytes` as "51.2 GB" (decimal units).
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes;
    let mut k = 0;
    while v >= 1000.0 && k + 1 < UNITS.len() {
        v /= 1000.0;
        k += 1;
    }
    if k == 0 {
        format!("{v:.0} bytes")
    } else {
        format!("{v:.1} {}", UNITS[k])
    }
}

#[cfg(target_os = "linux")]
fn advise_huge<F>(v: &[F]) {
    const HUGE: usize = 2 << 20;
    let start = v.as_ptr() as usize;
    let end = start + std::mem::size_of_val(v);
    let a = start.div_ceil(HUGE) * HUGE;
    let b = end / HUGE * HUGE;
    if b > a {
        // SAFETY: [a, b) is rounded inward from the allocation that backs `v`, so it
        // covers only memory this process owns; MADV_HUGEPAGE changes how the kernel
        // backs those pages, never their contents, addresses or validity, so no Rust
        // reference or invariant is affected. A failure (e.g. THP disabled) is harmless
        // and ignored.
        unsafe {
            libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge<F>(_v: &[F]) {}
