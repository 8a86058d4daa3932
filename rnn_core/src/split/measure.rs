//! Whether a split pays on this machine, measured rather than assumed.
//!
//! The rules of [`super::parts_for`] (enough rows and units per worker, idle CPUs) say
//! when a split *can* pay. Whether it does depends on the machine: the cost of the
//! per-step barrier and of moving `h` between cores differs between CPU kinds (and
//! between hosts of one kind), and on some a split of a small cell is slower than one
//! thread. So, for the default thread count only, the first call for a cell shape
//! times forward runs of both paths on zero input at two lengths, which gives each
//! path's cost per call (thread start, weight packing) and per step (the product, and
//! for the split its barrier), and a call splits only when the split is faster at the
//! call's length. The costs are cached per shape for [`TTL`] and measured again after
//! that, so a machine that was busy at the first call is not judged by that moment for
//! the whole process. The measurement takes 20-40 ms (up to about a second for
//! H = 1024 LSTMs, whose calls take seconds). Its runs must be a few milliseconds
//! long: in shorter ones the split's second core has not reached its full speed yet
//! and the split looks slower per step than it is.
//!
//! `LONGDEP_SPLIT=always` or `never` skips the measurement (benchmarks, and tests that
//! need one path); an explicit `threads=` is always obeyed as before.
//!
//! The choice only picks between two results that agree to rounding (the split's
//! reverse pass adds its partial sums in another order, see [`super`]); pass
//! `deterministic=True` (or `threads=1`) to get the one-thread bits on every machine.

use crate::cells::Cell;
use crate::error::Result;
use crate::seq::Seq;
use crate::Real;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a verdict is kept before it is measured again.
pub const TTL: Duration = Duration::from_secs(30);
/// Wall time of the shorter timed run (the longer one runs eight times the steps).
const RUN_S: f64 = 2e-3;
/// Steps of the one-thread probe, and the most steps of the shorter timed run (at
/// least half the probe's).
const STEPS: (usize, usize) = (32, 1024);
/// The split must be this much faster than one thread to be chosen.
const MARGIN: f64 = 0.95;

type Key = (&'static str, usize, usize, usize, usize, usize);

/// A path's measured cost: `fixed + per_step * T` seconds.
#[derive(Clone, Copy, Debug)]
struct Cost {
    fixed: f64,
    per_step: f64,
}

impl Cost {
    fn at(self, steps: usize) -> f64 {
        self.fixed + self.per_step * steps as f64
    }
}

/// The one-thread and split costs of a shape, and when they were measured.
type Verdict = (Cost, Cost, Instant);

fn verdicts() -> &'static Mutex<HashMap<Key, Verdict>> {
    static V: OnceLock<Mutex<HashMap<Key, Verdict>>> = OnceLock::new();
    V.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether splitting one sequence of `steps` steps of `cell` over `parts` workers
/// beats one thread.
pub fn pays<F: Real, C: Cell<F> + ?Sized>(cell: &C, parts: usize, steps: usize) -> bool {
    match std::env::var("LONGDEP_SPLIT").as_deref() {
        Ok("always") => return true,
        Ok("never") => return false,
        _ => {}
    }
    let key = (
        cell.kind(),
        cell.hidden(),
        cell.proj_dim(),
        cell.input(),
        std::mem::size_of::<F>(),
        parts,
    );
    // The lock is held while measuring: two calls measuring at once would each see the
    // other's threads as load. A poisoned lock only means a panic elsewhere; the map
    // holds plain values and stays usable.
    let mut map = verdicts().lock().unwrap_or_else(|e| e.into_inner());
    let fresh = map.get(&key).filter(|v| v.2.elapsed() < TTL).copied();
    let (one, split) = match fresh {
        Some((one, split, _)) => (one, split),
        None => match costs(cell, parts) {
            Ok((one, split)) => {
                map.insert(key, (one, split, Instant::now()));
                (one, split)
            }
            // A measurement cannot fail on finite zero input, but an allocation may:
            // then the rules alone decide.
            _ => return true,
        },
    };
    split.at(steps) < MARGIN * one.at(steps)
}

/// Time `steps` forward steps on zero input: split over `parts` workers, or on one
/// thread (`parts == 1`).
fn time<F: Real, C: Cell<F> + ?Sized>(cell: &C, steps: usize, parts: usize) -> Result<f64> {
    let (i, h) = (cell.input(), cell.hidden());
    let x = vec![F::ZERO; steps * i];
    let seq = Seq::new(&x, steps, 1, i)?;
    let s0 = vec![F::ZERO; cell.state_dim()];
    let mut out = vec![F::ZERO; steps * h];
    let start = Instant::now();
    if parts > 1 {
        super::forward(cell, &seq, &s0, &mut out, parts)?;
    } else {
        crate::forward::forward(cell, &seq, &s0, &mut out, Some(1))?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The cost of a path, from the best of three runs at two lengths (`n` and `8 n`, with
/// `n` from a one-thread probe): the split's thread start and weight packing are paid
/// once per call, its barriers at every step, and a call's length decides which
/// matters.
fn costs<F: Real, C: Cell<F> + ?Sized>(cell: &C, parts: usize) -> Result<(Cost, Cost)> {
    time(cell, STEPS.0, 1)?; // warm: page faults
    let probe = time(cell, STEPS.0, 1)?.max(1e-9);
    let n = ((STEPS.0 as f64 * RUN_S / probe) as usize).clamp(STEPS.0 / 2, STEPS.1);
    let fit = |p: usize| -> Result<Cost> {
        time(cell, n, p)?; // warm: the first thread start
        let (mut short, mut long) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..3 {
            short = short.min(time(cell, n, p)?);
            long = long.min(time(cell, 8 * n, p)?);
        }
        let per_step = ((long - short) / (7 * n) as f64).max(0.0);
        Ok(Cost {
            fixed: (short - per_step * n as f64).max(0.0),
            per_step,
        })
    };
    Ok((fit(1)?, fit(parts)?))
}
