//! CPU affinity and core policy: which CPUs are idle, and one CPU per worker.

/// CPUs not running another task now: the machine's CPUs minus the runnable tasks
/// other than the calling thread (`procs_running` of `/proc/stat`). The fewest of a
/// few readings 20 µs apart, so a thread that is just going to sleep (the Python
/// thread that started this call) is not taken for a busy CPU.
#[cfg(target_os = "linux")]
pub(super) fn idle_cpus() -> usize {
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
pub(super) fn idle_cpus() -> usize {
    usize::MAX
}

/// One CPU per worker when the calling thread may run on at least that many: worker
/// 0 (the calling thread) keeps the CPU it is on, the others take the next allowed
/// ones. Without this the scheduler starts a new thread on its parent's CPU and moves
/// it only milliseconds later, and two spinning workers on one CPU make every barrier
/// wait for a time slice.
#[cfg(target_os = "linux")]
pub(super) mod placement {
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
pub(super) mod placement {
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
pub(super) struct Unpin<'m>(pub(super) Option<&'m placement::Mask>);

impl Drop for Unpin<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.0 {
            placement::restore(m);
        }
    }
}
