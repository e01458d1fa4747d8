//! [`ArrayMap<T>`]: a `BPF_MAP_TYPE_ARRAY` of `T`, read and written through syscalls or
//! through an `mmap` view.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::handle::Map;
use super::spec::{mmap_len, MapFlags, MapSpec, MapType, MMAPABLE_SINCE};
use crate::error::{Errno, Error, ErrorKind, Result};
use crate::mmap::{ArrayView, ArrayViewRo, FrozenArrayView, Region};
use crate::probe::Feature;
use crate::sys::{abi, page_size, Protection};

/// A typed `BPF_MAP_TYPE_ARRAY` whose values are `T`.
///
/// `T` must have exactly the map's `value_size` (checked when the map is wrapped; a
/// mismatch is an [`ErrorKind::TypeMismatch`] error, never undefined behaviour). Keys are
/// `u32` indexes.
///
/// Two ways in:
/// - syscalls: [`get`](Self::get), [`set`](Self::set), [`read_all`](Self::read_all) (one
///   `bpf(2)` call each, or one batch call);
/// - memory: for `BPF_F_MMAPABLE` maps (Linux 5.5+), [`mmap`](Self::mmap) returns a view
///   whose reads are plain memory loads — no syscall per access.
#[derive(Debug)]
pub struct ArrayMap<T> {
    map: Map,
    _t: PhantomData<fn() -> T>,
}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable> ArrayMap<T> {
    /// Create a `BPF_F_MMAPABLE` array of `max_entries` `T`s named `name`
    /// (`BPF_MAP_CREATE`, Linux 5.5+).
    pub fn create_mmapable(name: &str, max_entries: u32) -> Result<Self> {
        let spec = MapSpec::mmapable_array(name, value_size_of::<T>()?, max_entries);
        ArrayMap::new(Map::create(&spec)?)
    }

    /// Create an array from `spec` (its `value_size` must be `size_of::<T>()`).
    pub fn create(spec: &MapSpec) -> Result<Self> {
        check_layout::<T>(&spec.name, spec.map_type, spec.key_size, spec.value_size)?;
        ArrayMap::new(Map::create(spec)?)
    }

    /// Wrap an open map, checking that it is an array of `T` with 4-byte keys.
    pub fn new(map: Map) -> Result<Self> {
        let i = map.info();
        check_layout::<T>(&i.name, i.map_type, i.key_size, i.value_size)?;
        Ok(ArrayMap {
            map,
            _t: PhantomData,
        })
    }

    /// The untyped map.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// The untyped map, mutably (to freeze or pin it).
    pub fn map_mut(&mut self) -> &mut Map {
        &mut self.map
    }

    /// Unwrap the untyped map.
    pub fn into_map(self) -> Map {
        self.map
    }

    /// Number of elements (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Never true: the kernel refuses empty arrays.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `start + len` if the elements `start..start + len` exist.
    fn check_range(&self, start: u32, len: usize) -> Result<u64> {
        let end = start as u64 + len as u64;
        if end > self.len() as u64 {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "elements {start}..{end} out of bounds for map \"{}\" of {} entries",
                    self.map.name(),
                    self.len()
                ),
            ));
        }
        Ok(end)
    }

    fn check_index(&self, index: u32) -> Result<()> {
        if index >= self.len() {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "index {index} out of bounds for map \"{}\" of {} entries",
                    self.map.name(),
                    self.len()
                ),
            ));
        }
        Ok(())
    }

    /// Read element `index` with `BPF_MAP_LOOKUP_ELEM` (one syscall).
    pub fn get(&self, index: u32) -> Result<T> {
        self.check_index(index)?;
        let mut value = T::new_zeroed();
        self.map
            .lookup_into(&index.to_ne_bytes(), value.as_mut_bytes())?;
        Ok(value)
    }

    /// Write element `index` with `BPF_MAP_UPDATE_ELEM` (one syscall). Fails with
    /// `EPERM` ([`ErrorKind::InvalidState`]) once the map is frozen.
    pub fn set(&self, index: u32, value: &T) -> Result<()> {
        self.check_index(index)?;
        self.map
            .update_bytes(&index.to_ne_bytes(), value.as_bytes())
    }

    /// Read every element with `BPF_MAP_LOOKUP_BATCH` (5.6), falling back to one
    /// `BPF_MAP_LOOKUP_ELEM` per element on older kernels.
    pub fn read_all(&self) -> Result<Vec<T>> {
        let n = self.len() as usize;
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(n)
            .map_err(|_| Error::new(ErrorKind::InvalidArgument, "out of memory for read_all"))?;
        out.resize_with(n, T::new_zeroed);
        self.read_batch_into(0, &mut out)?;
        Ok(out)
    }

    /// Read elements `start..start + out.len()` into `out` with `BPF_MAP_LOOKUP_BATCH`
    /// (5.6; per-element lookups on older kernels).
    pub fn read_batch_into(&self, start: u32, out: &mut [T]) -> Result<()> {
        self.check_range(start, out.len())?;
        if out.is_empty() {
            return Ok(());
        }
        let mut keys = vec![0u8; out.len() * 4];
        // The batch position for arrays is the next index (u32); start one before `start`.
        let in_batch = start.wrapping_sub(1).to_ne_bytes();
        let mut out_batch = [0u8; 4];
        let fd = self.map.map_fd();
        let mut done = 0usize;
        while done < out.len() {
            let keys_chunk = &mut keys[done * 4..];
            let values_chunk = out[done..].as_mut_bytes();
            let prev = if done == 0 && start == 0 {
                None
            } else {
                Some(if done == 0 { in_batch } else { out_batch })
            };
            let prev_copy = prev;
            match fd.lookup_batch(
                prev_copy.as_ref().map(|b| &b[..]),
                &mut out_batch,
                keys_chunk,
                values_chunk,
            ) {
                Ok(0) => break,
                Ok(n) => done += n as usize,
                Err((n, Errno::ENOENT)) => {
                    done += n as usize;
                    break;
                }
                Err((_, e))
                    if done == 0
                        && (e == Errno::EINVAL
                            || e == Errno::ENOTSUPP
                            || e == Errno::EOPNOTSUPP)
                        && Feature::BatchOps.is_missing() =>
                {
                    return self.read_each(start, out);
                }
                Err((_, e)) => return Err(self.map.err("BPF_MAP_LOOKUP_BATCH", e)),
            }
        }
        if done != out.len() {
            return Err(Error::new(
                ErrorKind::Syscall,
                format!(
                    "BPF_MAP_LOOKUP_BATCH on map \"{}\" returned {done} of {} elements",
                    self.map.name(),
                    out.len()
                ),
            ));
        }
        Ok(())
    }

    fn read_each(&self, start: u32, out: &mut [T]) -> Result<()> {
        for (i, slot) in out.iter_mut().enumerate() {
            let idx = start + i as u32;
            self.map
                .lookup_into(&idx.to_ne_bytes(), slot.as_mut_bytes())?;
        }
        Ok(())
    }

    /// Write `values` at `start..` with `BPF_MAP_UPDATE_BATCH` (5.6; per-element updates on
    /// older kernels).
    pub fn write_batch(&self, start: u32, values: &[T]) -> Result<()> {
        let end = self.check_range(start, values.len())?;
        let keys: Vec<u8> = (start..end as u32).flat_map(|i| i.to_ne_bytes()).collect();
        match self
            .map
            .map_fd()
            .update_batch(&keys, values.as_bytes(), abi::BPF_ANY)
        {
            Ok(n) if n as usize == values.len() => Ok(()),
            Ok(n) => Err(Error::new(
                ErrorKind::Syscall,
                format!(
                    "BPF_MAP_UPDATE_BATCH on map \"{}\" wrote {n} of {} elements",
                    self.map.name(),
                    values.len()
                ),
            )),
            Err((0, e))
                if (e == Errno::EINVAL || e == Errno::ENOTSUPP)
                    && Feature::BatchOps.is_missing() =>
            {
                for (i, v) in values.iter().enumerate() {
                    self.set(start + i as u32, v)?;
                }
                Ok(())
            }
            Err((_, e)) => Err(self.map.elem_err("BPF_MAP_UPDATE_BATCH", e)),
        }
    }

    fn region(&self, prot: Protection) -> Result<Region> {
        let info = self.map.info();
        if self.map.is_read_only() {
            // mmap(2) of a file opened read-only drops VM_SHARED, and bpf_map_mmap refuses
            // private mappings with EINVAL: a read-only descriptor cannot be mapped at all.
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!(
                    "mmap of map \"{}\": the map was opened read-only (BPF_F_RDONLY), and the kernel \
                     only maps BPF maps MAP_SHARED through writable descriptors; read it with get() / \
                     read_all(), or open it read-write and use mmap_ro()",
                    info.name
                ),
            ));
        }
        if !info.flags.contains(MapFlags::MMAPABLE) {
            let err = Error::new(
                ErrorKind::InvalidState,
                format!(
                    "mmap of map \"{}\": the map was not created with BPF_F_MMAPABLE",
                    info.name
                ),
            );
            return Err(if Feature::MmapableArrays.is_missing() {
                err.with_min_kernel(MMAPABLE_SINCE)
            } else {
                err
            });
        }
        let len = mmap_len(info.value_size, info.max_entries, page_size()).ok_or_else(|| {
            Error::invalid_argument(format!("map \"{}\": mmap length overflows", info.name))
        })?;
        Region::map(self.map.fd(), len, prot)
            .map_err(|e| e.context(format_args!("map \"{}\"", info.name)))
    }

    /// Map the array read-write (`mmap(2)` with `PROT_READ | PROT_WRITE`, `MAP_SHARED`;
    /// Linux 5.5+). The view owns the mapping and stays valid after this handle is dropped.
    ///
    /// The kernel refuses writable mappings of frozen maps and of maps with
    /// `BPF_F_RDONLY_PROG`: use [`mmap_ro`](Self::mmap_ro) for those.
    pub fn mmap(&self) -> Result<ArrayView<T>> {
        let info = self.map.info();
        if self.map.is_frozen() || info.flags.contains(MapFlags::RDONLY_PROG) {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!(
                    "writable mmap of map \"{}\": the map is {}; the kernel refuses writable mappings, use mmap_ro()",
                    info.name,
                    if self.map.is_frozen() { "frozen" } else { "BPF_F_RDONLY_PROG" }
                ),
            ));
        }
        let region = self.region(Protection::ReadWrite)?;
        ArrayView::new(region, info.value_size, info.max_entries)
    }

    /// Map the array read-only (`PROT_READ`). Works on frozen and `BPF_F_RDONLY_PROG` maps.
    pub fn mmap_ro(&self) -> Result<ArrayViewRo<T>> {
        let info = self.map.info();
        let region = self.region(Protection::ReadOnly)?;
        ArrayViewRo::new(region, info.value_size, info.max_entries)
    }

    /// Map a frozen `BPF_F_RDONLY_PROG` array read-only and borrow it as `&[T]`: nobody can
    /// write it any more (user space: frozen; programs: read-only), so references are sound.
    pub fn mmap_frozen(&self) -> Result<FrozenArrayView<T>> {
        let info = self.map.info();
        let len = mmap_len(info.value_size, info.max_entries, page_size()).ok_or_else(|| {
            Error::invalid_argument(format!("map \"{}\": mmap length overflows", info.name))
        })?;
        let region = Region::map_frozen(&self.map, len)?;
        FrozenArrayView::new(region, info.value_size, info.max_entries)
    }
}

fn value_size_of<T>() -> Result<u32> {
    u32::try_from(size_of::<T>())
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::TypeMismatch,
                format!(
                    "a value type of {} bytes cannot be a map value",
                    size_of::<T>()
                ),
            )
        })
}

fn check_layout<T>(name: &str, map_type: MapType, key_size: u32, value_size: u32) -> Result<()> {
    if map_type != MapType::ARRAY {
        return Err(Error::new(
            ErrorKind::TypeMismatch,
            format!("map \"{name}\" is a {map_type} map, not an array"),
        ));
    }
    if key_size != 4 {
        return Err(Error::new(
            ErrorKind::TypeMismatch,
            format!("array map \"{name}\" has key_size {key_size}, expected 4"),
        ));
    }
    if size_of::<T>() != value_size as usize {
        return Err(Error::new(
            ErrorKind::TypeMismatch,
            format!(
                "map \"{name}\" has value_size {value_size}, but the Rust type is {} bytes",
                size_of::<T>()
            ),
        ));
    }
    if align_of::<T>() > 8 {
        return Err(Error::new(
            ErrorKind::TypeMismatch,
            format!("map \"{name}\": a value type aligned to {} bytes cannot live in a map (elements are 8-aligned)", align_of::<T>()),
        ));
    }
    Ok(())
}
