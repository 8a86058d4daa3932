//! Synchronisation of a team: buffers shared under the barrier protocol, and the
//! spinning barrier itself.

use crate::error::{Error, Result};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A buffer several workers access at once under the team's barrier protocol.
pub(super) struct Shared<'a, T> {
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
    pub(super) fn new(v: &'a mut [T]) -> Self {
        Shared {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            _owner: PhantomData,
        }
    }

    /// # Safety
    /// No worker writes any element of `r` between the last barrier before this call
    /// and the next barrier after it (while the slice is alive).
    pub(super) unsafe fn get(&self, r: Range<usize>) -> &[T] {
        assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds (checked above) of a live allocation; no concurrent writer
        // by the caller's contract.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.len()) }
    }

    /// # Safety
    /// No other worker reads or writes any element of `r` between the last barrier
    /// before this call and the next barrier after it (while the slice is alive).
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn get_mut(&self, r: Range<usize>) -> &mut [T] {
        assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds (checked above); exclusive for its lifetime by the contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.len()) }
    }
}

/// Busy-wait iterations before a waiting worker yields its core. A crossing takes
/// well under a microsecond when every worker has a core of its own.
const SPINS: u32 = 1 << 11;

/// One cache line per worker, so a flag's writer never contends with another's.
#[repr(align(128))]
pub(super) struct Line(AtomicUsize);

/// A spinning barrier for the team: worker `p` announces how many barriers it has
/// reached in its own cache line and waits until every other worker has reached as
/// many (no shared read-modify-write, so each crossing costs about one cache-line
/// transfer per direction). `abort` releases every waiter with an error, so a
/// worker that stops early (an error, a cancel, a panic) never strands the others.
pub(super) struct Barrier {
    reached: Vec<Line>,
    aborted: Line,
}

impl Barrier {
    pub(super) fn new(parties: usize) -> Self {
        Barrier {
            reached: (0..parties).map(|_| Line(AtomicUsize::new(0))).collect(),
            aborted: Line(AtomicUsize::new(0)),
        }
    }

    /// Worker `p` arrives at its `count`-th barrier (counts start at 1).
    pub(super) fn wait(&self, p: usize, count: usize) -> Result<()> {
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

    pub(super) fn abort(&self) {
        self.aborted.0.store(1, Ordering::Relaxed);
    }
}

/// Sets `abort` if the worker leaves by unwinding.
pub(super) struct AbortOnPanic<'a>(pub(super) &'a Barrier);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}
