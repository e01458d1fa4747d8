//! The only module that calls libc: `bpf(2)`, `mmap(2)`, `perf_event_open(2)`, `ioctl(2)`,
//! `setsockopt(2)`, `setrlimit(2)`.
//!
//! Every `bpf(2)` command goes through [`bpf`], one choke point that can be faked in unit
//! tests (see the `fake` module, compiled for unit tests). Functions here take typed attributes and slices and return
//! [`OwnedFd`]s and [`Errno`]s; the layers above add context to turn them into
//! [`crate::Error`]s.

pub mod abi;
mod commands;
mod memory;
mod perf;

pub use commands::*;
pub use memory::{dup_cloexec, mmap_shared, munmap, page_size, read_small_file, Protection};
pub use perf::*;

use core::ffi::c_long;

use self::abi::{BpfAttr, Cmd};
use crate::error::Errno;
use crate::fd::{FromRawFd, OwnedFd, RawFd};

/// Issue `bpf(cmd, attr, size_of_val(attr))`.
///
/// The kernel reads the attribute and, for some commands, writes results back into it
/// (`BPF_PROG_TEST_RUN`, batch counts). `EAGAIN` from `BPF_PROG_LOAD` is retried a few
/// times, as libbpf does (the verifier can return it under memory pressure).
///
/// See [`bpf(2)`](https://man7.org/linux/man-pages/man2/bpf.2.html).
pub fn bpf<A: BpfAttr>(cmd: Cmd, attr: &mut A) -> Result<c_long, Errno> {
    let mut tries = 0;
    loop {
        let ret = raw_bpf(cmd, attr.as_mut_bytes());
        match ret {
            Err(e) if e == Errno::EAGAIN && cmd == Cmd::ProgLoad && tries < 5 => tries += 1,
            Err(e) if e == Errno::EINTR => {}
            other => return other,
        }
    }
}

/// [`bpf`] for commands that return a new file descriptor.
pub fn bpf_fd<A: BpfAttr>(cmd: Cmd, attr: &mut A) -> Result<OwnedFd, Errno> {
    let fd = bpf(cmd, attr)?;
    let fd = RawFd::try_from(fd).map_err(|_| Errno::EINVAL)?;
    // SAFETY: a successful fd-returning bpf command hands us a new descriptor that nothing
    // else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(all(test, feature = "std")))]
fn raw_bpf(cmd: Cmd, attr: &mut [u8]) -> Result<c_long, Errno> {
    real_bpf(cmd, attr)
}

#[cfg(all(test, feature = "std"))]
fn raw_bpf(cmd: Cmd, attr: &mut [u8]) -> Result<c_long, Errno> {
    match fake::call(cmd, attr) {
        Some(r) => r,
        None => real_bpf(cmd, attr),
    }
}

fn real_bpf(cmd: Cmd, attr: &mut [u8]) -> Result<c_long, Errno> {
    // SAFETY: `attr` is a valid, initialised buffer of `attr.len()` bytes that lives for the
    // call; every pointer stored inside it was set by a wrapper in this module from a slice
    // whose length was stored next to it, and those slices outlive this call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as u32,
            attr.as_mut_ptr(),
            attr.len() as u32,
        )
    };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// The calling thread's `errno`.
pub(crate) fn last_errno() -> i32 {
    // SAFETY: __errno_location returns a valid pointer to the calling thread's errno.
    unsafe { *libc::__errno_location() }
}

/// Close a raw descriptor (used by the `no_std` [`OwnedFd`]).
#[allow(dead_code)]
pub(crate) fn close(fd: RawFd) {
    // SAFETY: called once by the owner of `fd` when it is dropped.
    unsafe {
        libc::close(fd);
    }
}

/// A fake `bpf(2)` for unit tests that run without privileges.
///
/// `fake::with(handler, body)` runs `body` with every `bpf(2)` call on this thread routed to
/// `handler`, which sees the command and the attribute bytes (it may write results back).
#[cfg(all(test, feature = "std"))]
pub mod fake {
    use super::*;
    use std::boxed::Box;
    use std::cell::RefCell;

    type Handler = Box<dyn FnMut(Cmd, &mut [u8]) -> Result<c_long, Errno>>;

    std::thread_local! {
        static HANDLER: RefCell<Option<Handler>> = const { RefCell::new(None) };
    }

    pub(super) fn call(cmd: Cmd, attr: &mut [u8]) -> Option<Result<c_long, Errno>> {
        HANDLER.with(|h| h.borrow_mut().as_mut().map(|f| f(cmd, attr)))
    }

    /// Run `body` with `handler` answering every `bpf(2)` call made on this thread.
    pub fn with<R>(
        handler: impl FnMut(Cmd, &mut [u8]) -> Result<c_long, Errno> + 'static,
        body: impl FnOnce() -> R,
    ) -> R {
        HANDLER.with(|h| *h.borrow_mut() = Some(Box::new(handler)));
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                HANDLER.with(|h| *h.borrow_mut() = None);
            }
        }
        let _reset = Reset;
        body()
    }

    /// Write `text` (NUL-terminated by this function) into the verifier log buffer of a
    /// `BPF_PROG_LOAD` attribute, as the kernel would; nothing if no log was requested.
    pub fn write_prog_load_log(attr: &abi::ProgLoadAttr, text: &[u8]) {
        let n = (text.len() + 1).min(attr.log_size as usize);
        if n == 0 || attr.log_buf == 0 {
            return;
        }
        // SAFETY: `prog_load` stores a log buffer pointer only together with its length
        // (`log_size`), from a live `&mut [u8]` that outlives the bpf call this fake answers.
        let log = unsafe { core::slice::from_raw_parts_mut(attr.log_buf as usize as *mut u8, n) };
        log[..n - 1].copy_from_slice(&text[..n - 1]);
        log[n - 1] = 0;
    }

    /// A fresh descriptor (of `/dev/null`) for a fake to return as a new BPF object.
    pub fn new_fd() -> c_long {
        // SAFETY: opening /dev/null with a NUL-terminated path.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        assert!(fd >= 0, "open /dev/null");
        fd as c_long
    }
}
