//! Map descriptions: what to ask `BPF_MAP_CREATE` for, checked before the syscall.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, KernelVersion, Result};
use crate::sys::abi;

bitflags::bitflags! {
    /// `BPF_F_*` flags for `BPF_MAP_CREATE` (`map_flags` in uapi `linux/bpf.h`).
    ///
    /// Unknown bits read back from the kernel are kept (`from_bits_retain`).
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MapFlags: u32 {
        /// `BPF_F_NO_PREALLOC`: hash maps allocate on update (4.6).
        const NO_PREALLOC = abi::BPF_F_NO_PREALLOC;
        /// `BPF_F_NO_COMMON_LRU` (4.10).
        const NO_COMMON_LRU = abi::BPF_F_NO_COMMON_LRU;
        /// `BPF_F_NUMA_NODE`: `numa_node` is valid (4.14).
        const NUMA_NODE = abi::BPF_F_NUMA_NODE;
        /// `BPF_F_RDONLY`: user space may only read through the syscall interface (4.15).
        const RDONLY = abi::BPF_F_RDONLY;
        /// `BPF_F_WRONLY`: user space may only write (4.15).
        const WRONLY = abi::BPF_F_WRONLY;
        /// `BPF_F_STACK_BUILD_ID` (4.17).
        const STACK_BUILD_ID = abi::BPF_F_STACK_BUILD_ID;
        /// `BPF_F_ZERO_SEED` (5.0).
        const ZERO_SEED = abi::BPF_F_ZERO_SEED;
        /// `BPF_F_RDONLY_PROG`: programs may only read the map (5.2). The kernel refuses
        /// writable mmaps of such maps.
        const RDONLY_PROG = abi::BPF_F_RDONLY_PROG;
        /// `BPF_F_WRONLY_PROG`: programs may only write the map (5.2).
        const WRONLY_PROG = abi::BPF_F_WRONLY_PROG;
        /// `BPF_F_CLONE` (5.4).
        const CLONE = abi::BPF_F_CLONE;
        /// `BPF_F_MMAPABLE`: an array map whose values can be `mmap`ed (5.5).
        const MMAPABLE = abi::BPF_F_MMAPABLE;
        /// `BPF_F_PRESERVE_ELEMS` (5.10).
        const PRESERVE_ELEMS = abi::BPF_F_PRESERVE_ELEMS;
        /// `BPF_F_INNER_MAP` (5.10).
        const INNER_MAP = abi::BPF_F_INNER_MAP;
    }
}

/// The kernel version that introduced `BPF_F_MMAPABLE` array maps.
pub const MMAPABLE_SINCE: KernelVersion = KernelVersion::new(5, 5);

/// A map type (`enum bpf_map_type`). Known types have names; others keep their number.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct MapType(pub u32);

impl MapType {
    /// `BPF_MAP_TYPE_HASH` (3.19).
    pub const HASH: MapType = MapType(abi::BPF_MAP_TYPE_HASH);
    /// `BPF_MAP_TYPE_ARRAY` (3.19).
    pub const ARRAY: MapType = MapType(abi::BPF_MAP_TYPE_ARRAY);
    /// `BPF_MAP_TYPE_PROG_ARRAY` (4.2).
    pub const PROG_ARRAY: MapType = MapType(abi::BPF_MAP_TYPE_PROG_ARRAY);
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (4.3).
    pub const PERF_EVENT_ARRAY: MapType = MapType(abi::BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    /// `BPF_MAP_TYPE_PERCPU_HASH` (4.6).
    pub const PERCPU_HASH: MapType = MapType(abi::BPF_MAP_TYPE_PERCPU_HASH);
    /// `BPF_MAP_TYPE_PERCPU_ARRAY` (4.6).
    pub const PERCPU_ARRAY: MapType = MapType(abi::BPF_MAP_TYPE_PERCPU_ARRAY);
    /// `BPF_MAP_TYPE_LRU_HASH` (4.10).
    pub const LRU_HASH: MapType = MapType(abi::BPF_MAP_TYPE_LRU_HASH);
    /// `BPF_MAP_TYPE_RINGBUF` (5.8).
    pub const RINGBUF: MapType = MapType(abi::BPF_MAP_TYPE_RINGBUF);

    /// The short lowercase name used in output (`"array"`, `"hash"`), or `None`.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            abi::BPF_MAP_TYPE_HASH => "hash",
            abi::BPF_MAP_TYPE_ARRAY => "array",
            abi::BPF_MAP_TYPE_PROG_ARRAY => "prog_array",
            abi::BPF_MAP_TYPE_PERF_EVENT_ARRAY => "perf_event_array",
            abi::BPF_MAP_TYPE_PERCPU_HASH => "percpu_hash",
            abi::BPF_MAP_TYPE_PERCPU_ARRAY => "percpu_array",
            abi::BPF_MAP_TYPE_LRU_HASH => "lru_hash",
            abi::BPF_MAP_TYPE_RINGBUF => "ringbuf",
            _ => return None,
        })
    }

    /// Per-CPU maps hold one value per possible CPU.
    pub fn is_per_cpu(self) -> bool {
        matches!(self.0, abi::BPF_MAP_TYPE_PERCPU_HASH | abi::BPF_MAP_TYPE_PERCPU_ARRAY) || self.0 == 10 // LRU_PERCPU_HASH
            || self.0 == 21 // PERCPU_CGROUP_STORAGE
    }
}

impl fmt::Debug for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "map_type({})", self.0),
        }
    }
}

impl fmt::Display for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Where a map described by an object file comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapOrigin {
    /// A user map: a BTF-defined map in `.maps`, or built with [`MapSpec::new`].
    User,
    /// A global-data section (`.data*`, `.bss*`, `.rodata*`) turned into a single-entry array.
    GlobalData(GlobalDataKind),
}

/// The kind of global-data section a map holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GlobalDataKind {
    /// `.data` or `.data.<name>`: initialised, writable.
    Data,
    /// `.bss` or `.bss.<name>`: zero-initialised, writable (NOBITS in the file).
    Bss,
    /// `.rodata` or `.rodata.<name>` (including `.rodata.str1.1`): read-only for programs,
    /// frozen after the initial value is written.
    Rodata,
}

/// A description of a map to create with `BPF_MAP_CREATE`.
///
/// Built by hand with [`MapSpec::new`] or parsed from an object file (then `btf_*` ids and
/// `initial_value` may be set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSpec {
    /// Map name as in the object (a BTF map's variable name, or the section name for global
    /// data). The kernel name is derived from it with [`MapSpec::kernel_name`].
    pub name: String,
    /// Map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` flags.
    pub flags: MapFlags,
    /// `map_extra` (bloom filter hashes, arena address); 0 for most maps.
    pub map_extra: u64,
    /// BTF type id of the key in the object's BTF (0: none).
    pub btf_key_type_id: u32,
    /// BTF type id of the value in the object's BTF (0: none). For global data, the DATASEC.
    pub btf_value_type_id: u32,
    /// Bytes to write into element 0 after creation (global `.data`/`.rodata` contents).
    /// Empty means all zero.
    pub initial_value: Vec<u8>,
    /// Where the map comes from.
    pub origin: MapOrigin,
    /// `LIBBPF_PIN_BY_NAME` from the `pinning` attribute of a BTF map.
    pub pin_by_name: bool,
}

impl MapSpec {
    /// A user map with no BTF and no initial value.
    pub fn new(
        name: impl Into<String>,
        map_type: MapType,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Self {
        MapSpec {
            name: name.into(),
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: MapFlags::empty(),
            map_extra: 0,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            initial_value: Vec::new(),
            origin: MapOrigin::User,
            pin_by_name: false,
        }
    }

    /// A `BPF_MAP_TYPE_ARRAY` of `max_entries` values of `value_size` bytes, `BPF_F_MMAPABLE`.
    pub fn mmapable_array(name: impl Into<String>, value_size: u32, max_entries: u32) -> Self {
        MapSpec::new(name, MapType::ARRAY, 4, value_size, max_entries)
            .with_flags(MapFlags::MMAPABLE)
    }

    /// Replace the flags.
    pub fn with_flags(mut self, flags: MapFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Bytes between consecutive elements of an array map's mmap region:
    /// `round_up(value_size, 8)`.
    pub fn stride(&self) -> u64 {
        value_stride(self.value_size)
    }

    /// Length of the region `mmap` needs for this array map: the data size rounded up to the
    /// page size. `None` if it overflows.
    pub fn mmap_len(&self, page_size: usize) -> Option<usize> {
        mmap_len(self.value_size, self.max_entries, page_size)
    }

    /// The name the kernel gets. A user map's name must already follow the kernel's rules
    /// (checked by [`MapSpec::validate`]). A global-data map is named after its section
    /// (`.rodata`, `.data.custom`); a section name longer than 15 bytes keeps its first 15
    /// bytes, and characters the kernel refuses become `_` (the full name stays in
    /// [`MapSpec::name`]).
    pub fn kernel_name(&self) -> String {
        match self.origin {
            MapOrigin::User => self.name.clone(),
            MapOrigin::GlobalData(_) => sanitize_kernel_name(&self.name),
        }
    }

    /// Check the spec before the syscall: non-zero sizes, sizes that the mmap arithmetic can
    /// hold, a valid name, and MMAPABLE only on arrays.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if self.origin == MapOrigin::User {
            check_kernel_name(&self.name)
                .map_err(|e| e.context(format_args!("map \"{}\"", self.name)))?;
        }
        if self.value_size == 0 && self.map_type != MapType::RINGBUF {
            return Err(Error::invalid_argument(alloc::format!(
                "map \"{}\": value_size is 0",
                self.name
            )));
        }
        if self.max_entries == 0 {
            return Err(Error::invalid_argument(alloc::format!(
                "map \"{}\": max_entries is 0",
                self.name
            )));
        }
        if self.flags.contains(MapFlags::MMAPABLE) {
            if self.map_type != MapType::ARRAY {
                return Err(Error::invalid_argument(alloc::format!(
                    "map \"{}\": BPF_F_MMAPABLE is only supported on array maps, not {}",
                    self.name,
                    self.map_type
                )));
            }
            if data_len(self.value_size, self.max_entries)
                .is_none_or(|l| l as u64 >= ARRAY_DATA_LIMIT)
            {
                return Err(Error::invalid_argument(alloc::format!(
                    "map \"{}\": value_size {} x max_entries {} exceeds the kernel's 4 GiB array limit",
                    self.name, self.value_size, self.max_entries
                )));
            }
        }
        if self.initial_value.len() > self.value_size as usize {
            return Err(Error::invalid_argument(alloc::format!(
                "map \"{}\": initial value of {} bytes exceeds value_size {}",
                self.name,
                self.initial_value.len(),
                self.value_size
            )));
        }
        Ok(())
    }
}

/// The kernel refuses array maps whose element data reaches 4 GiB (`array_map_alloc`).
pub const ARRAY_DATA_LIMIT: u64 = u32::MAX as u64 - 65536;

/// `round_up(value_size, 8)`: the distance between array elements in the mmap region and in
/// the kernel's array storage.
pub const fn value_stride(value_size: u32) -> u64 {
    (value_size as u64 + 7) & !7
}

/// `stride * max_entries`, the bytes of element data; `None` on overflow of `usize`.
pub fn data_len(value_size: u32, max_entries: u32) -> Option<usize> {
    let len = value_stride(value_size).checked_mul(max_entries as u64)?;
    usize::try_from(len).ok()
}

/// [`data_len`] rounded up to `page_size`; `None` on overflow.
pub fn mmap_len(value_size: u32, max_entries: u32, page_size: usize) -> Option<usize> {
    let len = data_len(value_size, max_entries)?;
    let mask = page_size.checked_sub(1)?;
    len.checked_add(mask).map(|l| l & !mask)
}

/// Every name: not empty, no NUL byte.
fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid_argument("map name is empty"));
    }
    if name.bytes().any(|b| b == 0) {
        return Err(Error::invalid_argument(alloc::format!(
            "map name {name:?} contains a NUL byte"
        )));
    }
    Ok(())
}

/// Check a name given for the kernel directly: at most 15 bytes of `[A-Za-z0-9_.]`.
pub fn check_kernel_name(name: &str) -> Result<()> {
    if name.len() >= abi::BPF_OBJ_NAME_LEN {
        return Err(Error::invalid_argument(alloc::format!(
            "name {name:?} is {} bytes; the kernel allows at most {}",
            name.len(),
            abi::BPF_OBJ_NAME_LEN - 1
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(Error::invalid_argument(alloc::format!(
            "name {name:?} contains {c:?}; the kernel allows only [A-Za-z0-9_.]"
        )));
    }
    Ok(())
}

/// Replace characters the kernel refuses by `_` and cut to 15 bytes.
pub fn sanitize_kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(abi::BPF_OBJ_NAME_LEN - 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn stride_rounds_to_eight() {
        assert_eq!(value_stride(8), 8);
        assert_eq!(value_stride(12), 16);
        assert_eq!(value_stride(1), 8);
        assert_eq!(value_stride(u32::MAX), 4_294_967_296);
    }

    #[test]
    fn mmap_len_is_page_aligned() {
        assert_eq!(mmap_len(8, 1024, 4096), Some(8192));
        assert_eq!(mmap_len(8, 2048, 4096), Some(16384));
        assert_eq!(mmap_len(12, 1, 4096), Some(4096));
        assert_eq!(mmap_len(8, 1, 0), None);
        let huge = MapSpec::mmapable_array("huge", u32::MAX, u32::MAX);
        assert!(huge.validate().unwrap_err().to_string().contains("4 GiB"));
    }

    #[test]
    fn kernel_names() {
        assert!(check_kernel_name("counts").is_ok());
        assert!(check_kernel_name("a.rodata").is_ok());
        assert!(check_kernel_name("fifteen_bytes__").is_ok());
        let e = check_kernel_name("sixteen_bytes___").unwrap_err();
        assert!(e.to_string().contains("at most 15"), "{e}");
        assert!(check_kernel_name("has-dash").is_err());
        assert_eq!(sanitize_kernel_name(".data.custom-x"), ".data.custom_x");
        assert_eq!(
            sanitize_kernel_name("a_very_long_map_name"),
            "a_very_long_map"
        );
    }

    #[test]
    fn validate_rejects_bad_specs() {
        assert!(MapSpec::mmapable_array("counts", 8, 1024)
            .validate()
            .is_ok());
        assert!(MapSpec::mmapable_array("z", 0, 1).validate().is_err());
        assert!(MapSpec::mmapable_array("z", 8, 0).validate().is_err());
        let hash = MapSpec::new("h", MapType::HASH, 4, 8, 1).with_flags(MapFlags::MMAPABLE);
        assert!(hash
            .validate()
            .unwrap_err()
            .to_string()
            .contains("only supported on array"));
    }
}
