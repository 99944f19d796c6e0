//! Gives memory back to the system after an invocation that printed a lot.
//!
//! A function's output is held until its invocation's log is complete, then printed and
//! dropped. The allocator keeps what was freed for reuse, so a handler that printed 50 MB left
//! the emulator holding hundreds of MB for the rest of its life (mimalloc, the binary's allocator,
//! keeps freed pages until told to collect). After a large log, the freed
//! memory is handed back a few times over the next seconds (by then the log has been printed
//! and dropped, however slow the terminal).

use std::time::Duration;

/// A log at least this large is followed by handing freed memory back.
pub const LARGE_LOG: usize = 1 << 20;

/// When, after a large log, freed memory is handed back.
const RELEASES: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(2),
    Duration::from_secs(5),
];

/// Schedules the releases; call within the tokio runtime.
pub fn release_after_large_log() {
    tokio::spawn(async {
        for pause in RELEASES {
            tokio::time::sleep(pause).await;
            release();
        }
    });
}

fn release() {
    // The binary allocates with mimalloc, which keeps freed pages for reuse until told to
    // collect; forced, it returns them to the kernel.
    // SAFETY: mi_collect only releases memory that is free; it may be called at any time, and
    // does nothing where mimalloc is not the allocator in use (the test binaries).
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    // The same for glibc's allocator, which the library's users (and its tests) may use.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is free; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
