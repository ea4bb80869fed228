//! The process-wide bound on programs running at once: a pool of slots, each with a user id of
//! its own for root isolation (so one program's process limit and final kill never touch
//! another's).

use std::sync::{Condvar, Mutex, OnceLock};

/// User ids of slots start here; the agent's process id picks a block of 256.
const UID_BASE: u32 = 0x6000_0000;

struct Pool {
    free: Mutex<Vec<u16>>,
    ready: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 256) as u16;
        Pool {
            free: Mutex::new((0..n).rev().collect()),
            ready: Condvar::new(),
        }
    })
}

/// How many programs may run at once in this process.
pub fn capacity() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 256)
}

/// A held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    index: u16,
}

impl Slot {
    /// Waits for a free slot (blocking).
    pub fn acquire() -> Self {
        let pool = pool();
        let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(index) = free.pop() {
                return Self { index };
            }
            free = pool.ready.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The slot's number.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// The user id programs of this slot run as (root isolation).
    pub fn uid(&self) -> libc::uid_t {
        let block = std::process::id() & 0xFFFF;
        UID_BASE + (block << 8) + u32::from(self.index)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let pool = pool();
        let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
        free.push(self.index);
        pool.ready.notify_one();
    }
}
