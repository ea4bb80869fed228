//! The run's own PID namespace. `unshare(CLONE_NEWPID)` moves only the caller's future
//! children, so the forked child that will `exec` the program splits in three:
//!
//! - the *keeper* (the process the agent started and waits for, outside the namespace) waits
//!   for the init and then ends the way the program ended (its exit code, or its signal);
//! - the *init* (PID 1 of the namespace) reaps every orphan and, when the program ends, exits:
//!   the kernel then kills everything left in the namespace (daemons, `setsid` children);
//! - the *program* (PID 2) returns from [`split`] and goes on to `exec`.
//!
//! Keeper and init close every descriptor they inherited (the program's pipes and the
//! spawner's exec-error pipe), cannot be dumped or traced, and die with their parent. Only raw
//! system calls: this runs between `fork` and `exec`.

use std::io;

/// Splits the caller (which has unshared a PID namespace) into keeper, init and program;
/// returns in the program only. An error before the split is returned to the caller.
pub fn split() -> io::Result<()> {
    // the program's wait status, written by the init and read by the keeper
    // SAFETY: an anonymous shared mapping of one page, never unmapped (the keeper and init
    // exit, the program's exec replaces its memory).
    let status = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if status == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let status = status.cast::<libc::c_int>();
    // SAFETY: the mapping is at least one c_int long and writable.
    unsafe { std::ptr::write_volatile(status, NO_STATUS) };
    // SAFETY: fork in a single-threaded child; both sides only make raw system calls.
    let init = unsafe { libc::fork() };
    if init < 0 {
        return Err(io::Error::last_os_error());
    }
    if init > 0 {
        keep(init, status);
    }
    // the init, PID 1 of the new namespace (it still holds the descriptors the program needs)
    // SAFETY: as above.
    let program = unsafe { libc::fork() };
    if program < 0 {
        return Err(io::Error::last_os_error());
    }
    if program > 0 {
        reap(program, status);
    }
    // the program: dies with the init (it would anyway, with the namespace)
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    Ok(())
}

/// No status written yet (not a wait status the kernel makes).
const NO_STATUS: libc::c_int = -1;

/// Keeper and init: not dumpable (so neither `/proc/<pid>` files nor ptrace reach their copy of
/// the agent's memory and environment), killed with their parent, holding no descriptor.
fn guard_self() {
    // SAFETY: prctl and close_range with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            for fd in 0..4096 {
                libc::close(fd);
            }
        }
    }
}

/// The init: reaps every child until the program ends, records how it ended, exits (and the
/// kernel kills the rest of the namespace).
fn reap(program: libc::pid_t, status: *mut libc::c_int) -> ! {
    guard_self();
    loop {
        let mut st = 0;
        // SAFETY: waitpid fills `st`.
        let pid = unsafe { libc::waitpid(-1, &mut st, libc::__WALL) };
        // (a stop of the program, traced by its init after PTRACE_TRACEME, is not its end)
        if pid == program && (libc::WIFEXITED(st) || libc::WIFSIGNALED(st)) {
            // SAFETY: the shared mapping made before the fork.
            unsafe { std::ptr::write_volatile(status, st) };
            break;
        }
        if pid < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    // SAFETY: _exit ends this process.
    unsafe { libc::_exit(0) }
}

/// The keeper: waits for the init and ends as the program did (its code, or its signal); as the
/// init did when the program's end was not recorded (the init was killed).
fn keep(init: libc::pid_t, status: *mut libc::c_int) -> ! {
    guard_self();
    let mut st = 0;
    loop {
        // SAFETY: waitpid fills `st`.
        let rc = unsafe { libc::waitpid(init, &mut st, 0) };
        if rc == init {
            break;
        }
        if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            // SAFETY: _exit ends this process.
            unsafe { libc::_exit(125) }
        }
    }
    // SAFETY: the shared mapping made before the fork.
    let program = unsafe { std::ptr::read_volatile(status) };
    let ended = if program == NO_STATUS { st } else { program };
    if libc::WIFEXITED(ended) {
        // SAFETY: _exit ends this process.
        unsafe { libc::_exit(libc::WEXITSTATUS(ended)) }
    }
    let signal = if libc::WIFSIGNALED(ended) {
        libc::WTERMSIG(ended)
    } else {
        libc::SIGKILL
    };
    die_of(signal)
}

/// Ends the keeper by `signal` (no core file), or with 128 + signal if that signal does not end
/// a process.
fn die_of(signal: libc::c_int) -> ! {
    let no_core = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: raw system calls on values owned here; _exit ends the process.
    unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_CORE,
            &no_core,
            std::ptr::null_mut::<libc::rlimit64>(),
        );
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::kill(libc::getpid(), signal);
        libc::_exit(128 + signal)
    }
}
