//! A corpus of malformed objects generated from the committed bpf-obj objects: truncations,
//! corrupted section headers, bad relocations and symbols, broken BTF, sizes that overflow,
//! duplicate names, a missing license, `.maps` without BTF. Each must give a typed error whose
//! message names the section/symbol/offset involved, never a panic, and parse with bounded
//! memory (a counting global allocator checks the peak of every parse). A few of them also go
//! through the `mmbpf` command (`inspect` and `run`): exit status 1, one error line, no panic.
//!
//! The parser's own unit tests (src/elf/tests.rs) patch single fields with private helpers;
//! this corpus works from the public API only and adds header-level corruption, memory bounds
//! and the command-line behaviour.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;

use mmbpf::btf::{Btf, BtfKind};
use mmbpf::{Error, ErrorKind};

const COUNTER: &[u8] = include_bytes!("../bpf-obj/counter.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../bpf-obj/globals.bpf.o");
const MULTI: &[u8] = include_bytes!("../bpf-obj/multi.bpf.o");
const SYSCALL: &[u8] = include_bytes!("../bpf-obj/syscall.bpf.o");

// ---------------------------------------------------------------------------------------
// A global allocator that tracks, per thread, the bytes currently allocated and their peak,
// so that one parse's peak can be measured while other tests run on other threads.

struct Counting;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(n: usize) {
    // `try_with`: the thread-locals are const-initialised without destructors, but stay
    // defensive during thread teardown.
    let _ = CURRENT.try_with(|c| {
        let now = c.get().saturating_add(n);
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn note_free(n: usize) {
    let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(n)));
}

// SAFETY: every method forwards to `System` with the same arguments; the bookkeeping touches
// only thread-local `Cell<usize>`s, which neither allocate nor unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: `ptr` was allocated by `System` with `layout` (all allocations go through
        // this wrapper).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded; `ptr`/`layout` come from this allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note_free(layout.size());
            note_alloc(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak allocation allowed for one parse of an input of at most a few KiB.
const PARSE_MEMORY_CAP: usize = 64 << 20;

/// Parse `bytes`, returning the result and the peak number of bytes allocated above what the
/// thread held before.
fn parse_measured(bytes: &[u8]) -> (Result<mmbpf::elf::ObjectSpec, Error>, usize) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = mmbpf::elf::parse(bytes);
    let peak = PEAK.with(Cell::get).saturating_sub(base);
    (r, peak)
}

// ---------------------------------------------------------------------------------------
// Raw ELF64 little-endian accessors (test code: panics on a bad offset are test bugs).

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

const SHT_NULL: u32 = 0;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;

// Section header field offsets.
const SH_TYPE: usize = 4;
const SH_OFFSET: usize = 24;
const SH_SIZE: usize = 32;
const SH_LINK: usize = 40;
const SH_INFO: usize = 44;

/// A section header of the original object.
#[derive(Clone, Debug)]
struct Shdr {
    /// File offset of the header.
    hdr: usize,
    name: String,
    offset: usize,
    size: usize,
    link: usize,
}

fn sections(b: &[u8]) -> Vec<Shdr> {
    let shoff = u64_at(b, 0x28) as usize;
    let num = u16_at(b, 0x3c) as usize;
    let strndx = u16_at(b, 0x3e) as usize;
    let str_off = u64_at(b, shoff + strndx * 64 + SH_OFFSET) as usize;
    (0..num)
        .map(|index| {
            let h = shoff + index * 64;
            let name_off = str_off + u32_at(b, h) as usize;
            let end = b[name_off..].iter().position(|c| *c == 0).unwrap();
            Shdr {
                hdr: h,
                name: String::from_utf8(b[name_off..name_off + end].to_vec()).unwrap(),
                offset: u64_at(b, h + SH_OFFSET) as usize,
                size: u64_at(b, h + SH_SIZE) as usize,
                link: u32_at(b, h + SH_LINK) as usize,
            }
        })
        .collect()
}

fn section(b: &[u8], name: &str) -> Shdr {
    sections(b)
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no section {name}"))
}

/// File offset of symbol `name`'s `Elf64_Sym`, and its index.
fn symbol(b: &[u8], name: &str) -> (usize, u32) {
    let secs = sections(b);
    let symtab = secs.iter().find(|s| s.name == ".symtab").unwrap();
    let strtab = &secs[symtab.link];
    (0..symtab.size / 24)
        .map(|i| (symtab.offset + i * 24, i as u32))
        .find(|&(e, _)| {
            let n = strtab.offset + u32_at(b, e) as usize;
            b[n..].starts_with(name.as_bytes()) && b[n + name.len()] == 0
        })
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

/// The `st_name` of symbol `name`.
fn symbol_name_off(b: &[u8], name: &str) -> u32 {
    u32_at(b, symbol(b, name).0)
}

/// Offset of `s` as a symbol name (inside the string table of .symtab).
fn elf_str(b: &[u8], s: &str) -> u32 {
    let secs = sections(b);
    let symtab = secs.iter().find(|s| s.name == ".symtab").unwrap();
    let strtab = &secs[symtab.link];
    let data = &b[strtab.offset..strtab.offset + strtab.size];
    let mut pat = s.as_bytes().to_vec();
    pat.push(0);
    data.windows(pat.len())
        .position(|w| w == pat)
        .unwrap_or_else(|| panic!("no ELF string {s}")) as u32
}

/// File offset of the `n`th `Elf64_Rel` of `rel_section`.
fn rel(b: &[u8], rel_section: &str, n: usize) -> usize {
    section(b, rel_section).offset + n * 16
}

fn btf(b: &[u8]) -> (usize, Btf) {
    let s = section(b, ".BTF");
    (
        s.offset,
        Btf::parse(&b[s.offset..s.offset + s.size]).unwrap(),
    )
}

/// File offset of BTF type `id`'s `struct btf_type`.
fn btf_type(b: &[u8], id: u32) -> usize {
    let (off, t) = btf(b);
    off + t.type_by_id(id).unwrap().offset
}

/// Id of the first BTF type of `kind` named `name`.
fn btf_id(b: &[u8], kind: BtfKind, name: &str) -> u32 {
    btf(b)
        .1
        .find_by_name(kind, name)
        .unwrap_or_else(|| panic!("no BTF {kind:?} {name}"))
}

/// Offset of `s` as a BTF name (inside the BTF string section).
fn btf_str(b: &[u8], s: &str) -> u32 {
    let sec = section(b, ".BTF");
    let data = &b[sec.offset..sec.offset + sec.size];
    let strs = &data[24 + u32_at(data, 16) as usize..][..u32_at(data, 20) as usize];
    let mut pat = s.as_bytes().to_vec();
    pat.push(0);
    strs.windows(pat.len())
        .position(|w| w == pat)
        .unwrap_or_else(|| panic!("no BTF string {s}")) as u32
}

/// For map `map` (a VAR in DATASEC .maps), the type id behind member `field` of its
/// definition struct: for `__uint(field, N)` the ARRAY, for `__type(field, T)` the T.
fn map_field_target(b: &[u8], map: &str, field: &str) -> u32 {
    let (_, t) = btf(b);
    let var = t.find_by_name(BtfKind::Var, map).unwrap();
    let def = t
        .skip_mods_and_typedefs(t.type_by_id(var).unwrap().size_or_type)
        .unwrap();
    let m = t
        .type_by_id(def)
        .unwrap()
        .members()
        .iter()
        .find(|m| t.string(m.name_off).unwrap() == field)
        .unwrap_or_else(|| panic!("map {map} has no field {field}"))
        .type_id;
    let ptr = t.type_by_id(m).unwrap();
    assert_eq!(ptr.kind, BtfKind::Ptr);
    ptr.size_or_type
}

// ---------------------------------------------------------------------------------------
// The corpus.

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    kind: ErrorKind,
    /// Substrings the error message must contain (section, symbol, offset, ...).
    needles: &'static [&'static str],
}

fn case(
    name: &'static str,
    base: &[u8],
    kind: ErrorKind,
    needles: &'static [&'static str],
    f: impl FnOnce(&mut Vec<u8>),
) -> Case {
    let mut bytes = base.to_vec();
    f(&mut bytes);
    assert_ne!(bytes, base, "{name}: the mutation changed nothing");
    Case {
        name,
        bytes,
        kind,
        needles,
    }
}

const TP: &str = "tracepoint/raw_syscalls/sys_enter";
const REL_TP: &str = ".reltracepoint/raw_syscalls/sys_enter";
const GETPID: &str = "tracepoint/syscalls/sys_enter_getpid";
const REL_GETPID: &str = ".reltracepoint/syscalls/sys_enter_getpid";

fn corpus() -> Vec<Case> {
    use ErrorKind::{Malformed, Unsupported};
    let c = COUNTER;
    let g = GLOBALS;
    let m = MULTI;
    let mut v = Vec::new();

    // --- ELF header and section headers -------------------------------------------------
    v.push(case(
        "e_shoff past the end of the file",
        c,
        Malformed,
        &["ELF header"],
        |b| put64(b, 0x28, 0x10_0000),
    ));
    v.push(case(
        "e_shnum larger than the file",
        c,
        Malformed,
        &["ELF header"],
        |b| put16(b, 0x3c, 0xfff0),
    ));
    v.push(case("e_shstrndx out of range", c, Malformed, &[], |b| {
        put16(b, 0x3e, 200)
    }));
    v.push(case(
        ".BTF sh_offset past the end of the file",
        c,
        Malformed,
        &["\".BTF\"", "outside the file"],
        |b| {
            let h = section(c, ".BTF").hdr;
            put64(b, h + SH_OFFSET, 0x7fff_ffff_0000)
        },
    ));
    v.push(case(
        "program section sh_size of 2^63",
        c,
        Malformed,
        &[TP, "outside the file"],
        |b| {
            let h = section(c, TP).hdr;
            put64(b, h + SH_SIZE, 1 << 63)
        },
    ));
    v.push(case(
        ".data sh_size larger than the file",
        g,
        Malformed,
        &["\".data\"", "outside the file"],
        |b| {
            let h = section(g, ".data").hdr;
            put64(b, h + SH_SIZE, 0xffff_ffff)
        },
    ));
    v.push(case(
        ".bss (NOBITS) of 4 GiB: no allocation, refused",
        g,
        Malformed,
        &["\".bss\"", "32 bits"],
        |b| {
            let h = section(g, ".bss").hdr;
            put64(b, h + SH_SIZE, 1 << 32)
        },
    ));
    v.push(case(
        ".bss (NOBITS) just under 4 GiB: above the array map limit",
        g,
        Malformed,
        &["\".bss\"", "array map limit"],
        |b| {
            let h = section(g, ".bss").hdr;
            put64(b, h + SH_SIZE, 0xffff_0000)
        },
    ));
    v.push(case(
        ".symtab sh_link to a section that does not exist",
        c,
        Malformed,
        &[],
        |b| {
            let h = section(c, ".symtab").hdr;
            put32(b, h + SH_LINK, 99)
        },
    ));
    v.push(case(
        "rel section sh_info to a section that does not exist",
        c,
        Malformed,
        &["sh_info", "relocation section"],
        |b| {
            let h = section(c, REL_TP).hdr;
            put32(b, h + SH_INFO, 99)
        },
    ));
    v.push(case(
        "rel section sh_type RELA",
        c,
        Unsupported,
        &[REL_TP, "RELA"],
        |b| {
            let h = section(c, REL_TP).hdr;
            put32(b, h + SH_TYPE, SHT_RELA)
        },
    ));
    v.push(case(
        "program section sh_type NOBITS (code becomes data)",
        c,
        Unsupported,
        &[TP, "offset 0x10", "target_tgid", "data sections"],
        |b| {
            let h = section(c, TP).hdr;
            put32(b, h + SH_TYPE, SHT_NOBITS)
        },
    ));
    v.push(case(
        "section name offset outside .shstrtab",
        c,
        Malformed,
        &["section", "name"],
        |b| {
            let h = section(c, ".BTF").hdr;
            put32(b, h, 0xffff_0000)
        },
    ));

    // --- Relocations --------------------------------------------------------------------
    v.push(case(
        "relocation offset u64::MAX",
        c,
        Malformed,
        &[TP, "target_tgid", "outside the section"],
        |b| put64(b, rel(c, REL_TP, 0), !7u64),
    ));
    v.push(case(
        "map relocation on the wrong instruction",
        c,
        Malformed,
        &[TP, "offset 0x8", "counts", "expected ld_imm64"],
        |b| put64(b, rel(c, REL_TP, 1), 0x8),
    ));
    v.push(case(
        "relocation on the second slot of an ld_imm64",
        c,
        Malformed,
        &[TP, "offset 0x78", "counts"],
        |b| put64(b, rel(c, REL_TP, 1), 0x78),
    ));
    v.push(case(
        "relocation symbol index out of the symbol table",
        c,
        Malformed,
        &[TP, "offset 0xa8", "symbol index 65535"],
        |b| put32(b, rel(c, REL_TP, 2) + 12, 0xffff),
    ));
    v.push(case(
        "call relocation against a variable",
        g,
        Malformed,
        &[GETPID, "offset 0x80", "in_val"],
        |b| {
            // 0x80 is `call mix` (relocation #3); point it at `in_val` in .bss.
            let (_, in_val) = symbol(g, "in_val");
            put32(b, rel(g, REL_GETPID, 3) + 12, in_val)
        },
    ));
    v.push(case(
        "map relocation against a function",
        g,
        Unsupported,
        &[GETPID, "offset 0x48", "mix"],
        |b| {
            // 0x48 loads in_val; make it load the function `mix`.
            let (_, mix) = symbol(g, "mix");
            put32(b, rel(g, REL_GETPID, 1) + 12, mix)
        },
    ));

    // --- Symbols ------------------------------------------------------------------------
    v.push(case(
        "variable symbol past the end of .bss",
        c,
        Malformed,
        &["\".bss\"", "total"],
        |b| put64(b, symbol(c, "total").0 + 8, 0x1000),
    ));
    v.push(case(
        "variable symbol size past the end of .rodata",
        g,
        Malformed,
        &["\".rodata\"", "scale"],
        |b| put64(b, symbol(g, "scale").0 + 16, 0x1_0000_0000),
    ));
    v.push(case(
        "program symbol larger than its section",
        c,
        Malformed,
        &[TP, "count_syscalls", "outside the section"],
        |b| put64(b, symbol(c, "count_syscalls").0 + 16, 0x10_0000),
    ));
    v.push(case(
        "program symbol in a section that does not exist",
        c,
        Malformed,
        &["count_syscalls", "section 999"],
        |b| put16(b, symbol(c, "count_syscalls").0 + 6, 999),
    ));
    v.push(case(
        "symbol name outside .strtab",
        c,
        Malformed,
        &["symbol", "name"],
        |b| put32(b, symbol(c, "total").0, 0x7fff_0000),
    ));
    v.push(case(
        "two functions overlapping",
        m,
        Malformed,
        &["\"socket\"", "socket_count", "socket_drop", "overlap"],
        |b| {
            // socket_count is 17 instructions at 0; make it 18 so it runs into socket_drop.
            put64(b, symbol(m, "socket_count").0 + 16, 18 * 8)
        },
    ));

    // --- BTF ----------------------------------------------------------------------------
    v.push(case(
        "BTF typedef cycle __u32 -> __u64 -> __u32",
        c,
        Malformed,
        &["cycle", "counts"],
        |b| {
            let (u32_id, u64_id) = (
                btf_id(c, BtfKind::Typedef, "__u32"),
                btf_id(c, BtfKind::Typedef, "__u64"),
            );
            put32(b, btf_type(c, u32_id) + 8, u64_id);
            put32(b, btf_type(c, u64_id) + 8, u32_id);
        },
    ));
    v.push(case(
        "BTF ARRAY whose element type is itself, as a map value",
        c,
        Malformed,
        &["counts", "value", "cycle"],
        |b| {
            // __u64 (the value type) -> the map_flags ARRAY, made an array of 1 of itself.
            let u64_id = btf_id(c, BtfKind::Typedef, "__u64");
            let arr = map_field_target(c, "counts", "map_flags");
            put32(b, btf_type(c, u64_id) + 8, arr);
            put32(b, btf_type(c, arr) + 12, arr);
            put32(b, btf_type(c, arr) + 12 + 8, 1);
        },
    ));
    v.push(case(
        "BTF PTR to itself as __uint(type)",
        c,
        Malformed,
        &["counts", "field \"type\"", "pointer to PTR"],
        |b| {
            let (_, t) = btf(c);
            let var = t.find_by_name(BtfKind::Var, "counts").unwrap();
            let def = t.type_by_id(var).unwrap().size_or_type;
            let member = t.type_by_id(def).unwrap().members()[0];
            assert_eq!(t.string(member.name_off).unwrap(), "type");
            put32(b, btf_type(c, member.type_id) + 8, member.type_id);
        },
    ));
    v.push(case(
        "BTF DATASEC .maps refers to a type id that does not exist",
        c,
        Malformed,
        &[".BTF", "type id 1000000"],
        |b| {
            let ds = btf_id(c, BtfKind::Datasec, ".maps");
            put32(b, btf_type(c, ds) + 12, 1_000_000)
        },
    ));
    v.push(case(
        "BTF DATASEC .maps lists a non-VAR",
        c,
        Malformed,
        &[".maps"],
        |b| {
            let ds = btf_id(c, BtfKind::Datasec, ".maps");
            let u32_id = btf_id(c, BtfKind::Typedef, "__u32");
            put32(b, btf_type(c, ds) + 12, u32_id)
        },
    ));
    v.push(case(
        "ARRAY nelems 0xffffffff as __uint(max_entries)",
        c,
        Malformed,
        &["counts", "max_entries 4294967295"],
        |b| {
            let arr = map_field_target(c, "counts", "max_entries");
            put32(b, btf_type(c, arr) + 12 + 8, u32::MAX)
        },
    ));
    v.push(case(
        "value_size x max_entries overflow (struct value of 2^31 bytes)",
        m,
        Malformed,
        &["stats", "overflows"],
        |b| {
            let triple = btf_id(m, BtfKind::Struct, "triple");
            put32(b, btf_type(m, triple) + 8, 0x8000_0000)
        },
    ));
    v.push(case(
        "value type an ARRAY of 2^32-1 u64s: size overflows 32 bits",
        c,
        Malformed,
        &["counts", "value", "overflow"],
        |b| {
            // Make __u64 (the value type) a typedef of the max_entries ARRAY, whose element type is
            // an int; then give that ARRAY 0xffffffff elements.
            let u64_id = btf_id(c, BtfKind::Typedef, "__u64");
            let arr = map_field_target(c, "counts", "map_flags");
            put32(b, btf_type(c, u64_id) + 8, arr);
            put32(b, btf_type(c, arr) + 12 + 8, u32::MAX);
        },
    ));
    v.push(case(
        "BTF STRUCT with vlen 0xffff (786 KB of members claimed)",
        m,
        Malformed,
        &[".BTF", "vlen 65535"],
        |b| {
            let triple = btf_id(m, BtfKind::Struct, "triple");
            let t = btf_type(m, triple) + 4;
            let info = u32_at(b, t);
            put32(b, t, (info & 0xffff_0000) | 0xffff)
        },
    ));
    v.push(case(
        "BTF header: string length 4 GiB",
        c,
        Malformed,
        &[".BTF", "string section"],
        |b| {
            let s = section(c, ".BTF").offset;
            put32(b, s + 20, u32::MAX)
        },
    ));
    v.push(case(
        "BTF header: type length 4 GiB",
        c,
        Malformed,
        &[".BTF", "type section"],
        |b| {
            let s = section(c, ".BTF").offset;
            put32(b, s + 12, u32::MAX)
        },
    ));
    v.push(case(
        "BTF big-endian magic",
        c,
        Unsupported,
        &[".BTF", "big-endian"],
        |b| {
            let s = section(c, ".BTF").offset;
            b[s] = 0xeb;
            b[s + 1] = 0x9f;
        },
    ));
    v.push(case(
        "BTF name offset outside the string section",
        c,
        Malformed,
        &[".BTF", "name offset"],
        |b| {
            let var = btf_id(c, BtfKind::Var, "counts");
            put32(b, btf_type(c, var), 0x00ff_ffff)
        },
    ));
    v.push(case(
        ".BTF.ext func_info with 2^32-1 records",
        g,
        Malformed,
        &[".BTF.ext", "func_info", "4294967295 records"],
        |b| {
            // func_info starts after the 32-byte header: rec_size, then the first section's
            // (name_off, num_info).
            let ext = section(g, ".BTF.ext").offset;
            let fi = ext + 32 + u32_at(g, ext + 8) as usize;
            put32(b, fi + 8, u32::MAX)
        },
    ));
    v.push(case(
        ".BTF.ext line_info insn_off not on an instruction",
        g,
        Malformed,
        &[".BTF.ext", "line_info", "multiple of 8"],
        |b| {
            let ext = section(g, ".BTF.ext").offset;
            let li = ext + 32 + u32_at(g, ext + 16) as usize;
            // rec_size, name_off, num_info, then the first record's insn_off.
            put32(b, li + 12, 3)
        },
    ));
    v.push(case(
        "map definition that is not a struct",
        c,
        Malformed,
        &["\".maps\"", "counts", "expected a struct"],
        |b| {
            let var = btf_id(c, BtfKind::Var, "counts");
            let u32_id = btf_id(c, BtfKind::Typedef, "__u32");
            put32(b, btf_type(c, var) + 8, u32_id)
        },
    ));
    v.push(case(
        "map definition with an unknown field",
        c,
        Unsupported,
        &["counts", "unknown map definition field \"typf\""],
        |b| {
            let at =
                section(c, ".BTF").offset + 24 + u32_at(c, section(c, ".BTF").offset + 16) as usize;
            let s = at + btf_str(c, "type") as usize;
            // Only the member name "type" is affected if the string is not shared; check.
            b[s + 3] = b'f';
        },
    ));

    // --- Names --------------------------------------------------------------------------
    v.push(case(
        "duplicate program names",
        m,
        Malformed,
        &["duplicate program name \"socket_count\"", "socket"],
        |b| {
            let name = symbol_name_off(m, "socket_count");
            put32(b, symbol(m, "socket_drop").0, name)
        },
    ));
    v.push(case(
        "duplicate map names (a BTF map named .rodata)",
        c,
        Malformed,
        &["duplicate map name \".rodata\""],
        |b| {
            let var = btf_id(c, BtfKind::Var, "counts");
            put32(b, btf_type(c, var), btf_str(c, ".rodata"));
            // The ELF symbol must follow (the BTF VAR's offset comes from it).
            let name = elf_str(c, ".rodata");
            put32(b, symbol(c, "counts").0, name)
        },
    ));

    // --- License, BTF presence, legacy --------------------------------------------------
    v.push(case(
        "absent license (section type NULL)",
        c,
        Malformed,
        &["missing section \"license\""],
        |b| {
            let h = section(c, "license").hdr;
            put32(b, h + SH_TYPE, SHT_NULL)
        },
    ));
    v.push(case(
        "license not UTF-8",
        c,
        Malformed,
        &["\"license\"", "UTF-8"],
        |b| {
            let s = section(c, "license").offset;
            b[s] = 0xff
        },
    ));
    v.push(case(
        ".maps in an object without BTF",
        c,
        Unsupported,
        &["\".maps\"", "no .BTF section"],
        |b| {
            let h = section(c, ".BTF").hdr;
            put32(b, h + SH_TYPE, SHT_NULL)
        },
    ));
    v.push(case(
        "program section with code but no function symbol",
        SYSCALL,
        Malformed,
        &["\"syscall\"", "no function symbol"],
        |b| {
            // Make add_ctx a data object: its section keeps its code but has no function.
            let (s, _) = symbol(SYSCALL, "add_ctx");
            b[s + 4] = (b[s + 4] & 0xf0) | 1; // STT_OBJECT
        },
    ));
    v.push(case(
        "not BPF: e_machine x86-64",
        c,
        Unsupported,
        &["not BPF"],
        |b| put16(b, 0x12, 62),
    ));

    v
}

/// Truncations of every object at many offsets: the ELF header, the section header table
/// (usually at the end of the file), inside every section, one byte short.
fn truncations() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, obj) in [
        ("counter", COUNTER),
        ("globals", GLOBALS),
        ("multi", MULTI),
        ("syscall", SYSCALL),
    ] {
        let mut cuts: Vec<usize> = vec![
            0,
            1,
            4,
            16,
            63,
            64,
            obj.len() - 1,
            obj.len() - 64,
            obj.len() / 2,
        ];
        for s in sections(obj) {
            cuts.push(s.hdr);
            cuts.push(s.hdr + 30);
            cuts.push(s.offset + s.size / 2);
        }
        cuts.extend((0..obj.len()).step_by(97));
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts.into_iter().filter(|c| *c < obj.len()) {
            out.push((format!("{name} cut at {cut}"), obj[..cut].to_vec()));
        }
    }
    out
}

#[test]
fn every_malformed_object_gives_a_typed_error_with_bounded_memory() {
    let corpus = corpus();
    assert!(corpus.len() >= 30, "{} cases", corpus.len());
    let mut failures = Vec::new();
    for c in &corpus {
        let (r, peak) = parse_measured(&c.bytes);
        let e = match r {
            Ok(_) => {
                failures.push(format!("{}: parsed successfully", c.name));
                continue;
            }
            Err(e) => e,
        };
        if e.kind() != c.kind {
            failures.push(format!(
                "{}: kind {:?}, expected {:?}: {e}",
                c.name,
                e.kind(),
                c.kind
            ));
        }
        for n in c.needles {
            if !e.message().contains(n) {
                failures.push(format!("{}: {n:?} not in {e}", c.name));
            }
        }
        if e.to_string().contains('\n') {
            failures.push(format!("{}: multi-line message: {e}", c.name));
        }
        if peak > PARSE_MEMORY_CAP {
            failures.push(format!("{}: peak allocation {peak} bytes", c.name));
        }
        eprintln!("{:<72} {:>8} B  {e}", c.name, peak);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn truncated_objects_give_malformed_errors_with_bounded_memory() {
    let cases = truncations();
    assert!(cases.len() > 100, "{}", cases.len());
    for (name, bytes) in &cases {
        let (r, peak) = parse_measured(bytes);
        let e = r
            .err()
            .unwrap_or_else(|| panic!("{name}: parsed successfully"));
        assert_eq!(e.kind(), ErrorKind::Malformed, "{name}: {e}");
        assert!(peak <= PARSE_MEMORY_CAP, "{name}: peak {peak}");
    }
}

#[test]
fn the_committed_objects_parse_within_the_memory_cap() {
    for obj in [COUNTER, GLOBALS, MULTI, SYSCALL] {
        let (r, peak) = parse_measured(obj);
        r.unwrap();
        assert!(peak > 0 && peak <= PARSE_MEMORY_CAP, "peak {peak}");
    }
}

#[test]
fn the_allocator_measures_peaks() {
    let (_, before) = parse_measured(b"");
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let v = vec![0u8; 1 << 20];
    drop(v);
    assert!(PEAK.with(Cell::get) - base >= 1 << 20);
    assert!(before < 1 << 20);
}

// ---------------------------------------------------------------------------------------
// The command line on malformed objects.

fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let p = std::env::temp_dir().join(format!(
        "mmbpf-malformed-{}-{slug}.bpf.o",
        std::process::id()
    ));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn the_command_reports_one_error_line_and_exits_1() {
    let exe = env!("CARGO_BIN_EXE_mmbpf");
    let wanted = [
        "e_shoff past the end of the file",
        ".BTF sh_offset past the end of the file",
        "relocation offset u64::MAX",
        "BTF typedef cycle __u32 -> __u64 -> __u32",
        "ARRAY nelems 0xffffffff as __uint(max_entries)",
        "duplicate program names",
        "absent license (section type NULL)",
        ".maps in an object without BTF",
    ];
    let corpus = corpus();
    let mut failures = Vec::new();
    for name in wanted {
        let c = corpus.iter().find(|c| c.name == name).unwrap();
        let path = write_temp(name, &c.bytes);
        for cmd in ["inspect", "run"] {
            let out = Command::new(exe).arg(cmd).arg(&path).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            let what = format!("mmbpf {cmd} ({name})");
            if out.status.code() != Some(1) {
                failures.push(format!(
                    "{what}: exit status {:?}, stderr {stderr:?}",
                    out.status
                ));
            }
            if lines.len() != 1 {
                failures.push(format!("{what}: {} stderr lines: {stderr:?}", lines.len()));
            }
            if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
                failures.push(format!("{what}: panic: {stderr:?}"));
            }
            if !stderr.starts_with("mmbpf: ") {
                failures.push(format!(
                    "{what}: stderr does not start with \"mmbpf: \": {stderr:?}"
                ));
            }
            if !out.stdout.is_empty() {
                failures.push(format!(
                    "{what}: printed on stdout: {:?}",
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
