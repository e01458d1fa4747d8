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
    let p = unsafe { libc::mmap(core::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
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
