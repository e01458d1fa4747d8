//! Typed views of one value at a byte offset in a region: global variables in the
//! single-entry maps that hold `.data`, `.bss` and `.rodata`.

use alloc::sync::Arc;
use core::any::type_name;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::access::{copy_in, copy_out};
use super::region::Region;
use super::view::{check_word, whole_value_mismatch};
use crate::error::{Error, ErrorKind, Result};
use crate::sys::Protection;

/// The untyped core: a region and the span `[offset, offset + size)` in it.
#[derive(Clone)]
struct RawVar {
    region: Arc<Region>,
    offset: usize,
    size: usize,
}

impl RawVar {
    fn new<T>(view: &str, region: Arc<Region>, offset: usize, size: usize) -> Result<Self> {
        let what = || alloc::format!("{view}<{}> at byte offset {offset}", type_name::<T>());
        if size_of::<T>() != size {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                alloc::format!(
                    "{}: the Rust type is {} bytes but the variable is {size}",
                    what(),
                    size_of::<T>()
                ),
            ));
        }
        if align_of::<T>() > 8 {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                alloc::format!(
                    "{}: the Rust type is aligned to {} bytes (at most 8 supported)",
                    what(),
                    align_of::<T>()
                ),
            ));
        }
        if offset
            .checked_add(size)
            .is_none_or(|end| end > region.len())
        {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                alloc::format!(
                    "{}: {size} bytes do not fit a region of {} bytes",
                    what(),
                    region.len()
                ),
            ));
        }
        let addr = (region.as_ptr() as usize).wrapping_add(offset);
        if addr % align_of::<T>() != 0 {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                alloc::format!(
                    "{}: the offset is not aligned to the type's {} bytes",
                    what(),
                    align_of::<T>()
                ),
            ));
        }
        Ok(RawVar {
            region,
            offset,
            size,
        })
    }

    fn ptr(&self) -> *mut u8 {
        // In bounds: `offset + size <= region.len()` (checked in `new`).
        self.region.as_mut_ptr().wrapping_add(self.offset)
    }

    fn load<T: FromBytes + IntoBytes>(&self) -> T {
        let mut out = T::new_zeroed();
        // SAFETY: the span is in the live region; `out` is a local of `size` bytes
        // (size_of::<T>() == size) and T: FromBytes accepts any bytes.
        unsafe { copy_out(self.ptr(), self.size, out.as_mut_bytes().as_mut_ptr()) };
        out
    }

    fn word(&self, off: usize, width: usize) -> Result<*mut u8> {
        check_word(self.ptr() as usize, self.size, off, width, "variable")?;
        Ok(self.ptr().wrapping_add(off))
    }
}

macro_rules! var_read_methods {
    () => {
        /// Byte offset of the variable in the region (its offset in the ELF section).
        pub fn offset(&self) -> usize {
            self.raw.offset
        }

        /// Size in bytes (`size_of::<T>()`).
        pub fn size(&self) -> usize {
            self.raw.size
        }

        /// The shared mapping (one per global-data map; many variables share it).
        pub fn region(&self) -> &Arc<Region> {
            &self.raw.region
        }

        /// Copy the value out (relaxed atomic word loads; see [`crate::mmap`]).
        pub fn load(&self) -> T {
            self.raw.load()
        }

        /// Acquire-load the variable as a `u64` (its size must be 8 and its offset 8-aligned).
        pub fn load_u64_acquire(&self) -> Result<u64> {
            if self.raw.size != 8 {
                return Err(whole_value_mismatch(self.raw.size, 8));
            }
            self.load_u64_acquire_at(0)
        }

        /// Acquire-load the `u64` word at `byte_offset` in the variable (one of its naturally
        /// aligned 8-byte words).
        pub fn load_u64_acquire_at(&self, byte_offset: usize) -> Result<u64> {
            let p = self.raw.word(byte_offset, 8)?;
            // SAFETY: `word` checked the 8 bytes are in the live region and 8-aligned; Rust
            // only accesses the region atomically; an atomic load does not write.
            Ok(unsafe { AtomicU64::from_ptr(p.cast()) }.load(Ordering::Acquire))
        }

        /// Acquire-load the variable as a `u32` (its size must be 4).
        pub fn load_u32_acquire(&self) -> Result<u32> {
            if self.raw.size != 4 {
                return Err(whole_value_mismatch(self.raw.size, 4));
            }
            self.load_u32_acquire_at(0)
        }

        /// Acquire-load the `u32` word at `byte_offset` (a 4-byte word of the access pattern).
        pub fn load_u32_acquire_at(&self, byte_offset: usize) -> Result<u32> {
            let p = self.raw.word(byte_offset, 4)?;
            // SAFETY: as in `load_u64_acquire_at`, for a 4-aligned word.
            Ok(unsafe { AtomicU32::from_ptr(p.cast()) }.load(Ordering::Acquire))
        }

        /// The variable's address. Reads through it must be atomic unless nothing writes it.
        pub fn as_ptr(&self) -> *const u8 {
            self.raw.ptr()
        }
    };
}

/// A global variable in a writable global-data map (`.data`, `.bss`), mapped read-write.
///
/// BPF programs write it concurrently, so it is copied in and out with atomic word accesses
/// and never lent as `&T`; counters are available as `&AtomicU64`/`&AtomicU32`.
pub struct Variable<T> {
    raw: RawVar,
    _t: PhantomData<fn() -> T>,
}

/// A global variable in a read-only mapping whose contents may still change (e.g. a `.data`
/// map mapped `PROT_READ`): loads only.
pub struct VariableRo<T> {
    raw: RawVar,
    _t: PhantomData<fn() -> T>,
}

/// A global variable that nobody can write any more (`.rodata` after it is frozen): lends
/// `&T`. See [`FrozenArrayView`](super::FrozenArrayView) for why that needs a frozen
/// `BPF_F_RDONLY_PROG` map.
pub struct FrozenVariable<T> {
    raw: RawVar,
    _t: PhantomData<*const T>,
}

// SAFETY: lends `&T` to the thread that holds it; sound across threads when `T: Sync`.
unsafe impl<T: Sync> Send for FrozenVariable<T> {}
// SAFETY: as for Send.
unsafe impl<T: Sync> Sync for FrozenVariable<T> {}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> Variable<T> {
    /// The `size`-byte variable at `offset` in a read-write `region`.
    ///
    /// Errors: [`ErrorKind::TypeMismatch`] if `size_of::<T>() != size`, or the address is
    /// not aligned for `T` (or `T` needs more than 8); [`ErrorKind::OutOfBounds`] if it does
    /// not fit the region; [`ErrorKind::InvalidState`] if the region is read-only.
    pub fn new(region: impl Into<Arc<Region>>, offset: usize, size: usize) -> Result<Self> {
        let region = region.into();
        if region.protection() != Protection::ReadWrite {
            return Err(Error::new(
                ErrorKind::InvalidState,
                alloc::format!("Variable at byte offset {offset} needs a read-write region; this one is read-only"),
            ));
        }
        Ok(Variable {
            raw: RawVar::new::<T>("Variable", region, offset, size)?,
            _t: PhantomData,
        })
    }

    var_read_methods!();

    /// Copy `value` into the variable (relaxed atomic word stores).
    pub fn store(&self, value: &T) {
        // SAFETY: the span is in the live writable region; `value` is `size` readable bytes
        // outside it.
        unsafe { copy_in(value.as_bytes().as_ptr(), self.raw.size, self.raw.ptr()) };
    }

    /// The variable as an atomic `u64` (its size must be 8 and its offset 8-aligned).
    pub fn atomic_u64(&self) -> Result<&AtomicU64> {
        if self.raw.size != 8 {
            return Err(whole_value_mismatch(self.raw.size, 8));
        }
        self.atomic_u64_at(0)
    }

    /// The naturally aligned 8-byte word at `byte_offset` in the variable, as an atomic.
    pub fn atomic_u64_at(&self, byte_offset: usize) -> Result<&AtomicU64> {
        let p = self.raw.word(byte_offset, 8)?;
        // SAFETY: 8-aligned word of the access pattern in the live writable region, which
        // outlives `&self`; Rust only accesses the region atomically.
        Ok(unsafe { AtomicU64::from_ptr(p.cast()) })
    }

    /// The variable as an atomic `u32` (its size must be 4).
    pub fn atomic_u32(&self) -> Result<&AtomicU32> {
        if self.raw.size != 4 {
            return Err(whole_value_mismatch(self.raw.size, 4));
        }
        self.atomic_u32_at(0)
    }

    /// The 4-byte word at `byte_offset` as an atomic: it must be a 4-byte word of the access
    /// pattern (not half of an 8-byte word).
    pub fn atomic_u32_at(&self, byte_offset: usize) -> Result<&AtomicU32> {
        let p = self.raw.word(byte_offset, 4)?;
        // SAFETY: as in `atomic_u64_at`, for a 4-aligned word of the pattern.
        Ok(unsafe { AtomicU32::from_ptr(p.cast()) })
    }

    /// The variable's address, for writing.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.raw.ptr()
    }
}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> VariableRo<T> {
    /// The `size`-byte variable at `offset` in `region` (read-only or read-write).
    ///
    /// Errors: as [`Variable::new`], without the protection check.
    pub fn new(region: impl Into<Arc<Region>>, offset: usize, size: usize) -> Result<Self> {
        Ok(VariableRo {
            raw: RawVar::new::<T>("VariableRo", region.into(), offset, size)?,
            _t: PhantomData,
        })
    }

    var_read_methods!();
}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> FrozenVariable<T> {
    /// The `size`-byte variable at `offset` in a frozen `region` made by
    /// [`Region::map_frozen`] (`.rodata` after it is frozen: the map is `BPF_F_RDONLY_PROG`,
    /// so its bytes never change while mapped).
    ///
    /// Errors: as [`VariableRo::new`], and [`ErrorKind::InvalidState`] if the region is not
    /// frozen.
    pub fn new(region: impl Into<Arc<Region>>, offset: usize, size: usize) -> Result<Self> {
        let region = region.into();
        if !region.is_frozen() || region.protection() != Protection::ReadOnly {
            return Err(Error::new(
                ErrorKind::InvalidState,
                alloc::format!(
                    "FrozenVariable at byte offset {offset} needs a region from Region::map_frozen \
                     (a read-only mapping of a frozen BPF_F_RDONLY_PROG map)"
                ),
            ));
        }
        Ok(FrozenVariable {
            raw: RawVar::new::<T>("FrozenVariable", region, offset, size)?,
            _t: PhantomData,
        })
    }

    var_read_methods!();

    /// Borrow the value.
    pub fn get(&self) -> &T {
        // SAFETY: in bounds and aligned for T (checked in `new`), initialised bytes that are
        // a valid T (FromBytes), never written while the view lives (the region is
        // frozen: see `Region::map_frozen`), T: Immutable, and the region outlives `&self`.
        unsafe { &*self.raw.ptr().cast::<T>() }
    }
}

macro_rules! var_common_impls {
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
                    .field("offset", &self.raw.offset)
                    .field("size", &self.raw.size)
                    .field("region", &self.raw.region)
                    .finish()
            }
        }
    )*};
}
var_common_impls!(Variable, VariableRo, FrozenVariable);
