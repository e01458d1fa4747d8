//! [`Map`]: an owned BPF map descriptor with its kernel-reported shape.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;

use super::spec::{check_kernel_name, MapFlags, MapSpec, MapType};
use crate::error::{Errno, Error, ErrorKind, Result};
use crate::fd::{AsFd, BorrowedFd, OwnedFd};
use crate::probe::{self, Feature};
use crate::sys::{self, abi, MapFd};

/// A map's shape and identity as the kernel reports it (`struct bpf_map_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// Map type.
    pub map_type: MapType,
    /// Kernel-wide map id (what `bpftool map show` lists).
    pub id: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` flags.
    pub flags: MapFlags,
    /// Kernel name (at most 15 bytes).
    pub name: String,
    /// Id of the BTF object describing key and value, 0 if none.
    pub btf_id: u32,
}

impl MapInfo {
    fn from_raw(raw: &abi::BpfMapInfo) -> MapInfo {
        let name_len = raw
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw.name.len());
        MapInfo {
            map_type: MapType(raw.map_type),
            id: raw.id,
            key_size: raw.key_size,
            value_size: raw.value_size,
            max_entries: raw.max_entries,
            flags: MapFlags::from_bits_retain(raw.map_flags),
            name: String::from_utf8_lossy(&raw.name[..name_len]).into_owned(),
            btf_id: raw.btf_id,
        }
    }

    /// `BPF_F_MMAPABLE` is set.
    pub fn is_mmapable(&self) -> bool {
        self.flags.contains(MapFlags::MMAPABLE)
    }
}

/// An open BPF map: it owns the descriptor (closing it on drop) and remembers the shape
/// the kernel holds for it.
///
/// Create one from a [`MapSpec`] with [`Map::create`], or open a map made by another
/// loader (bpftool, libbpf, another mmbpf process) with [`Map::from_pin`] or
/// [`Map::from_id`]. Typed access goes through [`super::ArrayMap`].
#[derive(Debug)]
pub struct Map {
    fd: MapFd,
    info: MapInfo,
    frozen: bool,
    read_only: bool,
}

/// How a map opened by pin or id may be used (`BPF_F_RDONLY` in the open flags).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and write (the default).
    ReadWrite,
    /// Read only: lookups and read-only mappings.
    ReadOnly,
}

impl Access {
    fn open_flags(self) -> u32 {
        match self {
            Access::ReadWrite => 0,
            Access::ReadOnly => abi::BPF_F_RDONLY,
        }
    }
}

impl Map {
    /// Create a map with `BPF_MAP_CREATE` ([`bpf(2)`](https://man7.org/linux/man-pages/man2/bpf.2.html), Linux 3.18;
    /// `BPF_F_MMAPABLE` arrays need 5.5).
    ///
    /// The spec is validated first (names, sizes). On kernels before 5.11 an `EPERM` caused
    /// by `RLIMIT_MEMLOCK` is handled by raising the limit once and retrying. Failures name
    /// the map and the errno, and say when the running kernel is too old for a flag.
    pub fn create(spec: &MapSpec) -> Result<Map> {
        Map::create_with_btf(spec, None)
    }

    /// [`Map::create`] with the object's BTF, so the kernel (and `bpftool map dump`) knows
    /// the key and value types.
    pub fn create_with_btf(spec: &MapSpec, btf: Option<BorrowedFd<'_>>) -> Result<Map> {
        spec.validate()?;
        let kname = spec.kernel_name();
        let mut attr = abi::MapCreateAttr {
            map_type: spec.map_type.0,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.flags.bits(),
            map_extra: spec.map_extra,
            ..Default::default()
        };
        attr.map_name[..kname.len()].copy_from_slice(kname.as_bytes());
        if let Some(btf) = btf {
            if spec.btf_value_type_id != 0 {
                attr.btf_fd = crate::fd::AsRawFd::as_raw_fd(&btf) as u32;
                attr.btf_key_type_id = spec.btf_key_type_id;
                attr.btf_value_type_id = spec.btf_value_type_id;
            }
        }
        let fd = probe::with_memlock_retry(|| MapFd::create(&attr))
            .map_err(|e| create_error(spec, e))?;
        let info = MapInfo {
            map_type: spec.map_type,
            id: 0,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            flags: spec.flags,
            name: kname,
            btf_id: 0,
        };
        let mut map = Map {
            fd,
            info,
            frozen: false,
            read_only: false,
        };
        // The id is what users look maps up by; one extra syscall at creation, never per access.
        if let Ok(live) = sys::map_info(map.fd.fd()) {
            map.info.id = live.id;
            map.info.btf_id = live.btf_id;
        }
        Ok(map)
    }

    /// Adopt a map descriptor, reading its shape with `BPF_OBJ_GET_INFO_BY_FD` (4.13).
    pub fn from_fd(fd: OwnedFd) -> Result<Map> {
        let fd = MapFd::from_fd(fd).map_err(|e| {
            Error::syscall("BPF_OBJ_GET_INFO_BY_FD on the given descriptor", e)
                .with_hint("is the descriptor a BPF map?")
        })?;
        let info = MapInfo::from_raw(fd.cached_info());
        Ok(Map {
            fd,
            info,
            frozen: false,
            read_only: false,
        })
    }

    /// Open the map pinned at `path` on a bpffs with `BPF_OBJ_GET` (4.4), read-write.
    #[cfg(feature = "std")]
    pub fn from_pin(path: impl AsRef<std::path::Path>) -> Result<Map> {
        let c = path_to_cstring(path.as_ref())?;
        Map::from_pin_cstr(&c, Access::ReadWrite)
    }

    /// Open the map pinned at `path` read-only (`BPF_OBJ_GET` with `BPF_F_RDONLY`, 4.15): for
    /// processes allowed to read a map but not to write it. Updates fail with `EPERM`. The
    /// kernel cannot mmap a read-only descriptor (`mmap(2)` of a read-only file is never
    /// `MAP_SHARED`, which BPF maps require), so reads go through lookups.
    #[cfg(feature = "std")]
    pub fn from_pin_read_only(path: impl AsRef<std::path::Path>) -> Result<Map> {
        let c = path_to_cstring(path.as_ref())?;
        Map::from_pin_cstr(&c, Access::ReadOnly)
    }

    /// [`Map::from_pin`] / [`Map::from_pin_read_only`] with a C string path (usable without
    /// `std`).
    pub fn from_pin_cstr(path: &CStr, access: Access) -> Result<Map> {
        let fd = sys::obj_get(path, access.open_flags()).map_err(|e| {
            let err = Error::syscall(format!("BPF_OBJ_GET of pinned map {path:?}"), e);
            if e == Errno::ENOENT {
                err.with_kind(ErrorKind::NotFound)
                    .with_hint("nothing is pinned there (is bpffs mounted at /sys/fs/bpf?)")
            } else {
                err
            }
        })?;
        let mut map =
            Map::from_fd(fd).map_err(|e| e.context(format_args!("pinned object {path:?}")))?;
        map.read_only = access == Access::ReadOnly;
        Ok(map)
    }

    /// Open the map with kernel id `id` with `BPF_MAP_GET_FD_BY_ID` (4.13; needs
    /// `CAP_SYS_ADMIN`), read-write.
    pub fn from_id(id: u32) -> Result<Map> {
        Map::from_id_with(id, Access::ReadWrite)
    }

    /// [`Map::from_id`] with the access to ask for (`BPF_F_RDONLY` for read-only, 4.15).
    pub fn from_id_with(id: u32, access: Access) -> Result<Map> {
        let fd = sys::map_get_fd_by_id(id, access.open_flags()).map_err(|e| {
            let err = Error::syscall(format!("BPF_MAP_GET_FD_BY_ID for map id {id}"), e);
            if e == Errno::ENOENT {
                err.with_kind(ErrorKind::NotFound)
            } else {
                err
            }
        })?;
        let mut map = Map::from_fd(fd)?;
        map.read_only = access == Access::ReadOnly;
        Ok(map)
    }

    /// Whether the descriptor was opened read-only ([`Access::ReadOnly`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The shape remembered at creation or opening (no syscall).
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// Ask the kernel for the map's current info (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn live_info(&self) -> Result<MapInfo> {
        let raw = sys::map_info(self.fd.fd()).map_err(|e| self.err("BPF_OBJ_GET_INFO_BY_FD", e))?;
        Ok(MapInfo::from_raw(&raw))
    }

    /// The kernel name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The descriptor, borrowed.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.fd()
    }

    /// The size-checked descriptor used by element commands.
    pub(crate) fn map_fd(&self) -> &MapFd {
        &self.fd
    }

    /// Give up ownership of the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd.into_fd()
    }

    /// Whether [`Map::freeze`] succeeded on this handle. (The kernel does not report a
    /// map's frozen state, so a map opened by pin or id reports `false`.)
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Pin the map at `path` on a bpffs with `BPF_OBJ_PIN` (4.4).
    #[cfg(feature = "std")]
    pub fn pin(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let c = path_to_cstring(path.as_ref())?;
        self.pin_cstr(&c)
    }

    /// [`Map::pin`] with a C string path.
    pub fn pin_cstr(&self, path: &CStr) -> Result<()> {
        sys::obj_pin(self.fd(), path).map_err(|e| {
            let err = self.err(&format!("BPF_OBJ_PIN at {path:?}"), e);
            match e {
                Errno::EEXIST => err.with_hint("something is already pinned at that path"),
                Errno::EPERM | Errno::EINVAL | Errno::ENOENT => err.with_hint(
                    "the path must be on a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)",
                ),
                _ => err,
            }
        })
    }

    /// Freeze the map with `BPF_MAP_FREEZE` (5.2): user space can no longer write it
    /// (syscall updates fail with `EPERM`, writable mmaps are refused). BPF programs can
    /// still write unless the map has `BPF_F_RDONLY_PROG`.
    ///
    /// Fails with `EBUSY` while a writable mapping of the map exists.
    pub fn freeze(&mut self) -> Result<()> {
        self.fd.freeze().map_err(|e| {
            let err = self.err("BPF_MAP_FREEZE", e);
            match e {
                Errno::EBUSY => err
                    .with_kind(ErrorKind::InvalidState)
                    .with_hint("a writable mmap of this map exists; drop it (or map read-only) before freezing"),
                Errno::EINVAL if Feature::MapFreeze.is_missing() => {
                    err.with_kind(ErrorKind::KernelTooOld).with_min_kernel(Feature::MapFreeze.since())
                }
                _ => err,
            }
        })?;
        self.frozen = true;
        Ok(())
    }

    /// Copy the value at `key` (raw bytes) with `BPF_MAP_LOOKUP_ELEM`.
    pub fn lookup_bytes(&self, key: &[u8]) -> Result<Vec<u8>> {
        let mut value = vec![0u8; self.info.value_size as usize];
        self.lookup_into(key, &mut value)?;
        Ok(value)
    }

    /// `BPF_MAP_LOOKUP_ELEM` into a caller buffer of exactly `value_size` bytes.
    pub fn lookup_into(&self, key: &[u8], value: &mut [u8]) -> Result<()> {
        self.check_sizes(key.len(), value.len())?;
        self.fd
            .lookup(key, value, 0)
            .map_err(|e| self.elem_err("BPF_MAP_LOOKUP_ELEM", e))
    }

    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`.
    pub fn update_bytes(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_sizes(key.len(), value.len())?;
        self.fd
            .update(key, value, abi::BPF_ANY)
            .map_err(|e| self.elem_err("BPF_MAP_UPDATE_ELEM", e))
    }

    pub(crate) fn check_sizes(&self, key: usize, value: usize) -> Result<()> {
        if self.info.map_type.is_per_cpu() {
            return Err(Error::unsupported(format!(
                "map \"{}\": element access to per-CPU maps ({}) is not supported",
                self.info.name, self.info.map_type
            )));
        }
        if key != self.info.key_size as usize || value != self.info.value_size as usize {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                format!(
                    "map \"{}\": key/value of {key}/{value} bytes, the map has key_size {} and value_size {}",
                    self.info.name, self.info.key_size, self.info.value_size
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn err(&self, op: &str, e: Errno) -> Error {
        Error::syscall(format!("{op} on map \"{}\"", self.info.name), e)
    }

    pub(crate) fn elem_err(&self, op: &str, e: Errno) -> Error {
        let err = Error::syscall(format!("{op} on map \"{}\"", self.info.name), e);
        match e {
            Errno::EPERM
                if self.frozen || self.read_only || self.info.flags.contains(MapFlags::RDONLY) =>
            {
                err.with_kind(ErrorKind::InvalidState)
                    .with_hint("the map is frozen or read-only for user space")
            }
            Errno::ENOENT => err.with_kind(ErrorKind::NotFound),
            _ => err,
        }
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

/// Explain a `BPF_MAP_CREATE` failure: name the map, the errno, and the kernel minimum of
/// the flag most likely refused.
fn create_error(spec: &MapSpec, e: Errno) -> Error {
    let err = Error::syscall(
        format!(
            "BPF_MAP_CREATE for map \"{}\" ({} key_size {} value_size {} max_entries {} flags {:#x})",
            spec.name,
            spec.map_type,
            spec.key_size,
            spec.value_size,
            spec.max_entries,
            spec.flags.bits()
        ),
        e,
    );
    if err.kind() == ErrorKind::PermissionDenied {
        return err;
    }
    if e == Errno::EINVAL {
        // Probe the flags the spec uses, after the fact: the one the kernel lacks is named.
        let mut needs: Vec<(&str, Feature)> = Vec::new();
        if spec.flags.contains(MapFlags::MMAPABLE) {
            needs.push(("BPF_F_MMAPABLE", Feature::MmapableArrays));
        }
        if spec
            .flags
            .intersects(MapFlags::RDONLY_PROG | MapFlags::WRONLY_PROG)
        {
            needs.push((
                "BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG",
                Feature::ReadOnlyProgMaps,
            ));
        }
        if let Some((what, feature)) = needs.into_iter().find(|(_, f)| f.is_missing()) {
            return err
                .with_kind(ErrorKind::KernelTooOld)
                .with_min_kernel(feature.since())
                .with_hint(format!("{what} is not known to this kernel"));
        }
    }
    if e == Errno::E2BIG || e == Errno::ENOMEM {
        return err
            .with_hint("the map is too large for the kernel (array data must stay below 4 GiB)");
    }
    err
}

#[cfg(feature = "std")]
fn path_to_cstring(path: &std::path::Path) -> Result<alloc::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    alloc::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid_argument(format!("path {path:?} contains a NUL byte")))
}

/// Check a user-chosen kernel name (for pins and programs).
#[allow(dead_code)]
pub(crate) fn check_name(name: &str) -> Result<()> {
    check_kernel_name(name)
}
