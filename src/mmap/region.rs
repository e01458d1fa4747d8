//! [`Region`]: one shared mapping of a BPF map's memory.

use core::fmt;
use core::ptr::NonNull;

use crate::error::{Errno, Error, ErrorKind, KernelVersion, Result};
use crate::fd::BorrowedFd;
use crate::sys::{self, Protection};

/// The first kernel with `BPF_F_MMAPABLE` array maps (the bpf file gained an `mmap` handler).
const MMAPABLE_SINCE: KernelVersion = KernelVersion::new(5, 5);

/// Alignment of heap-backed regions: a page on every Linux target, so heap regions have the
/// same alignment guarantees as real mappings.
#[cfg_attr(not(test), allow(dead_code))]
const HEAP_ALIGN: usize = 4096;

/// A shared memory mapping of a BPF map: a start address, a length and a protection.
///
/// Modelled on memmap2's `MmapRaw`: a `Region` hands out raw pointers only, never `&[u8]`,
/// because the kernel and BPF programs write the memory while Rust code holds it. The typed
/// views ([`ArrayView`](super::ArrayView), [`Variable`](super::Variable), ...) read and write
/// it with atomic word accesses; several views share one region through `Arc<Region>`.
///
/// Dropping the region unmaps it (`munmap(2)`). The mapping stays valid after the map's file
/// descriptor is closed: the kernel holds a reference on the map for as long as it is mapped.
/// The protection is never `PROT_EXEC`.
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    prot: Protection,
    backing: Backing,
    /// Made by [`Region::map_frozen`]: a read-only mapping of a map that nobody can write.
    frozen: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Backing {
    /// `mmap(2)`ed; unmapped on drop.
    Mmap,
    /// An allocation from the global allocator with this layout (tests and Miri).
    #[cfg_attr(not(test), allow(dead_code))]
    Heap(core::alloc::Layout),
}

// SAFETY: a Region is an address range plus the obligation to unmap it once. It hands out raw
// pointers only; every access through the views in this module is atomic, so sharing or
// sending the range between threads creates no data race on the Rust side.
unsafe impl Send for Region {}
// SAFETY: as for Send: `&Region` only exposes the address, the length and the protection.
unsafe impl Sync for Region {}

impl Region {
    /// Map `len` bytes of the BPF map `fd` from offset 0: `mmap(NULL, len, prot, MAP_SHARED,
    /// fd, 0)` (see [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)).
    ///
    /// For an array map created with `BPF_F_MMAPABLE` (Linux 5.5+), `len` is
    /// `page_align(round_up(value_size, 8) * max_entries)` (see [`crate::map::mmap_len`]).
    /// Errors say why the kernel refused:
    /// - a writable mapping of a frozen map (`EPERM`) or of a `BPF_F_RDONLY_PROG` map
    ///   (`EACCES`, Linux 5.11+; also a descriptor opened read-only):
    ///   [`ErrorKind::InvalidState`]; map it [`Protection::ReadOnly`] instead;
    /// - a map without `BPF_F_MMAPABLE`, or `len` beyond the map's data (`EINVAL`):
    ///   [`ErrorKind::InvalidArgument`];
    /// - a kernel older than 5.5 (`ENODEV`: bpf files have no `mmap`):
    ///   [`ErrorKind::KernelTooOld`];
    /// - a map type or value layout that cannot be mapped (`ENOTSUPP`):
    ///   [`ErrorKind::Unsupported`].
    pub fn map(fd: BorrowedFd<'_>, len: usize, prot: Protection) -> Result<Region> {
        let what = match prot {
            Protection::ReadOnly => alloc::format!("mmap of {len} bytes PROT_READ, MAP_SHARED"),
            Protection::ReadWrite => {
                alloc::format!("mmap of {len} bytes PROT_READ|PROT_WRITE, MAP_SHARED")
            }
        };
        if len == 0 {
            return Err(Error::invalid_argument(alloc::format!(
                "{what}: length is 0"
            )));
        }
        match sys::mmap_shared(fd, len, prot) {
            Ok(ptr) => Ok(Region {
                ptr,
                len,
                prot,
                backing: Backing::Mmap,
                frozen: false,
            }),
            Err(errno) => Err(map_error(what, errno, prot)),
        }
    }

    /// A zeroed region of `len` bytes on the heap, page aligned, with `init` copied to its
    /// start; freed (not unmapped) on drop. It stands in for a mapping in unit tests and under
    /// Miri. `prot` is only recorded (the memory is always writable); views check it as they
    /// would for a real mapping.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn from_heap(len: usize, prot: Protection, init: &[u8]) -> Result<Region> {
        if len == 0 || init.len() > len {
            return Err(Error::invalid_argument(alloc::format!(
                "heap region of {len} bytes with {} initial bytes",
                init.len()
            )));
        }
        let layout = core::alloc::Layout::from_size_align(len, HEAP_ALIGN)
            .map_err(|_| Error::invalid_argument(alloc::format!("heap region of {len} bytes")))?;
        // SAFETY: the layout has a non-zero size (checked above).
        let raw = unsafe { alloc::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).ok_or_else(|| {
            Error::new(
                ErrorKind::Syscall,
                alloc::format!("heap region of {len} bytes"),
            )
            .with_errno(Errno::ENOMEM)
        })?;
        // SAFETY: `ptr` is a fresh allocation of `len >= init.len()` bytes that nothing else
        // references; `init` is a distinct, live slice.
        unsafe { core::ptr::copy_nonoverlapping(init.as_ptr(), ptr.as_ptr(), init.len()) };
        Ok(Region {
            ptr,
            len,
            prot,
            backing: Backing::Heap(layout),
            frozen: false,
        })
    }

    /// Map `map` read-only as a region whose bytes never change: the map must have been
    /// frozen through this handle ([`Map::freeze`](crate::map::Map::freeze), so neither
    /// syscalls nor writable mappings can write it) and created with `BPF_F_RDONLY_PROG` (so
    /// no BPF program can write it). Only such a region backs the views that lend `&T`
    /// ([`FrozenArrayView`](super::FrozenArrayView), [`FrozenVariable`](super::FrozenVariable)).
    ///
    /// The check and the mapping happen together here, from the map's own descriptor, so
    /// the proof cannot be attached to another map's memory.
    pub fn map_frozen(map: &crate::map::Map, len: usize) -> Result<Region> {
        let info = map.info();
        let rdonly_prog = info.flags.contains(crate::map::MapFlags::RDONLY_PROG);
        if !map.is_frozen() || !rdonly_prog {
            return Err(Error::new(
                ErrorKind::InvalidState,
                alloc::format!(
                    "frozen mapping of map \"{}\": needs a map frozen through this handle and \
                     created with BPF_F_RDONLY_PROG (frozen: {}, BPF_F_RDONLY_PROG: {rdonly_prog})",
                    info.name,
                    map.is_frozen()
                ),
            ));
        }
        let mut region = Region::map(map.fd(), len, Protection::ReadOnly)?;
        region.frozen = true;
        Ok(region)
    }

    /// A heap region that counts as frozen (tests of the `&T`-lending views; the test must
    /// only read it).
    #[cfg(test)]
    pub(crate) fn from_heap_frozen(len: usize, init: &[u8]) -> Result<Region> {
        let mut r = Region::from_heap(len, Protection::ReadOnly, init)?;
        r.frozen = true;
        Ok(r)
    }

    /// Whether this region was made by [`Region::map_frozen`]: its bytes never change.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Copy `dst.len()` bytes starting at `offset` out of the region, with the same access
    /// pattern a [`VariableRo`](super::VariableRo) of that span uses (relaxed atomic words).
    /// For reading values whose type is only known at run time.
    pub fn read_bytes(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        if offset
            .checked_add(dst.len())
            .is_none_or(|end| end > self.len)
        {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                alloc::format!(
                    "{} bytes at offset {offset} of a region of {} bytes",
                    dst.len(),
                    self.len
                ),
            ));
        }
        // SAFETY: the span lies in this live region (checked above) and every Rust access to
        // it is atomic; `dst` is a distinct, writable buffer of `dst.len()` bytes.
        unsafe {
            super::access::copy_out(self.ptr.as_ptr().add(offset), dst.len(), dst.as_mut_ptr())
        };
        Ok(())
    }

    /// Length in bytes (a multiple of the page size for real mappings).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a region has at least one byte. (For API symmetry with `len`.)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The protection the region was mapped with.
    pub fn protection(&self) -> Protection {
        self.prot
    }

    /// The start address (page aligned). Reading through it is only defined with atomic
    /// accesses while the kernel or BPF programs may write the memory; see the
    /// [module docs](super).
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The start address as a mutable pointer. Writing through it faults on a
    /// [`Protection::ReadOnly`] region; see [`Region::as_ptr`] for the access rules.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

/// Turn an `mmap(2)` errno into an error that says why.
fn map_error(what: alloc::string::String, errno: Errno, prot: Protection) -> Error {
    let writable = prot == Protection::ReadWrite;
    if writable && errno == Errno::EPERM {
        Error::new(
            ErrorKind::InvalidState,
            alloc::format!(
                "{what}: the map is frozen or BPF_F_RDONLY_PROG: the kernel refuses writable \
                 mappings; map it read-only"
            ),
        )
        .with_errno(errno)
    } else if writable && errno == Errno::EACCES {
        Error::new(
            ErrorKind::InvalidState,
            alloc::format!(
                "{what}: the map is frozen or BPF_F_RDONLY_PROG (or its descriptor was opened \
                 read-only): the kernel refuses writable mappings; map it read-only"
            ),
        )
        .with_errno(errno)
    } else if errno == Errno::EPERM || errno == Errno::EACCES {
        Error::new(
            ErrorKind::PermissionDenied,
            alloc::format!("{what}: the descriptor does not allow reading (opened BPF_F_WRONLY?)"),
        )
        .with_errno(errno)
    } else if errno == Errno::ENODEV {
        Error::new(
            ErrorKind::KernelTooOld,
            alloc::format!(
                "{what}: the map's file cannot be mmapped (mmapable arrays need Linux 5.5)"
            ),
        )
        .with_errno(errno)
        .with_min_kernel(MMAPABLE_SINCE)
    } else if errno == Errno::EINVAL {
        Error::new(
            ErrorKind::InvalidArgument,
            alloc::format!(
                "{what}: the map is not BPF_F_MMAPABLE (mmapable arrays need Linux 5.5), or the \
                 length exceeds its page-aligned data"
            ),
        )
        .with_errno(errno)
    } else if errno == Errno::ENOTSUPP || errno == Errno::EOPNOTSUPP {
        Error::new(
            ErrorKind::Unsupported,
            alloc::format!(
                "{what}: the kernel cannot mmap this map (only BPF_F_MMAPABLE arrays whose values \
                 hold no spin locks, timers or kptrs)"
            ),
        )
        .with_errno(errno)
    } else {
        Error::syscall(what, errno)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        match self.backing {
            // SAFETY: `ptr`/`len` are exactly the mapping `sys::mmap_shared` returned; this is
            // its only owner, and views hold an `Arc<Region>`, so no view outlives it.
            Backing::Mmap => unsafe { sys::munmap(self.ptr, self.len) },
            // SAFETY: `ptr` came from `alloc_zeroed(layout)` with this layout and is freed
            // once, when the last `Arc<Region>` goes.
            Backing::Heap(layout) => unsafe { alloc::alloc::dealloc(self.ptr.as_ptr(), layout) },
        }
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Region")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("prot", &self.prot)
            .field("heap", &matches!(self.backing, Backing::Heap(_)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn heap_region_is_page_aligned_and_initialised() {
        let r = Region::from_heap(8192, Protection::ReadWrite, &[1, 2, 3]).unwrap();
        assert_eq!(r.as_ptr() as usize % 4096, 0);
        assert_eq!(r.len(), 8192);
        assert!(!r.is_empty());
        assert_eq!(r.protection(), Protection::ReadWrite);
        assert!(Region::from_heap(0, Protection::ReadOnly, &[]).is_err());
        assert!(Region::from_heap(2, Protection::ReadOnly, &[0; 3]).is_err());
    }

    #[test]
    fn errno_mapping_says_why() {
        let e = map_error("mmap".into(), Errno::EPERM, Protection::ReadWrite);
        assert_eq!(e.kind(), ErrorKind::InvalidState);
        assert!(e.to_string().contains("map it read-only"), "{e}");
        let e = map_error("mmap".into(), Errno::EACCES, Protection::ReadWrite);
        assert_eq!(e.kind(), ErrorKind::InvalidState);
        let e = map_error("mmap".into(), Errno::EINVAL, Protection::ReadOnly);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("BPF_F_MMAPABLE"), "{e}");
        let e = map_error("mmap".into(), Errno::ENODEV, Protection::ReadOnly);
        assert_eq!(e.kind(), ErrorKind::KernelTooOld);
        assert!(e.to_string().contains("5.5"), "{e}");
        let e = map_error("mmap".into(), Errno::ENOMEM, Protection::ReadOnly);
        assert_eq!(e.kind(), ErrorKind::Syscall);
        assert_eq!(e.errno(), Some(Errno::ENOMEM));
    }
}
