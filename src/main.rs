//! `storedesk`, the front executable (see `storedesk::launch`).
//!
//! It starts without the Rust runtime's set-up (`#![no_main]`): that set-up
//! probes the main thread's stack bounds (glibc reads `/proc/self/maps`),
//! installs the stack-overflow handler and ignores SIGPIPE — about 70 µs, a
//! tenth of a whole `storedesk inspect`, for a process that either answers
//! in microseconds or execs `storedesk-console`, which does the full set-up
//! itself. What the front gives up: a stack overflow is a plain SIGSEGV
//! rather than a message, and a closed pipe ends it the way it ends `cat`.
//! Arguments, the environment, panics and stdout work as usual (glibc hands
//! std the arguments before `main`; inspect flushes its output itself).
#![no_main]

use std::ffi::{c_char, c_int};

#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    c_int::from(storedesk::launch::main())
}
