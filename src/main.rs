//! `storedesk`, the front executable (see `storedesk::launch`).
//!
//! On Unix it starts without the Rust runtime's set-up (`#![no_main]`): that
//! set-up probes the main thread's stack bounds (glibc reads
//! `/proc/self/maps`) and installs the stack-overflow handler — about 70 µs,
//! a tenth of a whole `storedesk inspect`, for a process that either answers
//! in microseconds or execs `storedesk-console`, which does the full set-up
//! itself. What the front keeps of it: the arguments (from `argv`, as std
//! only finds them by itself on glibc), SIGPIPE ignored (so a closed pipe is
//! an error the code handles, exactly as in the console), panics printed
//! with exit 101. What it gives up: a stack overflow is a plain SIGSEGV.
//! Elsewhere it is an ordinary `main`.
#![cfg_attr(unix, no_main)]

#[cfg(unix)]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStringExt;
    // SAFETY: setting a signal's disposition to "ignore" has no
    // preconditions; this runs before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let count = usize::try_from(argc).unwrap_or(0);
    let args = (0..count)
        .filter_map(|i| {
            // SAFETY: the C runtime passes `argc` pointers in `argv`, each
            // null or a NUL-terminated string that lives as long as the
            // process.
            let p = unsafe { *argv.add(i) };
            (!p.is_null()).then(|| {
                // SAFETY: as above, `p` is a valid NUL-terminated string.
                let bytes = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes();
                std::ffi::OsString::from_vec(bytes.to_vec())
            })
        })
        .collect();
    std::ffi::c_int::from(storedesk::launch::main(args))
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(storedesk::launch::main(std::env::args_os().collect()))
}
