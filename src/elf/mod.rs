//! ELF → specs: the pure half of the loader.
//!
//! [`parse`] takes the bytes of a clang-built BPF object (`clang -O2 -g -target bpf`) and
//! returns an [`ObjectSpec`]: the license, the maps to create (BTF-defined maps from `.maps`,
//! then one single-entry array per global-data section), the programs with their
//! instructions already linked (subprograms from `.text` appended, calls fixed) and the
//! instructions the loader must patch with map fds, the global variables, and the object's BTF
//! fixed up for `BPF_BTF_LOAD`.
//!
//! This module never calls the kernel, never panics on any input, and never trusts a size or
//! count from the file beyond the input's length: it is meant to be fuzzed. Every error names
//! the section, symbol and offset involved. What mmbpf does not implement (CO-RE relocations,
//! externs, kfuncs, callbacks, map-in-map, legacy `maps`) is refused with
//! [`ErrorKind::Unsupported`].
//!
//! What clang (19) objects look like, and what this parser does about it:
//!
//! - Global variables are relocated against their own symbol (imm 0, offset = `st_value`);
//!   `static` variables and `static` functions against the *section* symbol, with the offset
//!   in the instruction's imm (data: byte offset; calls: `st_value / 8 + imm + 1`).
//! - BTF DATASECs have size 0 and global VARs offset 0: [`ObjectBtf::bytes`] has them set from
//!   the ELF section sizes and symbols (static VARs already carry their offset).
//! - String literals land in `.rodata.str1.1`, which has no DATASEC (its map has
//!   `btf_value_type_id` 0) and only a section symbol.
//! - `.rel.BTF`/`.rel.BTF.ext` (and `.rel.debug_*` in unstripped objects) are for linkers and
//!   are ignored; `.llvm_addrsig` is ignored.
//! - `.BTF.ext` `insn_off`s are byte offsets in their ELF section; [`ProgramSpec`] carries them
//!   as instruction indexes in the linked program, as `BPF_PROG_LOAD` wants.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, SectionHeader, Sym as _};
use object::{Endianness, SymbolIndex};

use crate::btf::{
    Btf, BtfExt, BtfExtInfo, BtfKind, BtfVarSecinfo, BTF_VAR_GLOBAL_EXTERN, BTF_VAR_STATIC,
};
use crate::error::{Error, ErrorKind, Result};
use crate::map::{
    value_stride, GlobalDataKind, MapFlags, MapOrigin, MapSpec, MapType, ARRAY_DATA_LIMIT,
};
use crate::sys::abi::{self, BpfInsn};

mod kind;

pub use kind::ProgramKind;

/// `R_BPF_64_64`: `ld_imm64` of a map or data address.
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: 64-bit data relocation (linker use).
pub const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: 32-bit data relocation (linker use).
pub const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_NODYLD32`: 32-bit relocation in `.BTF`/`.BTF.ext` (linker use).
pub const R_BPF_64_NODYLD32: u32 = 4;
/// `R_BPF_64_32`: a bpf-to-bpf `call`.
pub const R_BPF_64_32: u32 = 10;
/// `ld_imm64` source register for a function pointer (callbacks).
pub const BPF_PSEUDO_FUNC: u8 = 4;

/// Everything a loader needs from one object file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSpec {
    /// The `license` section up to its first NUL byte.
    pub license: String,
    /// The `version` section if present (obsolete `LINUX_VERSION_CODE`), else 0.
    pub kern_version: u32,
    /// BTF-defined maps from `.maps` (in DATASEC order), then one map per global-data
    /// section (in section order). [`MapReloc::map`] and [`GlobalSpec::map`] index this.
    pub maps: Vec<MapSpec>,
    /// Programs, in section order then offset order.
    pub programs: Vec<ProgramSpec>,
    /// Variables in global-data sections (from ELF `STT_OBJECT` symbols, static ones too),
    /// sorted by map then offset.
    pub globals: Vec<GlobalSpec>,
    /// The object's BTF, fixed up for `BPF_BTF_LOAD`; `None` without `.BTF`.
    pub btf: Option<ObjectBtf>,
}

impl ObjectSpec {
    /// The map named `name` and its index.
    pub fn map(&self, name: &str) -> Option<(usize, &MapSpec)> {
        self.maps.iter().enumerate().find(|(_, m)| m.name == name)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The global variable named `name` (the first one, if static variables of several
    /// functions share it).
    pub fn global(&self, name: &str) -> Option<&GlobalSpec> {
        self.globals.iter().find(|g| g.name == name)
    }

    /// A C-like spelling of a global variable's type from BTF (`const volatile __u32`,
    /// `char[28]`), or `None` without BTF information for it.
    pub fn global_type(&self, global: &GlobalSpec) -> Option<String> {
        let btf = &self.btf.as_ref()?.types;
        if global.btf_var_id == 0 {
            return None;
        }
        btf.type_display(global.btf_type_id).ok()
    }
}

/// One program, linked and ready for relocation with map fds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The function symbol's name.
    pub name: String,
    /// The ELF section (`tracepoint/raw_syscalls/sys_enter`).
    pub section: String,
    /// Type and attach target from the section name.
    pub kind: ProgramKind,
    /// The program's own instructions, then every subprogram it calls (transitively),
    /// appended once each, with bpf-to-bpf call immediates recomputed for this layout.
    /// `ld_imm64` instructions listed in [`ProgramSpec::map_relocs`] already carry the right
    /// `src_reg` (`BPF_PSEUDO_MAP_FD` / `BPF_PSEUDO_MAP_VALUE`), an `imm` of 0 where the
    /// loader puts the map fd, and for values the offset in the second slot's `imm`.
    pub insns: Vec<BpfInsn>,
    /// Instructions to patch with map fds.
    pub map_relocs: Vec<MapReloc>,
    /// `struct bpf_func_info` records for `BPF_PROG_LOAD` (`insn_off` already an instruction
    /// index in [`ProgramSpec::insns`]); empty without BTF.
    pub func_info: Vec<u8>,
    /// Size of one `func_info` record (0 when there are none).
    pub func_info_rec_size: u32,
    /// `struct bpf_line_info` records, converted like `func_info`.
    pub line_info: Vec<u8>,
    /// Size of one `line_info` record (0 when there are none).
    pub line_info_rec_size: u32,
    /// Names of the subprograms appended to `insns`, with their first instruction index.
    pub subprograms: Vec<(String, usize)>,
}

impl ProgramSpec {
    /// Number of `func_info` records.
    pub fn func_info_count(&self) -> u32 {
        count(&self.func_info, self.func_info_rec_size)
    }

    /// Number of `line_info` records.
    pub fn line_info_count(&self) -> u32 {
        count(&self.line_info, self.line_info_rec_size)
    }
}

fn count(records: &[u8], rec_size: u32) -> u32 {
    if rec_size == 0 {
        0
    } else {
        u32::try_from(records.len() / rec_size as usize).unwrap_or(u32::MAX)
    }
}

/// An `ld_imm64` instruction that refers to a map.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MapReloc {
    /// Index of the `ld_imm64` in [`ProgramSpec::insns`] (its first slot).
    pub insn: usize,
    /// Index into [`ObjectSpec::maps`].
    pub map: usize,
    /// Map fd or address inside the map's value.
    pub kind: MapRelocKind,
}

/// How an `ld_imm64` refers to its map.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapRelocKind {
    /// `BPF_PSEUDO_MAP_FD`: the map itself (a BTF map).
    Fd,
    /// `BPF_PSEUDO_MAP_VALUE`: the address `offset` bytes into element 0 (global data).
    Value {
        /// Byte offset inside the global-data map's value.
        offset: u32,
    },
}

/// A variable in a global-data section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalSpec {
    /// Symbol name (static locals of functions look like `on_getpid.____fmt`).
    pub name: String,
    /// ELF section (`.bss`, `.data.custom`, ...).
    pub section: String,
    /// Index into [`ObjectSpec::maps`] of the section's map.
    pub map: usize,
    /// Offset inside the section (the symbol's `st_value`).
    pub offset: u32,
    /// Size in bytes (the symbol's `st_size`).
    pub size: u32,
    /// Section kind.
    pub kind: GlobalDataKind,
    /// True for a `static` (`STB_LOCAL`) symbol.
    pub is_static: bool,
    /// The BTF VAR type id describing it (0 if the BTF has none).
    pub btf_var_id: u32,
    /// The variable's type id (what the VAR refers to; 0 if unknown). Use
    /// [`Btf::type_display`] for a printable name.
    pub btf_type_id: u32,
}

/// The object's BTF, fixed for loading, plus the decoded types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectBtf {
    /// The `.BTF` section with every DATASEC's size set to its ELF section's size and every
    /// global VAR's offset set to its symbol's value (what libbpf's `btf_fixup_datasec` does),
    /// variables sorted by offset. Ready for `BPF_BTF_LOAD` on kernels with DATASEC support
    /// (5.2); older kernels need further sanitising.
    pub bytes: Vec<u8>,
    /// The decoded types (same fix-ups applied).
    pub types: Btf,
}

/// A section of the object, decoded.
struct Sec<'a> {
    name: &'a str,
    sh_type: u32,
    flags: u64,
    size: u64,
    data: &'a [u8],
}

impl Sec<'_> {
    fn is_exec(&self) -> bool {
        self.flags & u64::from(elf::SHF_EXECINSTR) != 0 && self.sh_type != elf::SHT_NOBITS
    }
}

/// A symbol, decoded.
struct Symbol<'a> {
    name: &'a str,
    value: u64,
    size: u64,
    typ: u8,
    bind: u8,
    /// `None` for undefined (extern) symbols.
    section: Option<usize>,
    /// `SHN_ABS`, `SHN_COMMON` and other reserved indexes.
    special: bool,
}

fn sym_name(s: &Symbol<'_>) -> String {
    if s.name.is_empty() {
        "<unnamed>".to_string()
    } else {
        s.name.to_string()
    }
}

/// A relocation section: its index, its target section index, and its entries as
/// (offset, type, symbol index).
type RelSection = (usize, usize, Vec<(u64, u32, u32)>);

struct Elf<'a> {
    secs: Vec<Sec<'a>>,
    syms: Vec<Symbol<'a>>,
    /// (rel section index, target section index, entries as (offset, type, symbol)).
    rels: Vec<RelSection>,
}

impl<'a> Elf<'a> {
    fn read(bytes: &'a [u8]) -> Result<Elf<'a>> {
        if bytes.get(..4) != Some(b"\x7fELF") {
            return Err(Error::malformed(format!(
                "not an ELF file ({} bytes, bad magic at offset 0)",
                bytes.len()
            )));
        }
        if bytes.get(4) == Some(&1) {
            return Err(Error::unsupported("32-bit ELF: BPF objects are ELF64"));
        }
        if bytes.get(5) == Some(&2) {
            return Err(Error::unsupported(
                "big-endian BPF objects are not supported",
            ));
        }
        let file = ElfFile64::<Endianness>::parse(bytes)
            .map_err(|e| Error::malformed(format!("ELF header: {e}")))?;
        let endian = file.endian();
        let hdr = file.elf_header();
        if hdr.e_machine(endian) != elf::EM_BPF {
            return Err(Error::unsupported(format!(
                "ELF machine {} is not BPF ({}); build with clang -target bpf",
                hdr.e_machine(endian),
                elf::EM_BPF
            )));
        }
        if hdr.e_type(endian) != elf::ET_REL {
            return Err(Error::unsupported(format!(
                "ELF type {} is not a relocatable object (ET_REL)",
                hdr.e_type(endian)
            )));
        }
        let table = file.elf_section_table();
        let mut secs = Vec::new();
        let mut rels = Vec::new();
        for (idx, sh) in table.enumerate() {
            let raw_name = table
                .section_name(endian, sh)
                .map_err(|e| Error::malformed(format!("section {}: name: {e}", idx.0)))?;
            let name = core::str::from_utf8(raw_name)
                .map_err(|_| Error::malformed(format!("section {}: name is not UTF-8", idx.0)))?;
            let sh_type = sh.sh_type(endian);
            let data = if sh_type == elf::SHT_NOBITS || sh_type == elf::SHT_NULL {
                &[][..]
            } else {
                sh.data(endian, bytes).map_err(|e| {
                    Error::malformed(format!("section {name:?}: data outside the file: {e}"))
                })?
            };
            if sh_type == elf::SHT_REL {
                let target = sh.sh_info(endian) as usize;
                let entries = sh
                    .rel(endian, bytes)
                    .map_err(|e| Error::malformed(format!("section {name:?}: {e}")))?
                    .map(|(r, _)| r)
                    .unwrap_or(&[]);
                let list = entries
                    .iter()
                    .map(|r| {
                        (
                            r.r_offset.get(endian),
                            object::read::elf::Rel::r_type(r, endian),
                            object::read::elf::Rel::r_sym(r, endian),
                        )
                    })
                    .collect();
                rels.push((idx.0, target, list));
            }
            secs.push(Sec {
                name,
                sh_type,
                flags: sh.sh_flags(endian),
                size: sh.sh_size(endian),
                data,
            });
        }
        let symtab = file.elf_symbol_table();
        let mut syms = Vec::new();
        // Index 0 is the null symbol; keep indexes equal to ELF symbol indexes.
        syms.push(Symbol {
            name: "",
            value: 0,
            size: 0,
            typ: 0,
            bind: 0,
            section: None,
            special: false,
        });
        for (idx, sym) in symtab.enumerate() {
            if idx.0 == 0 {
                continue;
            }
            let raw = symtab
                .symbol_name(endian, sym)
                .map_err(|e| Error::malformed(format!("symbol {}: name: {e}", idx.0)))?;
            let name = core::str::from_utf8(raw)
                .map_err(|_| Error::malformed(format!("symbol {}: name is not UTF-8", idx.0)))?;
            let shndx = sym.st_shndx(endian);
            let section = symtab
                .symbol_section(endian, sym, SymbolIndex(idx.0))
                .map_err(|e| Error::malformed(format!("symbol {name:?}: {e}")))?
                .map(|s| s.0);
            if let Some(s) = section {
                if s >= secs.len() {
                    return Err(Error::malformed(format!(
                        "symbol {name:?} (index {}) refers to section {s}, but the file has {} sections",
                        idx.0,
                        secs.len()
                    )));
                }
            }
            syms.push(Symbol {
                name,
                value: sym.st_value(endian),
                size: sym.st_size(endian),
                typ: sym.st_type(),
                bind: sym.st_bind(),
                section,
                special: shndx >= elf::SHN_LORESERVE && shndx != elf::SHN_XINDEX,
            });
        }
        Ok(Elf { secs, syms, rels })
    }

    fn section_by_name(&self, name: &str) -> Option<(usize, &Sec<'a>)> {
        self.secs
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name && s.sh_type != elf::SHT_NULL)
    }
}

fn global_data_kind(sec: &Sec<'_>) -> Option<GlobalDataKind> {
    if sec.is_exec() || (sec.sh_type != elf::SHT_PROGBITS && sec.sh_type != elf::SHT_NOBITS) {
        return None;
    }
    let is = |base: &str| {
        sec.name == base
            || sec
                .name
                .strip_prefix(base)
                .is_some_and(|r| r.starts_with('.'))
    };
    if is(".data") {
        Some(GlobalDataKind::Data)
    } else if is(".bss") {
        Some(GlobalDataKind::Bss)
    } else if is(".rodata") {
        Some(GlobalDataKind::Rodata)
    } else {
        None
    }
}

/// Parse a BPF object file. See the [module documentation](self).
///
/// `bytes` may have any alignment (the ELF reader needs 8-byte alignment; unaligned input,
/// such as `include_bytes!`, is copied into an aligned buffer first).
pub fn parse(bytes: &[u8]) -> Result<ObjectSpec> {
    if bytes.as_ptr() as usize % 8 == 0 {
        return parse_aligned(bytes);
    }
    let mut buf = alloc::vec![0u64; bytes.len().div_ceil(8)];
    let view = zerocopy::IntoBytes::as_mut_bytes(buf.as_mut_slice());
    view[..bytes.len()].copy_from_slice(bytes);
    let view = zerocopy::IntoBytes::as_bytes(buf.as_slice());
    parse_aligned(&view[..bytes.len()])
}

fn parse_aligned(bytes: &[u8]) -> Result<ObjectSpec> {
    let elf = Elf::read(bytes)?;

    // License and version.
    let (_, lic) = elf.section_by_name("license").ok_or_else(|| {
        Error::malformed("missing section \"license\" (SEC(\"license\") with e.g. \"GPL\")")
    })?;
    let end = lic
        .data
        .iter()
        .position(|b| *b == 0)
        .unwrap_or(lic.data.len());
    let license = core::str::from_utf8(&lic.data[..end])
        .map_err(|_| Error::malformed("section \"license\" at offset 0: license is not UTF-8"))?
        .to_string();
    let kern_version = match elf.section_by_name("version") {
        Some((_, v)) => match v.data {
            [a, b, c, d] => u32::from_le_bytes([*a, *b, *c, *d]),
            _ => {
                return Err(Error::malformed(format!(
                    "section \"version\" is {} bytes, expected 4",
                    v.data.len()
                )))
            }
        },
        None => 0,
    };
    if elf.section_by_name("maps").is_some() {
        return Err(Error::unsupported(
            "section \"maps\": legacy map definitions (struct bpf_map_def) are not supported; \
             define maps with BTF in SEC(\".maps\")",
        ));
    }

    // BTF, fixed up.
    let mut btf = match elf.section_by_name(".BTF") {
        Some((_, s)) => {
            let types = Btf::parse(s.data)?;
            Some(ObjectBtf {
                bytes: s.data.to_vec(),
                types,
            })
        }
        None => None,
    };
    if let Some(b) = btf.as_mut() {
        fixup_datasecs(&elf, b)?;
    }
    let ext = match (btf.as_ref(), elf.section_by_name(".BTF.ext")) {
        (Some(b), Some((_, s))) => Some(BtfExt::parse(s.data, &b.types)?),
        _ => None,
    };
    if let Some(ext) = &ext {
        if let Some(s) = ext.core_relo.sections.first() {
            return Err(Error::unsupported(format!(
                "CO-RE relocations (.BTF.ext core_relo) in section {:?} are not supported ({} relocations)",
                s.name, s.count
            )));
        }
    }

    // Maps: BTF maps, then global data.
    let mut maps = Vec::new();
    let maps_sec = elf.section_by_name(".maps").map(|(i, _)| i);
    let mut btf_map_offsets = Vec::new(); // (offset in .maps, map index)
    if let Some(idx) = maps_sec {
        let b = btf.as_ref().ok_or_else(|| {
            Error::unsupported(
                "section \".maps\" needs BTF to describe its maps, but the object has no .BTF section; \
                 compile with clang -g",
            )
        })?;
        for (offset, spec) in parse_btf_maps(&elf, idx, &b.types)? {
            btf_map_offsets.push((offset, maps.len()));
            maps.push(spec);
        }
    }
    let mut data_maps = BTreeMap::new(); // section index -> map index
    for (idx, sec) in elf.secs.iter().enumerate() {
        let Some(kind) = global_data_kind(sec) else {
            continue;
        };
        if sec.size == 0 {
            continue;
        }
        let value_size = u32::try_from(sec.size)
            .ok()
            .filter(|v| u64::from(*v) < ARRAY_DATA_LIMIT)
            .ok_or_else(|| {
                Error::malformed(format!(
                    "section {:?}: size {} exceeds the kernel's array map limit",
                    sec.name, sec.size
                ))
            })?;
        let mut flags = MapFlags::MMAPABLE;
        if kind == GlobalDataKind::Rodata {
            flags |= MapFlags::RDONLY_PROG;
        }
        let mut spec = MapSpec::new(sec.name, MapType::ARRAY, 4, value_size, 1).with_flags(flags);
        spec.origin = MapOrigin::GlobalData(kind);
        if sec.sh_type != elf::SHT_NOBITS {
            spec.initial_value = sec.data.to_vec();
        }
        if let Some((id, _)) = btf.as_ref().and_then(|b| b.types.datasec(sec.name)) {
            spec.btf_value_type_id = id;
        }
        spec.validate().map_err(|e| {
            e.with_kind(ErrorKind::Malformed)
                .context(format_args!("section {:?}", sec.name))
        })?;
        data_maps.insert(idx, maps.len());
        maps.push(spec);
    }
    // Maps are looked up by name: two with one name would make one unreachable.
    if let Some(dup) = first_duplicate(maps.iter().map(|m| m.name.as_str())) {
        return Err(Error::malformed(format!(
            "duplicate map name {dup:?} (a BTF map in \".maps\" or a global-data section)"
        )));
    }

    // Relocations of program code.
    let ctx = Ctx {
        elf: &elf,
        maps: &maps,
        maps_sec,
        btf_map_offsets: &btf_map_offsets,
        data_maps: &data_maps,
    };
    let relocs = ctx.collect_relocations()?;

    // Functions of every executable section.
    let funcs = ctx.collect_functions()?;
    let func_at: BTreeMap<(usize, usize), usize> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| ((f.sec, f.start), i))
        .collect();
    let insns: BTreeMap<usize, Vec<BpfInsn>> = elf
        .secs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_exec())
        .map(|(i, s)| (i, decode_insns(s.data)))
        .collect();

    let mut programs = Vec::new();
    for (fid, f) in funcs.iter().enumerate() {
        let sec = &elf.secs[f.sec];
        if sec.name == ".text" {
            continue;
        }
        let kind = ProgramKind::from_section(sec.name)?;
        if f.bind == elf::STB_LOCAL {
            return Err(Error::unsupported(format!(
                "section {:?}, symbol {:?} at offset {:#x}: static programs are not supported (drop `static`)",
                sec.name,
                f.name,
                f.start * 8
            )));
        }
        let linker = Linker {
            elf: &elf,
            funcs: &funcs,
            func_at: &func_at,
            insns: &insns,
            relocs: &relocs,
        };
        let (code, map_relocs, placed) = linker.link(fid)?;
        let (func_info, func_info_rec_size) = match &ext {
            Some(e) => ext_records(&e.func_info, "func_info", &elf, &funcs, &placed)?,
            None => (Vec::new(), 0),
        };
        let (line_info, line_info_rec_size) = match &ext {
            Some(e) => ext_records(&e.line_info, "line_info", &elf, &funcs, &placed)?,
            None => (Vec::new(), 0),
        };
        programs.push(ProgramSpec {
            name: f.name.to_string(),
            section: sec.name.to_string(),
            kind,
            insns: code,
            map_relocs,
            func_info,
            func_info_rec_size,
            line_info,
            line_info_rec_size,
            subprograms: placed
                .iter()
                .skip(1)
                .map(|(f, base)| (funcs[*f].name.to_string(), *base))
                .collect(),
        });
    }
    for (idx, sec) in elf.secs.iter().enumerate() {
        if sec.is_exec()
            && sec.name != ".text"
            && !sec.data.is_empty()
            && !funcs.iter().any(|f| f.sec == idx)
        {
            return Err(Error::malformed(format!(
                "section {:?}: {} bytes of code but no function symbol",
                sec.name,
                sec.data.len()
            )));
        }
    }

    // Programs are looked up by name too.
    if let Some(dup) = first_duplicate(programs.iter().map(|p| p.name.as_str())) {
        let secs: Vec<&str> = programs
            .iter()
            .filter(|p| p.name == dup)
            .map(|p| p.section.as_str())
            .collect();
        return Err(Error::malformed(format!(
            "duplicate program name {dup:?} (function symbols in sections {secs:?})"
        )));
    }

    let globals = collect_globals(&elf, &data_maps, &maps, btf.as_ref().map(|b| &b.types))?;
    Ok(ObjectSpec {
        license,
        kern_version,
        maps,
        programs,
        globals,
        btf,
    })
}

/// The first name that occurs twice.
fn first_duplicate<'n>(names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    let mut seen = alloc::collections::BTreeSet::new();
    names.into_iter().find(|n| !seen.insert(*n))
}

/// Set DATASEC sizes and global VAR offsets from the ELF file (libbpf's
/// `btf_fixup_datasec`), sort each DATASEC's variables by offset, and write the result into
/// the raw bytes.
fn fixup_datasecs(elf: &Elf<'_>, btf: &mut ObjectBtf) -> Result<()> {
    let ids: Vec<u32> = btf
        .types
        .types()
        .filter(|(_, t)| t.kind == BtfKind::Datasec)
        .map(|(id, _)| id)
        .collect();
    for id in ids {
        let t = btf.types.type_by_id(id)?;
        let name = btf.types.string(t.name_off)?;
        if name == ".kconfig" || name == ".ksyms" {
            return Err(Error::unsupported(format!(
                "BTF DATASEC {name:?} (type id {id}): extern variables (.kconfig/.ksyms externs) are not supported"
            )));
        }
        let (sec_idx, sec) = elf.section_by_name(name).ok_or_else(|| {
            Error::malformed(format!(
                "BTF DATASEC {name:?} (type id {id}) has no ELF section of that name"
            ))
        })?;
        let fix_offsets = t.size_or_type == 0;
        let size = if fix_offsets {
            u32::try_from(sec.size).map_err(|_| {
                Error::malformed(format!(
                    "section {name:?}: size {} does not fit in 32 bits",
                    sec.size
                ))
            })?
        } else {
            t.size_or_type
        };
        let mut infos: Vec<BtfVarSecinfo> = Vec::with_capacity(t.secinfos().len());
        for vsi in t.secinfos() {
            let var = btf.types.type_by_id(vsi.type_id)?;
            let var_name = btf.types.string(var.name_off)?;
            let Some(linkage) = var.var_linkage() else {
                return Err(Error::malformed(format!(
                    "BTF DATASEC {name:?} (type id {id}) lists type id {} which is a {}, not a VAR",
                    vsi.type_id,
                    var.kind.name()
                )));
            };
            let mut v = *vsi;
            if linkage == BTF_VAR_GLOBAL_EXTERN {
                return Err(Error::unsupported(format!(
                    "section {name:?}, symbol {var_name:?}: extern variables are not supported"
                )));
            }
            if linkage != BTF_VAR_STATIC && fix_offsets {
                let sym = elf
                    .syms
                    .iter()
                    .find(|s| {
                        s.name == var_name
                            && s.section == Some(sec_idx)
                            && s.bind != elf::STB_LOCAL
                            && s.typ != elf::STT_SECTION
                    })
                    .ok_or_else(|| {
                        Error::malformed(format!(
                            "section {name:?}: BTF VAR {var_name:?} (type id {}) has no ELF symbol in that section",
                            vsi.type_id
                        ))
                    })?;
                v.offset = u32::try_from(sym.value).map_err(|_| {
                    Error::malformed(format!(
                        "section {name:?}, symbol {var_name:?}: offset {:#x} too large",
                        sym.value
                    ))
                })?;
            }
            if u64::from(v.offset) + u64::from(v.size) > u64::from(size) {
                return Err(Error::malformed(format!(
                    "section {name:?}, symbol {var_name:?} at offset {:#x}: {} bytes extend past the section's {size} bytes",
                    v.offset, v.size
                )));
            }
            infos.push(v);
        }
        infos.sort_by_key(|v| v.offset);
        let ObjectBtf { bytes, types } = btf;
        types.set_datasec(bytes, id, size, infos)?;
    }
    Ok(())
}

/// Decode BTF-defined maps: each VAR of DATASEC `.maps`. Returns (offset in `.maps`, spec).
fn parse_btf_maps(elf: &Elf<'_>, maps_sec: usize, btf: &Btf) -> Result<Vec<(u64, MapSpec)>> {
    let sec = &elf.secs[maps_sec];
    let Some((_, ds)) = btf.datasec(".maps") else {
        if sec.size == 0 {
            return Ok(Vec::new());
        }
        return Err(Error::malformed(
            "section \".maps\": the BTF has no DATASEC \".maps\" describing it",
        ));
    };
    let mut out = Vec::new();
    for vsi in ds.secinfos() {
        let var = btf.type_by_id(vsi.type_id)?;
        let name = btf.string(var.name_off)?;
        let at = || {
            format!(
                "section \".maps\", map {name:?} at offset {:#x}",
                vsi.offset
            )
        };
        let def_id = btf
            .skip_mods_and_typedefs(var.size_or_type)
            .map_err(|e| e.context(at()))?;
        let def = btf.type_by_id(def_id)?;
        if def.kind != BtfKind::Struct {
            return Err(Error::malformed(format!(
                "{}: the map definition is a {} (type id {def_id}), expected a struct",
                at(),
                def.kind.name()
            )));
        }
        let mut map_type = None;
        let (mut key_size, mut value_size, mut max_entries, mut flags, mut map_extra) =
            (None, None, 0u32, 0u32, 0u64);
        let (mut key_id, mut value_id, mut pinning) = (0u32, 0u32, 0u32);
        for m in def.members() {
            let field = btf.string(m.name_off)?;
            let ctx = |e: Error| e.context(format_args!("{}, field {field:?}", at()));
            match field {
                "type" => map_type = Some(map_uint(btf, m.type_id).map_err(ctx)?),
                "max_entries" => max_entries = map_uint(btf, m.type_id).map_err(ctx)?,
                "map_flags" => flags = map_uint(btf, m.type_id).map_err(ctx)?,
                "map_extra" => map_extra = map_uint(btf, m.type_id).map_err(ctx)?.into(),
                "pinning" => pinning = map_uint(btf, m.type_id).map_err(ctx)?,
                "numa_node" => {
                    if map_uint(btf, m.type_id).map_err(ctx)? != 0 {
                        return Err(Error::unsupported(format!(
                            "{}: field \"numa_node\" is not supported",
                            at()
                        )));
                    }
                }
                "key_size" | "value_size" => {
                    let v = map_uint(btf, m.type_id).map_err(ctx)?;
                    let slot = if field == "key_size" {
                        &mut key_size
                    } else {
                        &mut value_size
                    };
                    if slot.is_some_and(|old| old != v) {
                        return Err(Error::malformed(format!(
                            "{}: {field} {v} conflicts with the size of the type",
                            at()
                        )));
                    }
                    *slot = Some(v);
                }
                "key" | "value" => {
                    let (id, size) = map_type_ref(btf, m.type_id).map_err(ctx)?;
                    let (slot, tid) = if field == "key" {
                        (&mut key_size, &mut key_id)
                    } else {
                        (&mut value_size, &mut value_id)
                    };
                    if slot.is_some_and(|old| old != size) {
                        return Err(Error::malformed(format!(
                            "{}: {field} type is {size} bytes but {field}_size says {}",
                            at(),
                            slot.unwrap_or(0)
                        )));
                    }
                    *slot = Some(size);
                    *tid = id;
                }
                "values" => {
                    return Err(Error::unsupported(format!(
                        "{}: map-in-map (field \"values\") is not supported",
                        at()
                    )))
                }
                other => {
                    return Err(Error::unsupported(format!(
                        "{}: unknown map definition field {other:?}",
                        at()
                    )))
                }
            }
        }
        let map_type =
            map_type.ok_or_else(|| Error::malformed(format!("{}: no \"type\" field", at())))?;
        if pinning > 1 {
            return Err(Error::unsupported(format!(
                "{}: pinning {pinning} is not supported (0 or LIBBPF_PIN_BY_NAME)",
                at()
            )));
        }
        let mut spec = MapSpec::new(
            name,
            MapType(map_type),
            key_size.unwrap_or(0),
            value_size.unwrap_or(0),
            max_entries,
        );
        spec.flags = MapFlags::from_bits_retain(flags);
        spec.map_extra = map_extra;
        spec.btf_key_type_id = key_id;
        spec.btf_value_type_id = value_id;
        spec.pin_by_name = pinning == 1;
        if (spec.map_type == MapType::ARRAY || spec.map_type == MapType::PERCPU_ARRAY)
            && value_stride(spec.value_size)
                .checked_mul(spec.max_entries.into())
                .is_none_or(|n| n >= ARRAY_DATA_LIMIT)
        {
            return Err(Error::malformed(format!(
                "{}: value_size {} x max_entries {} overflows the kernel's array map limit",
                at(),
                spec.value_size,
                spec.max_entries
            )));
        }
        spec.validate()
            .map_err(|e| e.with_kind(ErrorKind::Malformed).context(at()))?;
        if vsi.offset as u64 >= sec.size {
            return Err(Error::malformed(format!(
                "{}: offset outside the section ({} bytes)",
                at(),
                sec.size
            )));
        }
        out.push((u64::from(vsi.offset), spec));
    }
    Ok(out)
}

/// `__uint(name, N)`: a pointer to an array of N elements.
fn map_uint(btf: &Btf, member_type: u32) -> Result<u32> {
    let ptr_id = btf.skip_mods_and_typedefs(member_type)?;
    let ptr = btf.type_by_id(ptr_id)?;
    if ptr.kind != BtfKind::Ptr {
        return Err(Error::malformed(format!(
            "expected __uint() (a pointer to an array), found {} (type id {ptr_id})",
            ptr.kind.name()
        )));
    }
    let arr = btf.type_by_id(ptr.size_or_type)?;
    arr.array().map(|a| a.nelems).ok_or_else(|| {
        Error::malformed(format!(
            "expected __uint() (a pointer to an array), found a pointer to {} (type id {})",
            arr.kind.name(),
            ptr.size_or_type
        ))
    })
}

/// `__type(name, T)`: a pointer to T. Returns T's id and size.
fn map_type_ref(btf: &Btf, member_type: u32) -> Result<(u32, u32)> {
    let ptr_id = btf.skip_mods_and_typedefs(member_type)?;
    let ptr = btf.type_by_id(ptr_id)?;
    if ptr.kind != BtfKind::Ptr {
        return Err(Error::malformed(format!(
            "expected __type() (a pointer), found {} (type id {ptr_id})",
            ptr.kind.name()
        )));
    }
    let size = btf.resolve_size(ptr.size_or_type)?;
    Ok((ptr.size_or_type, size))
}

/// A resolved relocation of an instruction.
#[derive(Copy, Clone, Debug)]
enum Target {
    Map { map: usize, kind: MapRelocKind },
    Call { sec: usize, insn: usize },
}

struct Ctx<'e, 'a> {
    elf: &'e Elf<'a>,
    maps: &'e [MapSpec],
    maps_sec: Option<usize>,
    btf_map_offsets: &'e [(u64, usize)],
    data_maps: &'e BTreeMap<usize, usize>,
}

struct Func<'a> {
    name: &'a str,
    sec: usize,
    /// First and one-past-last instruction index inside the section.
    start: usize,
    end: usize,
    bind: u8,
}

impl<'a> Ctx<'_, 'a> {
    /// Every relocation of every executable section, keyed by (section, instruction index).
    fn collect_relocations(&self) -> Result<BTreeMap<(usize, usize), Target>> {
        let mut out = BTreeMap::new();
        for (rel_idx, target, entries) in &self.elf.rels {
            let Some(tsec) = self.elf.secs.get(*target) else {
                return Err(Error::malformed(format!(
                    "relocation section {:?} applies to section {target}, which does not exist",
                    self.elf.secs[*rel_idx].name
                )));
            };
            if tsec.is_exec() {
                for &(off, rtype, sym) in entries {
                    let t = self.resolve(tsec, off, rtype, sym)?;
                    if out.insert((*target, (off / 8) as usize), t).is_some() {
                        return Err(Error::malformed(format!(
                            "section {:?}, offset {off:#x}: two relocations on the same instruction",
                            tsec.name
                        )));
                    }
                }
            } else if tsec.name == ".BTF"
                || tsec.name == ".BTF.ext"
                || tsec.name.starts_with(".debug")
            {
                // For linkers; the loader fixes BTF itself.
            } else if let Some(&(off, rtype, sym)) = entries.first() {
                let sname = self
                    .elf
                    .syms
                    .get(sym as usize)
                    .map_or_else(|| format!("#{sym}"), sym_name);
                let what = if Some(*target) == self.maps_sec {
                    "relocations in \".maps\" (map-in-map initialisation) are not supported"
                } else {
                    "relocations in data sections (pointers in initialised data) are not supported"
                };
                return Err(Error::unsupported(format!(
                    "section {:?}, offset {off:#x}, symbol {sname:?} (relocation type {rtype}): {what}",
                    tsec.name
                )));
            }
        }
        for s in &self.elf.secs {
            if s.sh_type == elf::SHT_RELA {
                return Err(Error::unsupported(format!(
                    "section {:?}: RELA relocations are not supported",
                    s.name
                )));
            }
        }
        Ok(out)
    }

    fn resolve(&self, sec: &Sec<'_>, off: u64, rtype: u32, sym_idx: u32) -> Result<Target> {
        let at = |sym: &str| format!("section {:?}, offset {off:#x}, symbol {sym:?}", sec.name);
        let sym = self.elf.syms.get(sym_idx as usize).filter(|_| sym_idx != 0).ok_or_else(|| {
            Error::malformed(format!(
                "section {:?}, offset {off:#x}: relocation refers to symbol index {sym_idx}, but the symbol table has {} symbols",
                sec.name,
                self.elf.syms.len()
            ))
        })?;
        let name = sym_name(sym);
        if off % 8 != 0 || off.checked_add(8).is_none_or(|e| e > sec.data.len() as u64) {
            return Err(Error::malformed(format!(
                "{}: relocation is outside the section ({} bytes) or not on an 8-byte instruction boundary",
                at(&name),
                sec.data.len()
            )));
        }
        let i = (off / 8) as usize;
        let insn = insn_at(sec.data, i);
        let Some(tsec_idx) = sym.section else {
            return Err(Error::unsupported(format!(
                "{}: extern symbol (kfunc, ksym or .kconfig extern) is not supported",
                at(&name)
            )));
        };
        if sym.special {
            return Err(Error::malformed(format!(
                "{}: symbol has no section (absolute or common)",
                at(&name)
            )));
        }
        let tsec = &self.elf.secs[tsec_idx];
        match rtype {
            R_BPF_64_64 => {
                if insn.code != abi::BPF_LD_IMM64 {
                    return Err(Error::malformed(format!(
                        "{}: R_BPF_64_64 relocation on opcode {:#04x}, expected ld_imm64 (0x18)",
                        at(&name),
                        insn.code
                    )));
                }
                if off + 16 > sec.data.len() as u64 {
                    return Err(Error::malformed(format!(
                        "{}: ld_imm64 without its second slot",
                        at(&name)
                    )));
                }
                if insn.src_reg() == BPF_PSEUDO_FUNC || tsec.is_exec() {
                    return Err(Error::unsupported(format!(
                        "{}: function pointers (callbacks, ld_imm64 of a function) are not supported",
                        at(&name)
                    )));
                }
                let target = i128::from(sym.value) + i128::from(insn.imm);
                if Some(tsec_idx) == self.maps_sec {
                    let map = self
                        .btf_map_offsets
                        .iter()
                        .find(|(o, _)| i128::from(*o) == target)
                        .map(|(_, m)| *m)
                        .ok_or_else(|| {
                            Error::malformed(format!(
                                "{}: no map starts at offset {target:#x} of \".maps\"",
                                at(&name)
                            ))
                        })?;
                    return Ok(Target::Map {
                        map,
                        kind: MapRelocKind::Fd,
                    });
                }
                if let Some(&map) = self.data_maps.get(&tsec_idx) {
                    let size = self.maps[map].value_size;
                    let offset = u32::try_from(target)
                        .ok()
                        .filter(|o| *o < size)
                        .ok_or_else(|| {
                            Error::malformed(format!(
                                "{}: address {target:#x} is outside section {:?} ({size} bytes)",
                                at(&name),
                                tsec.name
                            ))
                        })?;
                    return Ok(Target::Map {
                        map,
                        kind: MapRelocKind::Value { offset },
                    });
                }
                Err(Error::unsupported(format!(
                    "{}: reference to section {:?}, which is neither \".maps\" nor a global-data section (.data*, .bss*, .rodata*)",
                    at(&name),
                    tsec.name
                )))
            }
            R_BPF_64_32 => {
                if insn.code != abi::BPF_CALL_INSN || insn.src_reg() != abi::BPF_PSEUDO_CALL {
                    return Err(Error::malformed(format!(
                        "{}: R_BPF_64_32 relocation on opcode {:#04x} src_reg {}, expected a bpf-to-bpf call (0x85, src_reg 1)",
                        at(&name),
                        insn.code,
                        insn.src_reg()
                    )));
                }
                if !tsec.is_exec() || sym.value % 8 != 0 {
                    return Err(Error::malformed(format!(
                        "{}: call target is not code (section {:?}, value {:#x})",
                        at(&name),
                        tsec.name,
                        sym.value
                    )));
                }
                let t = i128::from(sym.value / 8) + i128::from(insn.imm) + 1;
                let n = tsec.data.len() / 8;
                let insn = usize::try_from(t).ok().filter(|t| *t < n).ok_or_else(|| {
                    Error::malformed(format!(
                        "{}: call target instruction {t} is outside section {:?} ({n} instructions)",
                        at(&name),
                        tsec.name
                    ))
                })?;
                Ok(Target::Call {
                    sec: tsec_idx,
                    insn,
                })
            }
            other => {
                let tname = match other {
                    R_BPF_64_ABS64 => "R_BPF_64_ABS64",
                    R_BPF_64_ABS32 => "R_BPF_64_ABS32",
                    R_BPF_64_NODYLD32 => "R_BPF_64_NODYLD32",
                    _ => "unknown",
                };
                Err(Error::unsupported(format!(
                    "{}: relocation type {other} ({tname}) in program code is not supported",
                    at(&name)
                )))
            }
        }
    }

    /// The function symbols of every executable section, checked and sorted.
    fn collect_functions(&self) -> Result<Vec<Func<'a>>> {
        let mut funcs = Vec::new();
        for s in &self.elf.syms {
            let Some(sec_idx) = s.section else { continue };
            let sec = &self.elf.secs[sec_idx];
            if s.typ != elf::STT_FUNC || !sec.is_exec() {
                continue;
            }
            let n = (sec.data.len() / 8) as u64;
            let bad = s.value % 8 != 0
                || s.size % 8 != 0
                || s.size == 0
                || s.value.checked_add(s.size).is_none_or(|e| e / 8 > n);
            if bad || sec.data.len() % 8 != 0 {
                return Err(Error::malformed(format!(
                    "section {:?}, symbol {:?} at offset {:#x}: function of {} bytes is empty, misaligned or outside the section ({} bytes)",
                    sec.name,
                    s.name,
                    s.value,
                    s.size,
                    sec.data.len()
                )));
            }
            funcs.push(Func {
                name: s.name,
                sec: sec_idx,
                start: (s.value / 8) as usize,
                end: ((s.value + s.size) / 8) as usize,
                bind: s.bind,
            });
        }
        funcs.sort_by_key(|f| (f.sec, f.start));
        for w in funcs.windows(2) {
            if w[0].sec == w[1].sec && w[1].start < w[0].end {
                return Err(Error::malformed(format!(
                    "section {:?}: functions {:?} and {:?} overlap at offset {:#x}",
                    self.elf.secs[w[0].sec].name,
                    w[0].name,
                    w[1].name,
                    w[1].start * 8
                )));
            }
        }
        Ok(funcs)
    }
}

fn insn_at(data: &[u8], i: usize) -> BpfInsn {
    let b = data.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]);
    BpfInsn {
        code: b[0],
        regs: b[1],
        off: i16::from_le_bytes([b[2], b[3]]),
        imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
    }
}

fn decode_insns(data: &[u8]) -> Vec<BpfInsn> {
    (0..data.len() / 8).map(|i| insn_at(data, i)).collect()
}

struct Linker<'l, 'a> {
    elf: &'l Elf<'a>,
    funcs: &'l [Func<'a>],
    func_at: &'l BTreeMap<(usize, usize), usize>,
    insns: &'l BTreeMap<usize, Vec<BpfInsn>>,
    relocs: &'l BTreeMap<(usize, usize), Target>,
}

type Linked = (Vec<BpfInsn>, Vec<MapReloc>, Vec<(usize, usize)>);

impl Linker<'_, '_> {
    /// Link program `main`: its instructions, then each called function appended once.
    /// Returns the instructions, the map relocations and the placed functions
    /// (function id, first instruction index), main first.
    fn link(&self, main: usize) -> Result<Linked> {
        let mut code: Vec<BpfInsn> = Vec::new();
        let mut relocs = Vec::new();
        let mut placed: Vec<(usize, usize)> = Vec::new();
        let place =
            |fid: usize, code: &mut Vec<BpfInsn>, placed: &mut Vec<(usize, usize)>| -> usize {
                if let Some(&(_, base)) = placed.iter().find(|(f, _)| *f == fid) {
                    return base;
                }
                let f = &self.funcs[fid];
                let base = code.len();
                let src = self
                    .insns
                    .get(&f.sec)
                    .map_or(&[][..], |v| v.get(f.start..f.end).unwrap_or(&[]));
                code.extend_from_slice(src);
                placed.push((fid, base));
                base
            };
        place(main, &mut code, &mut placed);
        let mut next = 0;
        while next < placed.len() {
            let (fid, base) = placed[next];
            next += 1;
            let f = &self.funcs[fid];
            let sec = &self.elf.secs[f.sec];
            let mut i = f.start;
            while i < f.end {
                let pos = base + (i - f.start);
                let insn = code[pos];
                let at = || {
                    format!(
                        "section {:?}, function {:?}, offset {:#x}",
                        sec.name,
                        f.name,
                        i * 8
                    )
                };
                let call_target = match self.relocs.get(&(f.sec, i)) {
                    Some(Target::Map { map, kind }) => {
                        if i + 1 >= f.end {
                            return Err(Error::malformed(format!(
                                "{}: ld_imm64 at the end of the function",
                                at()
                            )));
                        }
                        let (src, off) = match kind {
                            MapRelocKind::Fd => (abi::BPF_PSEUDO_MAP_FD, 0),
                            MapRelocKind::Value { offset } => {
                                (abi::BPF_PSEUDO_MAP_VALUE, *offset as i32)
                            }
                        };
                        code[pos].set_src_reg(src);
                        code[pos].imm = 0;
                        code[pos + 1].imm = off;
                        relocs.push(MapReloc {
                            insn: pos,
                            map: *map,
                            kind: *kind,
                        });
                        i += 2;
                        continue;
                    }
                    Some(Target::Call { sec, insn }) => Some((*sec, *insn)),
                    None if insn.code == abi::BPF_CALL_INSN
                        && insn.src_reg() == abi::BPF_PSEUDO_CALL =>
                    {
                        // A call without relocation: relative inside the same section.
                        let t = i as i64 + i64::from(insn.imm) + 1;
                        let t = usize::try_from(t).map_err(|_| {
                            Error::malformed(format!(
                                "{}: call target {t} is before the section",
                                at()
                            ))
                        })?;
                        Some((f.sec, t))
                    }
                    None if insn.code == abi::BPF_LD_IMM64 => {
                        if insn.src_reg() == BPF_PSEUDO_FUNC {
                            return Err(Error::unsupported(format!(
                                "{}: function pointers (callbacks) are not supported",
                                at()
                            )));
                        }
                        if insn.src_reg() != 0 {
                            return Err(Error::malformed(format!(
                                "{}: ld_imm64 with src_reg {} but no relocation",
                                at(),
                                insn.src_reg()
                            )));
                        }
                        i += 2;
                        continue;
                    }
                    None => None,
                };
                if let Some((tsec, tinsn)) = call_target {
                    let callee = *self.func_at.get(&(tsec, tinsn)).ok_or_else(|| {
                        Error::malformed(format!(
                            "{}: call target (section {:?}, instruction {tinsn}) is not the start of a function",
                            at(),
                            self.elf.secs.get(tsec).map_or("?", |s| s.name)
                        ))
                    })?;
                    let target_base = place(callee, &mut code, &mut placed);
                    let rel = target_base as i64 - (pos as i64 + 1);
                    code[pos].imm = i32::try_from(rel).map_err(|_| {
                        Error::malformed(format!("{}: call distance {rel} overflows", at()))
                    })?;
                }
                i += 1;
            }
        }
        Ok((code, relocs, placed))
    }
}

/// The `.BTF.ext` records for a linked program: each placed function's records with
/// `insn_off` turned into an instruction index in the linked program.
fn ext_records(
    info: &BtfExtInfo,
    what: &str,
    elf: &Elf<'_>,
    funcs: &[Func<'_>],
    placed: &[(usize, usize)],
) -> Result<(Vec<u8>, u32)> {
    let rec = info.rec_size as usize;
    if rec < 4 {
        return Ok((Vec::new(), 0));
    }
    let mut recs: Vec<(u32, &[u8])> = Vec::new();
    for &(fid, base) in placed {
        let f = &funcs[fid];
        let sname = elf.secs[f.sec].name;
        let Some(s) = info.section(sname) else {
            continue;
        };
        for r in s.records.chunks_exact(rec) {
            let off = u32::from_le_bytes([r[0], r[1], r[2], r[3]]);
            if off % 8 != 0 {
                return Err(Error::malformed(format!(
                    "section .BTF.ext: {what} record for section {sname:?} has insn_off {off:#x}, not a multiple of 8"
                )));
            }
            let idx = (off / 8) as usize;
            if idx >= f.start && idx < f.end {
                let new = u32::try_from(base + (idx - f.start)).unwrap_or(u32::MAX);
                recs.push((new, r));
            }
        }
    }
    recs.sort_by_key(|(o, _)| *o);
    let mut out = Vec::with_capacity(recs.len() * rec);
    for (o, r) in recs {
        out.extend_from_slice(&o.to_le_bytes());
        out.extend_from_slice(&r[4..]);
    }
    let size = if out.is_empty() { 0 } else { info.rec_size };
    Ok((out, size))
}

fn collect_globals(
    elf: &Elf<'_>,
    data_maps: &BTreeMap<usize, usize>,
    maps: &[MapSpec],
    btf: Option<&Btf>,
) -> Result<Vec<GlobalSpec>> {
    let mut out = Vec::new();
    for s in &elf.syms {
        let Some(sec_idx) = s.section else { continue };
        let Some(&map) = data_maps.get(&sec_idx) else {
            continue;
        };
        if s.typ != elf::STT_OBJECT || s.name.is_empty() {
            continue;
        }
        let sec = &elf.secs[sec_idx];
        let size = maps[map].value_size;
        let (offset, len) = match (u32::try_from(s.value), u32::try_from(s.size)) {
            (Ok(o), Ok(l)) if u64::from(o) + u64::from(l) <= u64::from(size) => (o, l),
            _ => {
                return Err(Error::malformed(format!(
                    "section {:?}, symbol {:?} at offset {:#x}: {} bytes extend past the section ({size} bytes)",
                    sec.name, s.name, s.value, s.size
                )))
            }
        };
        let kind = match maps[map].origin {
            MapOrigin::GlobalData(k) => k,
            MapOrigin::User => continue,
        };
        let (mut btf_var_id, mut btf_type_id) = (0, 0);
        if let Some((b, (_, ds))) = btf.and_then(|b| Some((b, b.datasec(sec.name)?))) {
            for v in ds.secinfos() {
                let Ok(var) = b.type_by_id(v.type_id) else {
                    continue;
                };
                if v.offset == offset && b.string(var.name_off).ok() == Some(s.name) {
                    btf_var_id = v.type_id;
                    btf_type_id = var.size_or_type;
                }
            }
        }
        out.push(GlobalSpec {
            name: s.name.to_string(),
            section: sec.name.to_string(),
            map,
            offset,
            size: len,
            kind,
            is_static: s.bind == elf::STB_LOCAL,
            btf_var_id,
            btf_type_id,
        });
    }
    out.sort_by(|a, b| (a.map, a.offset, &a.name).cmp(&(b.map, b.offset, &b.name)));
    Ok(out)
}

#[cfg(test)]
mod tests;
