//! Counting allocations per thread, for tests that prove a call allocates nothing (or how much).
//!
//! [`CountingAllocator`] is a `#[global_allocator]` for a test binary; code that hooks the C
//! allocator itself (to see a plugin library's allocations too) calls [`note_allocation`] from
//! its `malloc`/`free`. Only the thread inside [`counted`] is counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// Counts one allocation, reallocation or free if this thread is inside [`counted`]. Never
/// allocates (`try_with`: it also runs while thread-locals are torn down).
pub fn note_allocation() {
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

/// Runs `f` with this thread's allocations counted; returns (count, what `f` returned).
pub fn counted<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNT.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (COUNT.with(|n| n.get()), r)
}

/// The system allocator, counting through [`note_allocation`].
pub struct CountingAllocator;

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note_allocation();
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(p, l, n) }
    }
}
