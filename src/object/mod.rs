//! From a parsed object to kernel objects: create maps, write and freeze global data,
//! patch instructions, load programs — what a libbpf skeleton does, without libbpf.
//!
//! ```text
//! bytes --elf::parse--> ObjectSpec --OpenObject (set globals)--> load --> Object
//!                                                           maps, programs, global views
//! ```

mod load;

pub use load::{LoadReport, GLOBAL_DATA_SINCE};

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use zerocopy::{Immutable, IntoBytes};

use crate::elf::{self, GlobalSpec, ObjectSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::OwnedFd;
use crate::map::{GlobalDataKind, Map, MapSpec};
use crate::mmap::{FrozenVariable, Region, Variable, VariableRo};
use crate::program::Program;

/// A parsed object whose global variables can still be set before loading (like a libbpf
/// skeleton between `open` and `load`, or cilium/ebpf's `CollectionSpec`).
#[derive(Clone, Debug)]
pub struct OpenObject {
    spec: ObjectSpec,
    autoload: Vec<bool>,
    pin_root: alloc::string::String,
}

impl OpenObject {
    /// Parse an ELF object (pure: no kernel calls). See [`elf::parse`].
    pub fn parse(bytes: &[u8]) -> Result<OpenObject> {
        Ok(OpenObject::from_spec(elf::parse(bytes)?))
    }

    /// Wrap an already parsed spec.
    pub fn from_spec(spec: ObjectSpec) -> OpenObject {
        let autoload = alloc::vec![true; spec.programs.len()];
        OpenObject {
            spec,
            autoload,
            pin_root: DEFAULT_PIN_ROOT.into(),
        }
    }

    /// The parsed object.
    pub fn spec(&self) -> &ObjectSpec {
        &self.spec
    }

    fn global_spec(&self, name: &str) -> Result<&GlobalSpec> {
        find_global(&self.spec.globals, name)
    }

    /// Set the initial value of global variable `name` (in `.data`, `.bss` or `.rodata`,
    /// e.g. a `const volatile` configuration value) before loading. `T` must have the
    /// variable's size.
    pub fn set_global<T: IntoBytes + Immutable + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<()> {
        self.set_global_bytes(name, value.as_bytes())
    }

    /// [`OpenObject::set_global`] with raw bytes (exactly the variable's size).
    pub fn set_global_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let g = self.global_spec(name)?.clone();
        if bytes.len() != g.size as usize {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                format!(
                    "global \"{name}\" in {} is {} bytes, the value given is {} bytes",
                    g.section,
                    g.size,
                    bytes.len()
                ),
            ));
        }
        let map = self.spec.maps.get_mut(g.map).ok_or_else(|| {
            Error::malformed(format!(
                "global \"{name}\" refers to map #{} which does not exist",
                g.map
            ))
        })?;
        let value_size = map.value_size as usize;
        let start = g.offset as usize;
        let end = start.checked_add(bytes.len()).filter(|&e| e <= value_size).ok_or_else(|| {
            Error::new(
                ErrorKind::OutOfBounds,
                format!("global \"{name}\" at offset {start} + {} bytes lies outside {} ({value_size} bytes)", bytes.len(), g.section),
            )
        })?;
        if map.initial_value.len() < value_size {
            map.initial_value.resize(value_size, 0);
        }
        map.initial_value[start..end].copy_from_slice(bytes);
        Ok(())
    }

    /// Read the initial value of global `name` as it will be loaded.
    pub fn global_initial_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let g = self.global_spec(name)?;
        let map = &self.spec.maps[g.map];
        let mut out = alloc::vec![0u8; g.size as usize];
        let start = g.offset as usize;
        if let Some(src) = map.initial_value.get(start..start + out.len()) {
            out.copy_from_slice(src);
        }
        Ok(out)
    }

    /// Resize user map `name` before loading (libbpf's `bpf_map__set_max_entries`), e.g. to
    /// size an array for the machine. Global-data maps keep their single entry.
    pub fn set_max_entries(&mut self, name: &str, max_entries: u32) -> Result<()> {
        let map = self
            .spec
            .maps
            .iter_mut()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::not_found(format!("no map named \"{name}\" in the object")))?;
        if matches!(map.origin, crate::map::MapOrigin::GlobalData(_)) {
            return Err(Error::invalid_argument(format!(
                "map \"{name}\" holds a global-data section; its size is the section's"
            )));
        }
        if max_entries == 0 {
            return Err(Error::invalid_argument(format!(
                "map \"{name}\": max_entries must be at least 1"
            )));
        }
        map.max_entries = max_entries;
        map.validate()
    }

    /// Choose whether program `name` is loaded (all are by default), like libbpf's
    /// `bpf_program__set_autoload`.
    pub fn set_autoload(&mut self, name: &str, load: bool) -> Result<()> {
        let i = self
            .spec
            .programs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| no_program(&self.spec, name))?;
        self.autoload[i] = load;
        Ok(())
    }

    /// The directory (on a bpffs) where maps declared with
    /// `__uint(pinning, LIBBPF_PIN_BY_NAME)` are pinned and looked up, as `ROOT/MAP_NAME`.
    /// Default: `/sys/fs/bpf`, as libbpf.
    pub fn set_pin_root(&mut self, dir: &str) -> Result<()> {
        if dir.is_empty() || dir.contains('\0') {
            return Err(Error::invalid_argument(format!(
                "pin root {dir:?} is empty or contains a NUL byte"
            )));
        }
        self.pin_root = dir.trim_end_matches('/').into();
        Ok(())
    }

    /// Create the maps, load the BTF and the programs. See [`Object`].
    ///
    /// A map declared `__uint(pinning, LIBBPF_PIN_BY_NAME)` is reused when a compatible map
    /// is pinned at `PIN_ROOT/NAME` (same type, sizes and flags; otherwise an error says
    /// what differs), and otherwise created and pinned there — libbpf's behaviour, which
    /// lets several objects or processes share one map.
    pub fn load(self) -> Result<Object> {
        load::load(self.spec, &self.autoload, &self.pin_root)
    }
}

/// Where `LIBBPF_PIN_BY_NAME` maps are pinned unless [`OpenObject::set_pin_root`] says
/// otherwise.
pub const DEFAULT_PIN_ROOT: &str = "/sys/fs/bpf";

/// A loaded object: its maps (created, global data written, `.rodata` frozen), its
/// programs (loaded, not attached), and views of its global variables.
#[derive(Debug)]
pub struct Object {
    spec: ObjectSpec,
    maps: Vec<Map>,
    /// mmap regions of global-data maps (one per map index; `None` for user maps and when
    /// the kernel cannot mmap them).
    regions: Vec<Option<Arc<Region>>>,
    programs: Vec<Option<Program>>,
    btf: Option<OwnedFd>,
    report: LoadReport,
}

impl Object {
    /// The spec the object was loaded from (after global overrides).
    pub fn spec(&self) -> &ObjectSpec {
        &self.spec
    }

    /// What the loader decided along the way (BTF accepted or why not, fallbacks).
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// The object's BTF in the kernel, when it was accepted.
    pub fn btf_fd(&self) -> Option<crate::fd::BorrowedFd<'_>> {
        self.btf.as_ref().map(crate::fd::AsFd::as_fd)
    }

    /// Every map with its spec, in object order (user maps first, then global data).
    pub fn maps(&self) -> impl Iterator<Item = (&MapSpec, &Map)> {
        self.spec.maps.iter().zip(self.maps.iter())
    }

    /// The map named `name` (a BTF map's variable name, or a global-data section name such
    /// as `.bss`).
    pub fn map(&self, name: &str) -> Result<&Map> {
        self.map_index(name).map(|i| &self.maps[i])
    }

    /// The map named `name`, mutably (to freeze or pin it).
    pub fn map_mut(&mut self, name: &str) -> Result<&mut Map> {
        let i = self.map_index(name)?;
        Ok(&mut self.maps[i])
    }

    fn map_index(&self, name: &str) -> Result<usize> {
        self.spec
            .maps
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.spec.maps.iter().map(|m| m.name.as_str()).collect();
                Error::not_found(format!(
                    "no map named \"{name}\" in the object (maps: {})",
                    names.join(", ")
                ))
            })
    }

    /// A typed handle on array map `name`, sharing the map (the descriptor is duplicated).
    pub fn array_map<T>(&self, name: &str) -> Result<crate::map::ArrayMap<T>>
    where
        T: zerocopy::FromBytes + IntoBytes + zerocopy::KnownLayout + Immutable,
    {
        let map = self.map(name)?;
        let fd = crate::sys::dup_cloexec(map.fd())
            .map_err(|e| Error::syscall(format!("dup of map \"{name}\""), e))?;
        crate::map::ArrayMap::new(Map::from_fd(fd)?)
    }

    /// Every loaded program, in object order.
    pub fn programs(&self) -> impl Iterator<Item = &Program> {
        self.programs.iter().flatten()
    }

    /// The program named `name` (its function name).
    pub fn program(&self, name: &str) -> Result<&Program> {
        let i = self
            .spec
            .programs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| no_program(&self.spec, name))?;
        self.programs[i].as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidState,
                format!("program \"{name}\" was not loaded (autoload off)"),
            )
        })
    }

    /// Attach every program whose section names an attach point (tracepoints, raw
    /// tracepoints). Returns the links; dropping them detaches.
    pub fn attach_all(&self) -> Result<Vec<crate::program::Link>> {
        let mut links = Vec::new();
        for p in self.programs() {
            if p.kind().has_attach_point() {
                links.push(p.attach()?);
            }
        }
        Ok(links)
    }

    /// The spec of global variable `name`.
    pub fn global_spec(&self, name: &str) -> Result<&GlobalSpec> {
        find_global(&self.spec.globals, name)
    }

    /// The current bytes of global `name`: read through the mmap region when the kernel
    /// could map its section, otherwise with one `BPF_MAP_LOOKUP_ELEM`.
    pub fn global_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let g = self.global_spec(name)?.clone();
        if let Some(region) = &self.regions[g.map] {
            let mut out = alloc::vec![0u8; g.size as usize];
            region.read_bytes(g.offset as usize, &mut out)?;
            return Ok(out);
        }
        let whole = self.maps[g.map].lookup_bytes(&0u32.to_ne_bytes())?;
        Ok(whole[g.offset as usize..(g.offset + g.size) as usize].to_vec())
    }

    /// A read-write view of global `name` in `.data*` or `.bss*` (loads and stores are
    /// memory accesses to the mmap region; no syscalls).
    pub fn global<T>(&self, name: &str) -> Result<Variable<T>>
    where
        T: zerocopy::FromBytes + IntoBytes + zerocopy::KnownLayout + Immutable,
    {
        let (g, region) = self.global_region(name)?;
        if g.kind == GlobalDataKind::Rodata {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!(
                    "global \"{name}\" is in {} (read-only, frozen): use global_ro()",
                    g.section
                ),
            ));
        }
        Variable::new(region.clone(), g.offset as usize, g.size as usize)
            .map_err(|e| e.context(format_args!("global \"{name}\"")))
    }

    /// A read-only view of global `name` in any global-data section.
    pub fn global_ro<T>(&self, name: &str) -> Result<VariableRo<T>>
    where
        T: zerocopy::FromBytes + IntoBytes + zerocopy::KnownLayout + Immutable,
    {
        let (g, region) = self.global_region(name)?;
        VariableRo::new(region.clone(), g.offset as usize, g.size as usize)
            .map_err(|e| e.context(format_args!("global \"{name}\"")))
    }

    /// A `.rodata` global that lends `&T`: the section's map is frozen and
    /// `BPF_F_RDONLY_PROG`, so neither user space nor programs can change it.
    pub fn rodata<T>(&self, name: &str) -> Result<FrozenVariable<T>>
    where
        T: zerocopy::FromBytes + IntoBytes + zerocopy::KnownLayout + Immutable,
    {
        let (g, region) = self.global_region(name)?;
        if g.kind != GlobalDataKind::Rodata {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!("global \"{name}\" is in {}, which programs and user space may write: use global() or global_ro()", g.section),
            ));
        }
        FrozenVariable::new(region.clone(), g.offset as usize, g.size as usize)
            .map_err(|e| e.context(format_args!("global \"{name}\"")))
    }

    fn global_region(&self, name: &str) -> Result<(&GlobalSpec, &Arc<Region>)> {
        let g = self.global_spec(name)?;
        match &self.regions[g.map] {
            Some(r) => Ok((g, r)),
            None => Err(Error::new(
                ErrorKind::KernelTooOld,
                format!(
                    "global \"{name}\": section {} could not be memory-mapped",
                    g.section
                ),
            )
            .with_min_kernel(crate::map::MMAPABLE_SINCE)),
        }
    }
}

fn find_global<'a>(globals: &'a [GlobalSpec], name: &str) -> Result<&'a GlobalSpec> {
    globals.iter().find(|g| g.name == name).ok_or_else(|| {
        let names: Vec<&str> = globals.iter().map(|g| g.name.as_str()).collect();
        Error::not_found(format!(
            "no global variable named \"{name}\" (globals: {})",
            names.join(", ")
        ))
    })
}

fn no_program(spec: &ObjectSpec, name: &str) -> Error {
    let names: Vec<&str> = spec.programs.iter().map(|p| p.name.as_str()).collect();
    Error::not_found(format!(
        "no program named \"{name}\" in the object (programs: {})",
        names.join(", ")
    ))
}
