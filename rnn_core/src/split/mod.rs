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

mod cpus;
use cpus::idle_cpus;
mod measure;
mod passes;
mod sync;
mod team;

pub use passes::{forward, grad_norms};

use crate::cells::Cell;
use crate::seq::{effective_threads, env_threads};
use crate::Real;
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
    let parts = effective_threads(threads)
        .min(cpus)
        .min(cell.proj_dim() / MIN_ROWS)
        .min(cell.hidden() / MIN_UNITS)
        .clamp(1, MAX_PARTS);
    if parts > 1
        && threads.is_none()
        && env_threads().is_none()
        && !measure::pays(cell, parts, steps)
    {
        return 1;
    }
    parts
}

/// Split teams running in this process now; a call made while one runs does not
/// split (two teams would need more cores than a split is meant to use).
pub(super) static RUNNING: AtomicUsize = AtomicUsize::new(0);
