//! The open-file limit: raised to the hard limit at start (a container has no shell to run
//! `ulimit` and Kubernetes sets none), remembered, and named when sockets run out.

use std::sync::atomic::{AtomicU64, Ordering};

/// File descriptors kept for everything but the target's connections (logs, gRPC, files).
pub const RESERVED: u64 = 64;

static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Raises this process's soft open-file limit to its hard limit; returns the limit now in force.
pub fn raise() -> std::io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    LIMIT.store(lim.rlim_cur, Ordering::Relaxed);
    Ok(lim.rlim_cur)
}

/// Raises the limit and logs it (a failure is logged, not fatal).
pub fn raise_and_log() {
    match raise() {
        Ok(n) => tracing::info!(
            open_files = n,
            streams = n.saturating_sub(RESERVED),
            "open-file limit"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
}

/// What to add to an error that ran out of file descriptors: the limit and the streams it allows.
pub fn hint(detail: &str) -> Option<String> {
    if !(detail.contains("Too many open files") || detail.contains("os error 24")) {
        return None;
    }
    let n = LIMIT.load(Ordering::Relaxed);
    Some(if n == 0 {
        "out of file descriptors: raise the open-file limit (ulimit -n, or the container's nofile)"
            .to_string()
    } else {
        format!(
            "out of file descriptors: the open-file limit is {n}, about {} concurrent streams per agent; raise its hard limit (ulimit -Hn, or the container's nofile) or spread the load over more agents",
            n.saturating_sub(RESERVED)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_descriptor_exhaustion_gets_a_hint() {
        assert!(hint("tcp connect error: Connection refused (os error 111)").is_none());
        let h = hint("tcp connect error: Too many open files (os error 24)").expect("hint");
        assert!(h.contains("open-file limit") || h.contains("ulimit"), "{h}");
    }
}
