//! Typed views of an array map's mapping: [`ArrayView`] (read-write), [`ArrayViewRo`]
//! (read-only) and [`FrozenArrayView`] (read-only and immutable: the only one that lends
//! `&T`).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::type_name;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::access::{copy_in, copy_out, width_at};
use super::region::Region;
use crate::error::{Error, ErrorKind, Result};
use crate::sys::Protection;

/// The untyped core of every array view: a region, the number of elements and their layout.
#[derive(Clone)]
struct RawArray {
    region: Arc<Region>,
    len: usize,
    size: usize,
    stride: usize,
}

impl RawArray {
    fn new<T>(view: &str, region: Arc<Region>, value_size: u32, max_entries: u32) -> Result<Self> {
        let what = || alloc::format!("{view}<{}>", type_name::<T>());
        if value_size == 0 {
            return Err(Error::invalid_argument(alloc::format!(
                "{}: value_size is 0",
                what()
            )));
        }
        if size_of::<T>() != value_size as usize {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                alloc::format!(
                    "{}: the Rust type is {} bytes but the map's value_size is {value_size}",
                    what(),
                    size_of::<T>()
                ),
            ));
        }
        if align_of::<T>() > 8 {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                alloc::format!(
                    "{}: the Rust type is aligned to {} bytes; map elements are only 8-aligned",
                    what(),
                    align_of::<T>()
                ),
            ));
        }
        let stride = crate::map::value_stride(value_size);
        let need = stride
            .checked_mul(u64::from(max_entries))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= region.len());
        if need.is_none() {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                alloc::format!(
                    "{}: {max_entries} elements of stride {stride} do not fit a region of {} bytes",
                    what(),
                    region.len()
                ),
            ));
        }
        if region.as_ptr() as usize % 8 != 0 {
            return Err(Error::invalid_argument(alloc::format!(
                "{}: region is not 8-aligned",
                what()
            )));
        }
        // `stride * max_entries` fits in usize, so both of these do.
        Ok(RawArray {
            region,
            len: max_entries as usize,
            size: value_size as usize,
            stride: stride as usize,
        })
    }

    #[inline(always)]
    fn check_index(&self, i: usize) -> Result<()> {
        if i < self.len {
            Ok(())
        } else {
            Err(index_error(i, self.len))
        }
    }

    fn check_range(&self, start: usize, count: usize) -> Result<()> {
        match start.checked_add(count) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::new(
                ErrorKind::OutOfBounds,
                alloc::format!(
                    "elements {start}..{start}+{count} are out of bounds for an array of {} elements",
                    self.len
                ),
            )),
        }
    }

    /// Address of element `i`; `i <= len`.
    #[inline(always)]
    fn elem(&self, i: usize) -> *mut u8 {
        // `i * stride <= len * stride <= region.len()` (checked in `new`), so this stays in
        // (or one past) the region; wrapping_add keeps the computation free of UB anyway.
        self.region.as_mut_ptr().wrapping_add(i * self.stride)
    }

    /// Copy elements `start..start + count` into `dst` (`count * size` bytes).
    ///
    /// # Safety
    /// The range is in bounds and `dst` is valid for `count * size` bytes of writes and does
    /// not overlap the region.
    unsafe fn read_into(&self, start: usize, count: usize, dst: *mut u8) {
        if self.size == self.stride {
            // Unpadded: one contiguous run of whole words.
            // SAFETY: elements start..start+count are contiguous in the region (in bounds per
            // the caller); `dst` holds `count * size` bytes.
            unsafe { copy_out(self.elem(start), count * self.size, dst) };
        } else {
            for k in 0..count {
                // SAFETY: element `start + k` is in bounds; `dst` has room for `count` values.
                unsafe { copy_out(self.elem(start + k), self.size, dst.add(k * self.size)) };
            }
        }
    }

    /// Copy `count * size` bytes from `src` into elements `start..start + count`.
    ///
    /// # Safety
    /// The range is in bounds, the region is writable, and `src` is valid for reads.
    unsafe fn write_from(&self, start: usize, count: usize, src: *const u8) {
        if self.size == self.stride {
            // SAFETY: contiguous, in-bounds elements of a writable region.
            unsafe { copy_in(src, count * self.size, self.elem(start)) };
        } else {
            for k in 0..count {
                // SAFETY: element `start + k` is in bounds and writable; `src` holds `count`
                // values. Only the value's bytes are written, never the padding.
                unsafe { copy_in(src.add(k * self.size), self.size, self.elem(start + k)) };
            }
        }
    }

    /// The hot path of every view: a bounds check and, for the common 8- and 4-byte values,
    /// one relaxed atomic load (a plain `mov`), with sizes known at compile time.
    #[inline(always)]
    fn load<T: FromBytes + IntoBytes>(&self, i: usize) -> Result<T> {
        self.check_index(i)?;
        let mut out = T::new_zeroed();
        // Elements start 8-aligned (page-aligned region, stride a multiple of 8), so the 8- and
        // 4-byte arms below are single aligned words of the access pattern.
        // SAFETY: `i` is in bounds; `out` is a local T of the value size (checked in `new`);
        // T: FromBytes accepts any bytes; the words are aligned (above).
        unsafe {
            let dst = out.as_mut_bytes().as_mut_ptr();
            match size_of::<T>() {
                8 => dst.cast::<u64>().write_unaligned(
                    AtomicU64::from_ptr(self.elem(i).cast::<u64>()).load(Ordering::Relaxed),
                ),
                4 => dst.cast::<u32>().write_unaligned(
                    AtomicU32::from_ptr(self.elem(i).cast::<u32>()).load(Ordering::Relaxed),
                ),
                n => copy_out(self.elem(i), n, dst),
            }
        }
        Ok(out)
    }

    fn read_range<T: FromBytes + IntoBytes>(&self, start: usize, dst: &mut [T]) -> Result<()> {
        self.check_range(start, dst.len())?;
        // SAFETY: in bounds; `dst` is an exclusive slice of `dst.len() * size` bytes outside
        // the region (it is a `&mut`, and the region is never lent as `&mut`).
        unsafe { self.read_into(start, dst.len(), dst.as_mut_bytes().as_mut_ptr()) };
        Ok(())
    }

    fn snapshot<T: FromBytes>(&self) -> Vec<T> {
        let mut v = Vec::<T>::with_capacity(self.len);
        // SAFETY: the spare capacity holds `len` values of `size` bytes (size_of::<T>() ==
        // size); all of it is written before `set_len`, and T: FromBytes makes any bytes a
        // valid T.
        unsafe {
            self.read_into(0, self.len, v.as_mut_ptr().cast::<u8>());
            v.set_len(self.len);
        }
        v
    }

    /// Check that `[off, off + width)` of element `i` is one access of the pattern.
    #[inline]
    fn word(&self, i: usize, off: usize, width: usize) -> Result<*mut u8> {
        self.check_index(i)?;
        let p = self.elem(i);
        check_word(p as usize, self.size, off, width, "value")?;
        Ok(p.wrapping_add(off))
    }
}

/// Check that `[off, off + width)` of the span `[addr, addr + size)` is one access of the
/// pattern in [`super::access`] (in bounds, aligned, not straddling or splitting a word).
pub(super) fn check_word(
    addr: usize,
    size: usize,
    off: usize,
    width: usize,
    what: &str,
) -> Result<()> {
    if off.checked_add(width).is_none_or(|end| end > size) {
        return Err(Error::new(
            ErrorKind::OutOfBounds,
            alloc::format!(
                "a {width}-byte word at byte offset {off} does not fit a {size}-byte {what}"
            ),
        ));
    }
    if width_at(addr, size, off) != Some(width) {
        return Err(Error::new(
            ErrorKind::TypeMismatch,
            alloc::format!(
                "byte offset {off} of a {size}-byte {what} is not a {width}-byte word of the view's \
                 access pattern (naturally aligned u64 words, then a u32/u16/u8 tail); use the \
                 accessor for the word that covers it"
            ),
        ));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn index_error(i: usize, len: usize) -> Error {
    Error::new(
        ErrorKind::OutOfBounds,
        alloc::format!("index {i} is out of bounds for an array of {len} elements"),
    )
}

/// The error for `atomic_u64(i)` / `atomic_u32(i)` on a value of another size.
pub(super) fn whole_value_mismatch(size: usize, width: usize) -> Error {
    Error::new(
        ErrorKind::TypeMismatch,
        alloc::format!(
            "the value is {size} bytes, not {width}; use the `_at` accessor with a byte offset"
        ),
    )
}

fn protection_mismatch(view: &str, want: Protection, got: Protection) -> Error {
    Error::new(
        ErrorKind::InvalidState,
        alloc::format!("{view} needs a {want:?} region, but the region is mapped {got:?}"),
    )
}

/// Methods shared by all three array views (they only read).
macro_rules! read_methods {
    () => {
        /// Number of elements (`max_entries`).
        #[inline]
        pub fn len(&self) -> usize {
            self.raw.len
        }

        /// `true` when the view has no elements (never for a map: `max_entries >= 1`).
        pub fn is_empty(&self) -> bool {
            self.raw.len == 0
        }

        /// The map's `value_size` (`size_of::<T>()`).
        pub fn value_size(&self) -> usize {
            self.raw.size
        }

        /// Bytes between elements: `round_up(value_size, 8)`.
        pub fn stride(&self) -> usize {
            self.raw.stride
        }

        /// The shared mapping this view reads.
        pub fn region(&self) -> &Arc<Region> {
            &self.raw.region
        }

        /// Copy element `i` out of the mapping (relaxed atomic word loads; see the
        /// [module docs](crate::mmap)). A value that the kernel or a program writes at the
        /// same time may be torn between words; use the atomic accessors for counters.
        ///
        /// Errors: [`ErrorKind::OutOfBounds`] if `i >= len()`.
        #[inline]
        pub fn load(&self, i: usize) -> Result<T> {
            self.raw.load(i)
        }

        /// Copy every element into `dst`, which must have exactly [`len`](Self::len)
        /// elements ([`ErrorKind::OutOfBounds`] otherwise).
        pub fn copy_to(&self, dst: &mut [T]) -> Result<()> {
            if dst.len() != self.raw.len {
                return Err(Error::new(
                    ErrorKind::OutOfBounds,
                    alloc::format!(
                        "copy_to: destination has {} elements, the array {}",
                        dst.len(),
                        self.raw.len
                    ),
                ));
            }
            self.raw.read_range(0, dst)
        }

        /// Copy elements `start..start + dst.len()` into `dst`.
        pub fn copy_range_to(&self, start: usize, dst: &mut [T]) -> Result<()> {
            self.raw.read_range(start, dst)
        }

        /// All elements, copied into a new vector (as fast as `memcpy` when `value_size` is a
        /// multiple of 8: one run of `u64` loads).
        pub fn snapshot(&self) -> Vec<T> {
            self.raw.snapshot()
        }

        /// Iterate over copies of the elements (each one a [`load`](Self::load)).
        pub fn iter(&self) -> Iter<'_, T> {
            Iter {
                raw: &self.raw,
                front: 0,
                back: self.raw.len,
                _t: PhantomData,
            }
        }

        /// Acquire-load the 8-byte counter that is element `i` (`value_size` must be 8).
        #[inline]
        pub fn load_u64_acquire(&self, i: usize) -> Result<u64> {
            if self.raw.size != 8 {
                return Err(whole_value_mismatch(self.raw.size, 8));
            }
            self.load_u64_acquire_at(i, 0)
        }

        /// Acquire-load the `u64` at `byte_offset` in element `i`. The word must be one of the
        /// value's 8-aligned words ([`ErrorKind::TypeMismatch`] otherwise).
        #[inline]
        pub fn load_u64_acquire_at(&self, i: usize, byte_offset: usize) -> Result<u64> {
            let p = self.raw.word(i, byte_offset, 8)?;
            // SAFETY: `word` checked that the 8 bytes are in element `i` of the live region
            // and 8-aligned; Rust only accesses the region atomically, and an atomic load does
            // not write (fine on PROT_READ on 64-bit targets).
            Ok(unsafe { AtomicU64::from_ptr(p.cast()) }.load(Ordering::Acquire))
        }

        /// Acquire-load the 4-byte value that is element `i` (`value_size` must be 4).
        #[inline]
        pub fn load_u32_acquire(&self, i: usize) -> Result<u32> {
            if self.raw.size != 4 {
                return Err(whole_value_mismatch(self.raw.size, 4));
            }
            self.load_u32_acquire_at(i, 0)
        }

        /// Acquire-load the `u32` at `byte_offset` in element `i`: it must be the value's
        /// 4-byte tail word (a `u32` inside an 8-byte word is read with
        /// [`load_u64_acquire_at`](Self::load_u64_acquire_at)).
        #[inline]
        pub fn load_u32_acquire_at(&self, i: usize, byte_offset: usize) -> Result<u32> {
            let p = self.raw.word(i, byte_offset, 4)?;
            // SAFETY: as in `load_u64_acquire_at`, for a 4-aligned in-bounds word.
            Ok(unsafe { AtomicU32::from_ptr(p.cast()) }.load(Ordering::Acquire))
        }

        /// The address of element 0 (page aligned). Element `i` is at
        /// `as_ptr() + i * stride()`. Reads through it must be atomic (or the caller must
        /// know that nothing writes the memory); see [`crate::mmap`].
        pub fn as_ptr(&self) -> *const u8 {
            self.raw.region.as_ptr()
        }
    };
}

/// A read-write view of an array map's mapping (`PROT_READ | PROT_WRITE`): element `i` of
/// type `T` at byte `i * round_up(value_size, 8)`.
///
/// Made by the map layer from an `mmap(2)` of a `BPF_F_MMAPABLE` array (Linux 5.5+). The
/// kernel and BPF programs write this memory concurrently, so the view never lends `&T`: it
/// copies values in and out with atomic word accesses and hands out `&AtomicU64`/`&AtomicU32`
/// for counters. It keeps the mapping (and so the map) alive until dropped; clones share it.
///
/// ```
/// use core::sync::atomic::Ordering;
/// # #[allow(dead_code)]
/// fn count(v: &mmbpf::mmap::ArrayView<u64>) -> mmbpf::Result<u64> {
///     v.store(0, &1)?;                                  // an atomic word-wise copy in
///     v.atomic_u64(1)?.fetch_add(1, Ordering::Relaxed); // a counter shared with BPF
///     let all: Vec<u64> = v.snapshot();                 // a bulk copy out
///     Ok(all.iter().sum::<u64>() + v.load(2)?)
/// }
/// ```
///
/// A read-only view has no `store` and no `&AtomicU64`:
///
/// ```compile_fail
/// fn f(v: &mmbpf::mmap::ArrayViewRo<u64>) {
///     v.store(0, &1).unwrap();
/// }
/// ```
///
/// ```compile_fail
/// fn f(v: &mmbpf::mmap::ArrayViewRo<u64>) {
///     v.atomic_u64(0).unwrap();
/// }
/// ```
pub struct ArrayView<T> {
    raw: RawArray,
    _t: PhantomData<fn() -> T>,
}

/// A read-only view of an array map's mapping (`PROT_READ`): loads, snapshots, iteration and
/// acquire loads of counters, but no stores and no `&AtomicU64` (a store through one would
/// fault on the read-only page).
///
/// Frozen maps and maps created with `BPF_F_RDONLY_PROG` can only be mapped read-only. Other
/// writers (programs, a writable mapping elsewhere) may still change the values, so this view
/// copies like [`ArrayView`]; only [`FrozenArrayView`] may lend references.
pub struct ArrayViewRo<T> {
    raw: RawArray,
    _t: PhantomData<fn() -> T>,
}

/// A read-only view of a map that nobody can write any more: it lends `&T` and `&[T]`.
///
/// References into shared memory are sound only if the bytes cannot change while borrowed.
/// For a BPF array that holds when both
/// - user space cannot write it: the map is frozen (`BPF_MAP_FREEZE`, permanent; the kernel
///   then refuses syscall updates and writable mappings, and freezing fails with `EBUSY` while
///   a writable mapping exists, so none can be left over), and
/// - BPF programs cannot write it: the map was created with `BPF_F_RDONLY_PROG` (the verifier
///   rejects stores and writing helpers).
///
/// Neither fact can be read back from the mapping, so [`FrozenArrayView::new`] accepts only a
/// region made by [`Region::map_frozen`], which checks both on the map handle and maps that
/// map's own descriptor in the same step.
pub struct FrozenArrayView<T> {
    raw: RawArray,
    // Lends `&T` to whichever thread holds the view: Send and Sync only when T: Sync (below).
    _t: PhantomData<*const T>,
}

// SAFETY: the view lends `&T` (from any thread that has it), which is sound to share across
// threads when `T: Sync`; the region itself is Send + Sync.
unsafe impl<T: Sync> Send for FrozenArrayView<T> {}
// SAFETY: as for Send.
unsafe impl<T: Sync> Sync for FrozenArrayView<T> {}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> ArrayView<T> {
    /// A read-write view of `max_entries` values of `value_size` bytes in `region`.
    ///
    /// Errors: [`ErrorKind::TypeMismatch`] if `size_of::<T>() != value_size` or `T` needs
    /// more than 8-byte alignment; [`ErrorKind::OutOfBounds`] if the elements do not fit the
    /// region; [`ErrorKind::InvalidState`] if the region is not mapped read-write.
    pub fn new(region: impl Into<Arc<Region>>, value_size: u32, max_entries: u32) -> Result<Self> {
        let region = region.into();
        if region.protection() != Protection::ReadWrite {
            return Err(protection_mismatch(
                "ArrayView",
                Protection::ReadWrite,
                region.protection(),
            ));
        }
        let raw = RawArray::new::<T>("ArrayView", region, value_size, max_entries)?;
        Ok(ArrayView {
            raw,
            _t: PhantomData,
        })
    }

    read_methods!();

    /// Copy `value` into element `i` (relaxed atomic word stores; the padding up to the
    /// stride is not touched).
    #[inline]
    pub fn store(&self, i: usize, value: &T) -> Result<()> {
        self.raw.check_index(i)?;
        let src = value.as_bytes().as_ptr();
        let dst = self.raw.elem(i);
        // Elements start 8-aligned, so the 8- and 4-byte arms are single aligned words of the
        // access pattern.
        // SAFETY: `i` is in bounds of a writable region; `value` is value-size readable bytes
        // outside it (a `&T` never points into a writable mapping); words aligned (above).
        unsafe {
            match size_of::<T>() {
                8 => AtomicU64::from_ptr(dst.cast::<u64>())
                    .store(src.cast::<u64>().read_unaligned(), Ordering::Relaxed),
                4 => AtomicU32::from_ptr(dst.cast::<u32>())
                    .store(src.cast::<u32>().read_unaligned(), Ordering::Relaxed),
                n => copy_in(src, n, dst),
            }
        }
        Ok(())
    }

    /// Copy `src` into every element; `src.len()` must equal [`len`](Self::len).
    pub fn copy_from(&self, src: &[T]) -> Result<()> {
        if src.len() != self.raw.len {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                alloc::format!(
                    "copy_from: source has {} elements, the array {}",
                    src.len(),
                    self.raw.len
                ),
            ));
        }
        self.copy_range_from(0, src)
    }

    /// Copy `src` into elements `start..start + src.len()`.
    pub fn copy_range_from(&self, start: usize, src: &[T]) -> Result<()> {
        self.raw.check_range(start, src.len())?;
        // SAFETY: in bounds of a writable region; `src` is readable and outside it.
        unsafe {
            self.raw
                .write_from(start, src.len(), src.as_bytes().as_ptr())
        };
        Ok(())
    }

    /// The 8-byte value at index `i` as an atomic counter (`value_size` must be 8): BPF
    /// programs update counters with atomic instructions (`__sync_fetch_and_add`), and so
    /// can user space through this reference.
    #[inline]
    pub fn atomic_u64(&self, i: usize) -> Result<&AtomicU64> {
        if self.raw.size != 8 {
            return Err(whole_value_mismatch(self.raw.size, 8));
        }
        self.raw.check_index(i)?;
        // The reference lives no longer than `&self`, which keeps the region mapped.
        // SAFETY: element `i` is in bounds of the live writable region, 8-aligned, and one
        // 8-byte word of the access pattern (value_size == 8); Rust only accesses it atomically.
        Ok(unsafe { AtomicU64::from_ptr(self.raw.elem(i).cast()) })
    }

    /// The `u64` at `byte_offset` in element `i` as an atomic. The word must be one of the
    /// value's 8-aligned words: [`ErrorKind::OutOfBounds`] past the value,
    /// [`ErrorKind::TypeMismatch`] if misaligned.
    #[inline]
    pub fn atomic_u64_at(&self, i: usize, byte_offset: usize) -> Result<&AtomicU64> {
        let p = self.raw.word(i, byte_offset, 8)?;
        // SAFETY: 8-aligned, in bounds of the live writable region, which outlives `&self`
        // (the view holds an Arc); Rust only accesses the region atomically, with this same
        // word width at this address.
        Ok(unsafe { AtomicU64::from_ptr(p.cast()) })
    }

    /// The 4-byte value at index `i` as an atomic (`value_size` must be 4).
    #[inline]
    pub fn atomic_u32(&self, i: usize) -> Result<&AtomicU32> {
        if self.raw.size != 4 {
            return Err(whole_value_mismatch(self.raw.size, 4));
        }
        self.raw.check_index(i)?;
        // The reference lives no longer than `&self`, which keeps the region mapped.
        // SAFETY: element `i` is in bounds of the live writable region, 8-aligned, and one
        // 4-byte word of the access pattern (value_size == 4); Rust only accesses it atomically.
        Ok(unsafe { AtomicU32::from_ptr(self.raw.elem(i).cast()) })
    }

    /// The `u32` at `byte_offset` in element `i` as an atomic: it must be the value's 4-byte
    /// tail word (e.g. offset 8 of a 12-byte value). A `u32` inside an 8-byte word is not
    /// offered: loads copy that word as a `u64`, and racing atomic accesses of different
    /// sizes to the same bytes are undefined in Rust's memory model.
    #[inline]
    pub fn atomic_u32_at(&self, i: usize, byte_offset: usize) -> Result<&AtomicU32> {
        let p = self.raw.word(i, byte_offset, 4)?;
        // SAFETY: as in `atomic_u64_at`, for a 4-aligned word of the access pattern.
        Ok(unsafe { AtomicU32::from_ptr(p.cast()) })
    }

    /// The address of element 0, for writing (see [`as_ptr`](Self::as_ptr)).
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.raw.region.as_mut_ptr()
    }

    /// Borrow the whole array as `&[T]`, when `value_size` is a multiple of 8 (no padding
    /// between elements; [`ErrorKind::TypeMismatch`] otherwise).
    ///
    /// # Safety
    /// For the whole lifetime of the returned slice, nothing may write the mapped elements:
    /// no BPF program that can run (detached, or never touching this map), no other
    /// mapping of the map (in this or another process), no syscall update, and no other view
    /// of this region in this process (the caller proves quiescence; the types cannot).
    pub unsafe fn as_slice_unchecked(&self) -> Result<&[T]> {
        // SAFETY: forwarded to the caller.
        unsafe { slice_of(&self.raw) }
    }

    /// Borrow the whole array as `&mut [T]`, when `value_size` is a multiple of 8.
    ///
    /// # Safety
    /// For the whole lifetime of the returned slice, nothing else may read or write the
    /// mapped elements: no BPF program, no other mapping, no syscall lookup or update, no
    /// other view of this region.
    pub unsafe fn as_mut_slice_unchecked(&mut self) -> Result<&mut [T]> {
        let n = unpadded_len(&self.raw)?;
        // SAFETY: the region holds `n` contiguous, 8-aligned T (checked in `new` and by
        // `unpadded_len`) and stays mapped while `self` is borrowed; exclusivity is the
        // caller's promise.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.raw.elem(0).cast::<T>(), n) })
    }
}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> ArrayViewRo<T> {
    /// A read-only view of `max_entries` values of `value_size` bytes in `region` (mapped
    /// read-only or read-write).
    ///
    /// Errors: as [`ArrayView::new`], without the protection check.
    pub fn new(region: impl Into<Arc<Region>>, value_size: u32, max_entries: u32) -> Result<Self> {
        let raw = RawArray::new::<T>("ArrayViewRo", region.into(), value_size, max_entries)?;
        Ok(ArrayViewRo {
            raw,
            _t: PhantomData,
        })
    }

    read_methods!();

    /// Borrow the whole array as `&[T]`, when `value_size` is a multiple of 8.
    ///
    /// # Safety
    /// As [`ArrayView::as_slice_unchecked`]: nothing may write the elements while the slice
    /// lives.
    pub unsafe fn as_slice_unchecked(&self) -> Result<&[T]> {
        // SAFETY: forwarded to the caller.
        unsafe { slice_of(&self.raw) }
    }
}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> FrozenArrayView<T> {
    /// A view that lends references, over a frozen `region` made by
    /// [`Region::map_frozen`]: a read-only mapping of a map that is frozen (no syscall update
    /// and no writable mapping can exist) and `BPF_F_RDONLY_PROG` (no BPF program can write
    /// it), so the mapped bytes never change while the region is mapped.
    ///
    /// Errors: as [`ArrayViewRo::new`], and [`ErrorKind::InvalidState`] if the region is not
    /// frozen.
    pub fn new(region: impl Into<Arc<Region>>, value_size: u32, max_entries: u32) -> Result<Self> {
        let region = region.into();
        if !region.is_frozen() || region.protection() != Protection::ReadOnly {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "FrozenArrayView needs a region from Region::map_frozen (a read-only mapping of a \
                 frozen BPF_F_RDONLY_PROG map)",
            ));
        }
        let raw = RawArray::new::<T>("FrozenArrayView", region, value_size, max_entries)?;
        Ok(FrozenArrayView {
            raw,
            _t: PhantomData,
        })
    }

    read_methods!();

    /// Borrow element `i`.
    pub fn get(&self, i: usize) -> Result<&T> {
        self.raw.check_index(i)?;
        // SAFETY: in bounds and 8-aligned (checked in `new`); any initialised bytes are a T
        // (FromBytes; Immutable: no UnsafeCell); never written while the view lives (the
        // region is frozen: see `Region::map_frozen`); the region outlives `&self`.
        Ok(unsafe { &*self.raw.elem(i).cast::<T>() })
    }

    /// Borrow the whole array as `&[T]`. Needs `value_size` to be a multiple of 8 (no
    /// padding between elements); otherwise [`ErrorKind::TypeMismatch`]: use
    /// [`get`](Self::get).
    pub fn as_slice(&self) -> Result<&[T]> {
        // SAFETY: the region is frozen (checked in `new`, see `Region::map_frozen`): nothing
        // writes the elements while the view lives.
        unsafe { slice_of(&self.raw) }
    }
}

/// The element count if elements are contiguous (`value_size == stride`).
fn unpadded_len(raw: &RawArray) -> Result<usize> {
    if raw.size == raw.stride {
        Ok(raw.len)
    } else {
        Err(Error::new(
            ErrorKind::TypeMismatch,
            alloc::format!(
                "{}-byte values are padded to a {}-byte stride: the array is not a slice; borrow or load elements one by one",
                raw.size, raw.stride
            ),
        ))
    }
}

/// # Safety
/// Nothing writes the elements while the returned slice lives.
unsafe fn slice_of<T: FromBytes + Immutable>(raw: &RawArray) -> Result<&[T]> {
    let n = unpadded_len(raw)?;
    // SAFETY: `n` contiguous T at an 8-aligned address in the live region (checked in `new`),
    // all bytes initialised (any bytes are a valid T), T: Immutable; immutability for the
    // borrow is the caller's promise.
    Ok(unsafe { core::slice::from_raw_parts(raw.elem(0).cast::<T>().cast_const(), n) })
}

macro_rules! common_impls {
    ($($view:ident),*) => {$(
        impl<T> Clone for $view<T> {
            fn clone(&self) -> Self {
                $view { raw: self.raw.clone(), _t: PhantomData }
            }
        }

        impl<T> fmt::Debug for $view<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($view))
                    .field("type", &type_name::<T>())
                    .field("len", &self.raw.len)
                    .field("value_size", &self.raw.size)
                    .field("stride", &self.raw.stride)
                    .field("region", &self.raw.region)
                    .finish()
            }
        }

        impl<'a, T: FromBytes + IntoBytes + KnownLayout + Immutable> IntoIterator for &'a $view<T> {
            type Item = T;
            type IntoIter = Iter<'a, T>;
            fn into_iter(self) -> Iter<'a, T> {
                self.iter()
            }
        }
    )*};
}
common_impls!(ArrayView, ArrayViewRo, FrozenArrayView);

/// Iterator over copies of a view's elements (see `iter()` on the views).
pub struct Iter<'a, T> {
    raw: &'a RawArray,
    front: usize,
    back: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T: FromBytes + IntoBytes> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        let v = self.raw.load(self.front).ok();
        self.front += 1;
        v
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<T> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl<T: FromBytes + IntoBytes> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        self.raw.load(self.back).ok()
    }
}

impl<T: FromBytes + IntoBytes> ExactSizeIterator for Iter<'_, T> {}
impl<T: FromBytes + IntoBytes> FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("front", &self.front)
            .field("back", &self.back)
            .finish()
    }
}
