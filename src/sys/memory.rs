//! `mmap(2)`/`munmap(2)` of BPF map descriptors, and the page size.

use core::ptr::NonNull;

use crate::error::Errno;
use crate::fd::{AsRawFd, BorrowedFd};

/// Protection of a shared mapping. Never executable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Protection {
    /// `PROT_READ`.
    ReadOnly,
    /// `PROT_READ | PROT_WRITE`.
    ReadWrite,
}

/// The system page size (`sysconf(_SC_PAGESIZE)`).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

/// `mmap(NULL, len, prot, MAP_SHARED, fd, 0)`.
///
/// For an mmapable BPF array the kernel refuses lengths beyond the map's page-aligned data
/// (`EINVAL`), writable mappings of frozen or `BPF_F_RDONLY_PROG` maps (`EPERM`), and maps
/// without `BPF_F_MMAPABLE` (`ENODEV`/`EINVAL`). See
/// [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html).
pub fn mmap_shared(fd: BorrowedFd<'_>, len: usize, prot: Protection) -> Result<NonNull<u8>, Errno> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let prot = match prot {
        Protection::ReadOnly => libc::PROT_READ,
        Protection::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
    };
    // SAFETY: a new mapping at an address of the kernel's choosing (NULL hint) cannot alias
    // any existing Rust object; the fd is borrowed for the call.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            prot,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    NonNull::new(p.cast::<u8>()).ok_or(Errno::EINVAL)
}

/// `munmap(ptr, len)`.
///
/// # Safety
/// `ptr`/`len` must be exactly a mapping returned by [`mmap_shared`] that is not used after
/// this call.
pub unsafe fn munmap(ptr: NonNull<u8>, len: usize) {
    // SAFETY: the caller guarantees the range is a live mapping it owns and no longer uses.
    unsafe {
        libc::munmap(ptr.as_ptr().cast(), len);
    }
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: a second descriptor for the same open file.
pub fn dup_cloexec(fd: BorrowedFd<'_>) -> Result<crate::fd::OwnedFd, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer argument and returns a new descriptor.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    Ok(unsafe { <crate::fd::OwnedFd as crate::fd::FromRawFd>::from_raw_fd(r) })
}

/// Read up to `buf.len()` bytes of a small file (tracefs ids, `/proc` entries) with
/// `open`/`read`/`close`. Returns the number of bytes read.
pub fn read_small_file(path: &core::ffi::CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Errno::last());
    }
    let mut total = 0;
    let result = loop {
        if total == buf.len() {
            break Ok(total);
        }
        let rest = &mut buf[total..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
        if n < 0 {
            let e = Errno::last();
            if e == Errno::EINTR {
                continue;
            }
            break Err(e);
        }
        if n == 0 {
            break Ok(total);
        }
        total += n as usize;
    };
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    result
}
