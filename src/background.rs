//! Background threads (precompressing, custom feeds' reading and rendering) run at a
//! lower CPU priority than the rebuild and the request workers: on a small machine they
//! compete for the same cores, and a change or a plain feed must not wait for them
//! (measured: the disk writer took 84% of a 10k site's CPU during a stream of changes,
//! and a change took twice as long to be served).

/// Lowers the calling thread's CPU priority (nice 10).
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority on our own thread id only
    // changes this thread's nice value.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) != 0 {
            tracing::debug!("cannot lower a background thread's priority");
        }
    }
}
