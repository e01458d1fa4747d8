//! The load sequence: BTF, maps, global data, instruction patching, programs.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::Object;
use crate::elf::{MapRelocKind, ObjectSpec, ProgramSpec};
use crate::error::{Errno, Error, ErrorKind, KernelVersion, Result};
use crate::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use crate::map::{mmap_len, GlobalDataKind, Map, MapFlags, MapOrigin, MapSpec, MMAPABLE_SINCE};
use crate::mmap::Region;
use crate::probe;
use crate::program::{LoadOptions, Program};
use crate::sys::{self, abi, Protection};

/// Global data (`.data`/`.bss`/`.rodata` as maps, `BPF_PSEUDO_MAP_VALUE`) arrived in 5.2.
pub const GLOBAL_DATA_SINCE: KernelVersion = KernelVersion::new(5, 2);

/// What the loader decided while loading: useful to explain behaviour on older kernels.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Why the object's BTF was not loaded (the kernel refused it, or there was none).
    /// Programs and maps were then loaded without type information.
    pub btf_rejected: Option<String>,
    /// Global-data maps created without `BPF_F_MMAPABLE` because the kernel lacks it
    /// (before 5.5); their globals are read and written with syscalls.
    pub not_mmapable: Vec<String>,
    /// Maps created without BTF type ids because the kernel refused them.
    pub maps_without_btf: Vec<String>,
    /// `LIBBPF_PIN_BY_NAME` maps that were already pinned and were reused.
    pub reused_pins: Vec<String>,
}

pub(super) fn load(spec: ObjectSpec, autoload: &[bool], pin_root: &str) -> Result<Object> {
    let mut report = LoadReport::default();

    // 1. BTF: optional. When the kernel refuses it, load without and remember why.
    let btf = match &spec.btf {
        Some(btf) => match load_btf(&btf.bytes) {
            Ok(fd) => Some(fd),
            Err(e) => {
                report.btf_rejected = Some(alloc::format!("{e:#}"));
                None
            }
        },
        None => {
            report.btf_rejected =
                Some("the object has no .BTF section (compile with clang -g)".into());
            None
        }
    };
    let btf_fd = btf.as_ref().map(|f| f.as_fd());

    // 2. Maps, with global data written (and .rodata frozen) before any program loads.
    let mut maps = Vec::with_capacity(spec.maps.len());
    let mut regions = Vec::with_capacity(spec.maps.len());
    for m in &spec.maps {
        let (map, region) = if m.pin_by_name {
            (pinned_map(m, btf_fd, pin_root, &mut report)?, None)
        } else {
            create_map(m, btf_fd, &mut report)?
        };
        maps.push(map);
        regions.push(region);
    }

    // 3. Programs: patch map references, load.
    let mut programs = Vec::with_capacity(spec.programs.len());
    for (i, p) in spec.programs.iter().enumerate() {
        if !autoload.get(i).copied().unwrap_or(true) {
            programs.push(None);
            continue;
        }
        let insns = patch_insns(p, &spec, &maps)?;
        programs.push(Some(load_program(p, &spec, &insns, btf_fd)?));
    }

    Ok(Object {
        spec,
        maps,
        regions,
        programs,
        btf,
        report,
    })
}

fn load_btf(bytes: &[u8]) -> Result<OwnedFd> {
    match probe::with_memlock_retry(|| sys::btf_load(bytes, None)) {
        Ok(fd) => Ok(fd),
        Err(first) => {
            let mut log = alloc::vec![0u8; 1 << 20];
            let errno = match sys::btf_load(bytes, Some(&mut log)) {
                Ok(_) => first,
                Err(e) => e,
            };
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]).into_owned();
            let mut err = Error::syscall("BPF_BTF_LOAD of the object's BTF", errno);
            if probe::kernel_older_than(abi::Cmd::BtfLoad.since()) {
                err = err
                    .with_kind(ErrorKind::KernelTooOld)
                    .with_min_kernel(abi::Cmd::BtfLoad.since());
            }
            if !text.is_empty() {
                if let Some(last) = text.lines().rev().find(|l| !l.trim().is_empty()) {
                    err = err.with_hint(format!("kernel BTF log: {}", last.trim()));
                }
                err = err.with_verifier_log(text);
            }
            Err(err)
        }
    }
}

fn create_map(
    m: &MapSpec,
    btf: Option<BorrowedFd<'_>>,
    report: &mut LoadReport,
) -> Result<(Map, Option<Arc<Region>>)> {
    let global = match m.origin {
        MapOrigin::GlobalData(kind) => Some(kind),
        MapOrigin::User => None,
    };
    let mut spec = m.clone();
    let mut map = match Map::create_with_btf(&spec, btf) {
        Ok(map) => map,
        Err(e)
            if btf.is_some()
                && spec.btf_value_type_id != 0
                && e.errno() == Some(Errno::EINVAL)
                && !too_old(&e) =>
        {
            // The kernel refused the BTF type ids (older kernels validate them strictly);
            // the map works without them.
            report.maps_without_btf.push(spec.name.clone());
            Map::create(&spec)?
        }
        Err(e) if global.is_some() && spec.flags.contains(MapFlags::MMAPABLE) && too_old(&e) => {
            // Before 5.5: global data still works, just not through mmap.
            spec.flags.remove(MapFlags::MMAPABLE);
            report.not_mmapable.push(spec.name.clone());
            Map::create(&spec)?
        }
        Err(e) => return Err(e.context(format_args!("creating map \"{}\"", m.name))),
    };

    let Some(kind) = global else {
        return Ok((map, None));
    };
    if !spec.initial_value.is_empty() {
        let mut value = spec.initial_value.clone();
        value.resize(spec.value_size as usize, 0);
        map.update_bytes(&0u32.to_ne_bytes(), &value).map_err(|e| {
            e.context(format_args!(
                "writing the initial contents of {}",
                spec.name
            ))
        })?;
    }
    if kind == GlobalDataKind::Rodata {
        map.freeze()
            .map_err(|e| e.context(format_args!("freezing {}", spec.name)))?;
    }
    let region = if spec.flags.contains(MapFlags::MMAPABLE) {
        let len = mmap_len(spec.value_size, 1, sys::page_size()).ok_or_else(|| {
            Error::invalid_argument(format!("{}: mmap length overflows", spec.name))
        })?;
        let region = if kind == GlobalDataKind::Rodata {
            // Frozen and BPF_F_RDONLY_PROG: a region whose bytes never change.
            Region::map_frozen(&map, len)
        } else {
            Region::map(map.fd(), len, Protection::ReadWrite)
        };
        Some(Arc::new(region.map_err(|e| {
            e.context(format_args!("mapping {}", spec.name))
        })?))
    } else {
        None
    };
    Ok((map, region))
}

/// `LIBBPF_PIN_BY_NAME`: reuse the map pinned at `root/name` if it matches the spec, or
/// create the map and pin it there.
fn pinned_map(
    m: &MapSpec,
    btf: Option<BorrowedFd<'_>>,
    root: &str,
    report: &mut LoadReport,
) -> Result<Map> {
    let path = format!("{root}/{}\0", m.name);
    let cpath = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).map_err(|_| {
        Error::invalid_argument(format!("pin path {root}/{} contains a NUL byte", m.name))
    })?;
    match Map::from_pin_cstr(cpath, crate::map::Access::ReadWrite) {
        Ok(existing) => {
            let i = existing.info();
            let want = (
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                m.flags.bits(),
            );
            let have = (
                i.map_type,
                i.key_size,
                i.value_size,
                i.max_entries,
                i.flags.bits(),
            );
            if want != have {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    format!(
                        "map \"{}\" is pinned at {cpath:?} with a different shape: pinned (type {}, key {}, value {}, \
                         entries {}, flags {:#x}), object (type {}, key {}, value {}, entries {}, flags {:#x})",
                        m.name, have.0, have.1, have.2, have.3, have.4, want.0, want.1, want.2, want.3, want.4
                    ),
                ));
            }
            report.reused_pins.push(m.name.clone());
            Ok(existing)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let (map, _) = create_map(m, btf, report)?;
            map.pin_cstr(cpath)?;
            Ok(map)
        }
        Err(e) => Err(e.context(format_args!("map \"{}\" (LIBBPF_PIN_BY_NAME)", m.name))),
    }
}

/// `Map::create` already probed the flags and said which one the kernel lacks.
fn too_old(e: &Error) -> bool {
    e.kind() == ErrorKind::KernelTooOld && e.min_kernel() == Some(MMAPABLE_SINCE)
}

/// Copy the program's linked instructions and write map descriptors into its `ld_imm64`
/// map references.
fn patch_insns(p: &ProgramSpec, spec: &ObjectSpec, maps: &[Map]) -> Result<Vec<abi::BpfInsn>> {
    let mut insns = p.insns.clone();
    for r in &p.map_relocs {
        let map = maps.get(r.map).ok_or_else(|| {
            Error::malformed(format!(
                "program \"{}\": relocation at instruction {} names map #{} of {}",
                p.name,
                r.insn,
                r.map,
                maps.len()
            ))
        })?;
        let fd = map.fd().as_raw_fd();
        let bad = || {
            Error::malformed(format!(
                "program \"{}\": map relocation at instruction {} is not on an ld_imm64",
                p.name, r.insn
            ))
        };
        if r.insn + 1 >= insns.len() || insns[r.insn].code != abi::BPF_LD_IMM64 {
            return Err(bad());
        }
        match r.kind {
            MapRelocKind::Fd => {
                insns[r.insn].set_src_reg(abi::BPF_PSEUDO_MAP_FD);
                insns[r.insn].imm = fd;
                insns[r.insn + 1].imm = 0;
            }
            MapRelocKind::Value { offset } => {
                let size = spec.maps[r.map].value_size;
                if offset >= size.max(1) {
                    return Err(Error::malformed(format!(
                        "program \"{}\": instruction {} points at offset {offset} of {} ({size} bytes)",
                        p.name, r.insn, spec.maps[r.map].name
                    )));
                }
                insns[r.insn].set_src_reg(abi::BPF_PSEUDO_MAP_VALUE);
                insns[r.insn].imm = fd;
                insns[r.insn + 1].imm = offset as i32;
            }
        }
    }
    Ok(insns)
}

fn load_program(
    p: &ProgramSpec,
    spec: &ObjectSpec,
    insns: &[abi::BpfInsn],
    btf: Option<BorrowedFd<'_>>,
) -> Result<Program> {
    let with_btf = LoadOptions {
        license: &spec.license,
        kern_version: spec.kern_version,
        btf,
        func_info: (&p.func_info, p.func_info_rec_size),
        line_info: (&p.line_info, p.line_info_rec_size),
    };
    match Program::load(&p.name, &p.section, p.kind.clone(), insns, &with_btf) {
        Ok(prog) => Ok(prog),
        Err(e)
            if btf.is_some()
                && e.kind() != ErrorKind::KernelTooOld
                && e.kind() != ErrorKind::PermissionDenied =>
        {
            // Some kernels refuse func_info/line_info they cannot match; the program may
            // still load without them. If it does not, the first error (with source lines
            // in the log) is the more useful one.
            let without = LoadOptions {
                btf: None,
                func_info: (&[], 0),
                line_info: (&[], 0),
                ..with_btf
            };
            Program::load(&p.name, &p.section, p.kind.clone(), insns, &without).map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}
