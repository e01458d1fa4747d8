//! Parser tests on the committed objects in bpf-obj/ (expected values cross-checked with
//! `llvm-objdump-19 -d -r`, `llvm-readelf-19 -s -r -S` and `bpftool btf dump file`), and on
//! broken copies of them made by patching bytes.

use super::*;
use crate::btf::BtfKind;
use crate::error::ErrorKind;

const COUNTER: &[u8] = include_bytes!("../../bpf-obj/counter.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../../bpf-obj/globals.bpf.o");
const MULTI: &[u8] = include_bytes!("../../bpf-obj/multi.bpf.o");
const SYSCALL: &[u8] = include_bytes!("../../bpf-obj/syscall.bpf.o");

// ---------------------------------------------------------------------------------------
// Raw ELF helpers for patching (test code: panics are fine here).

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

#[derive(Debug)]
struct Shdr {
    /// File offset of the section header itself.
    hdr: usize,
    name: String,
    name_off: usize,
    offset: usize,
    size: usize,
}

fn sections(b: &[u8]) -> Vec<Shdr> {
    let shoff = u64_at(b, 0x28) as usize;
    let num = u16_at(b, 0x3c) as usize;
    let strndx = u16_at(b, 0x3e) as usize;
    let str_off = u64_at(b, shoff + strndx * 64 + 24) as usize;
    (0..num)
        .map(|i| {
            let h = shoff + i * 64;
            let name_off = str_off + u32_at(b, h) as usize;
            let end = b[name_off..].iter().position(|c| *c == 0).unwrap();
            Shdr {
                hdr: h,
                name: String::from_utf8(b[name_off..name_off + end].to_vec()).unwrap(),
                name_off,
                offset: u64_at(b, h + 24) as usize,
                size: u64_at(b, h + 32) as usize,
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

/// File offset of symbol `name`'s entry in .symtab.
fn symbol(b: &[u8], name: &str) -> usize {
    let secs = sections(b);
    let symtab = secs.iter().find(|s| s.name == ".symtab").unwrap();
    let strtab = &secs[u32_at(b, symtab.hdr + 40) as usize];
    (0..symtab.size / 24)
        .map(|i| symtab.offset + i * 24)
        .find(|&e| {
            let n = strtab.offset + u32_at(b, e) as usize;
            b[n..].starts_with(name.as_bytes()) && b[n + name.len()] == 0
        })
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

/// File offset of the `n`th relocation entry of `rel_section`.
fn rel(b: &[u8], rel_section: &str, n: usize) -> usize {
    section(b, rel_section).offset + n * 16
}

/// File offset of instruction `i` of section `sec`.
fn insn(b: &[u8], sec: &str, i: usize) -> usize {
    section(b, sec).offset + i * 8
}

/// File offset of BTF type `id`'s header.
fn btf_type(b: &[u8], id: u32) -> usize {
    let sec = section(b, ".BTF");
    let btf = Btf::parse(&b[sec.offset..sec.offset + sec.size]).unwrap();
    sec.offset + btf.type_by_id(id).unwrap().offset
}

/// File offset of `s` (NUL-terminated) inside the .BTF string section, as a BTF name offset.
fn btf_str(b: &[u8], s: &str) -> u32 {
    let sec = section(b, ".BTF");
    let data = &b[sec.offset..sec.offset + sec.size];
    let str_off = 24 + u32_at(data, 16) as usize;
    let strs = &data[str_off..];
    let mut pat = s.as_bytes().to_vec();
    pat.push(0);
    let pos = strs.windows(pat.len()).position(|w| w == pat).unwrap();
    pos as u32
}

fn err(b: &[u8]) -> Error {
    match parse(b) {
        Ok(_) => panic!("parse succeeded"),
        Err(e) => e,
    }
}

fn assert_err(b: &[u8], kind: ErrorKind, needles: &[&str]) {
    let e = err(b);
    assert_eq!(e.kind(), kind, "{e}");
    for n in needles {
        assert!(e.message().contains(n), "{n:?} not in {e}");
    }
}

// ---------------------------------------------------------------------------------------
// The committed objects.

fn value(offset: u32) -> MapRelocKind {
    MapRelocKind::Value { offset }
}

fn relocs(p: &ProgramSpec) -> Vec<(usize, usize, MapRelocKind)> {
    p.map_relocs
        .iter()
        .map(|r| (r.insn, r.map, r.kind))
        .collect()
}

fn globals(s: &ObjectSpec) -> Vec<(&str, &str, usize, u32, u32, bool)> {
    s.globals
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.section.as_str(),
                g.map,
                g.offset,
                g.size,
                g.is_static,
            )
        })
        .collect()
}

/// The loader-facing invariants of every linked program.
fn check_program_invariants(s: &ObjectSpec) {
    for p in &s.programs {
        for r in &p.map_relocs {
            let i = p.insns[r.insn];
            assert_eq!(i.code, abi::BPF_LD_IMM64, "{}: insn {}", p.name, r.insn);
            assert_eq!(i.imm, 0);
            match r.kind {
                MapRelocKind::Fd => {
                    assert_eq!(i.src_reg(), abi::BPF_PSEUDO_MAP_FD);
                    assert_eq!(s.maps[r.map].origin, MapOrigin::User);
                }
                MapRelocKind::Value { offset } => {
                    assert_eq!(i.src_reg(), abi::BPF_PSEUDO_MAP_VALUE);
                    assert_eq!(p.insns[r.insn + 1].imm as u32, offset);
                    assert!(offset < s.maps[r.map].value_size);
                }
            }
        }
        // Every pseudo call lands on the first instruction of the program or a subprogram.
        let starts: Vec<usize> = core::iter::once(0)
            .chain(p.subprograms.iter().map(|(_, b)| *b))
            .collect();
        for (i, insn) in p.insns.iter().enumerate() {
            if insn.code == abi::BPF_CALL_INSN && insn.src_reg() == abi::BPF_PSEUDO_CALL {
                let t = i as i64 + 1 + i64::from(insn.imm);
                assert!(
                    starts.contains(&(t as usize)),
                    "{}: call at {i} -> {t}",
                    p.name
                );
            }
        }
        // func_info: one record per function, at its start, FUNC type ids.
        if let Some(btf) = &s.btf {
            assert_eq!(p.func_info_rec_size, 8);
            assert_eq!(p.line_info_rec_size, 16);
            let fi: Vec<(u32, u32)> = p
                .func_info
                .chunks_exact(8)
                .map(|r| (u32_at(r, 0), u32_at(r, 4)))
                .collect();
            assert_eq!(fi.len(), starts.len(), "{}", p.name);
            for ((off, tid), start) in fi.iter().zip(&starts) {
                assert_eq!(*off as usize, *start);
                assert_eq!(btf.types.type_by_id(*tid).unwrap().kind, BtfKind::Func);
            }
            assert_eq!(btf.types.type_name(fi[0].1).unwrap(), p.name);
            for ((name, _), (_, tid)) in p.subprograms.iter().zip(&fi[1..]) {
                assert_eq!(btf.types.type_name(*tid).unwrap(), name);
            }
            let li: Vec<u32> = p.line_info.chunks_exact(16).map(|r| u32_at(r, 0)).collect();
            assert_eq!(li[0], 0);
            // The kernel wants strictly increasing line_info offsets.
            assert!(li.windows(2).all(|w| w[0] < w[1]), "{}: {li:?}", p.name);
            assert!(li.iter().all(|o| (*o as usize) < p.insns.len()));
            for s in &starts {
                assert!(li.contains(&(*s as u32)), "{}: no line info at {s}", p.name);
            }
        }
    }
}

#[test]
fn counter_object() {
    let s = parse(COUNTER).unwrap();
    assert_eq!(s.license, "GPL");
    assert_eq!(s.kern_version, 0);
    let names: Vec<&str> = s.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["counts", ".rodata", ".bss"]);
    let counts = &s.maps[0];
    assert_eq!(counts.map_type, MapType::ARRAY);
    assert_eq!(
        (counts.key_size, counts.value_size, counts.max_entries),
        (4, 8, 1024)
    );
    assert_eq!(counts.flags, MapFlags::MMAPABLE);
    assert_eq!(counts.origin, MapOrigin::User);
    let btf = &s.btf.as_ref().unwrap().types;
    assert_eq!(btf.type_name(counts.btf_key_type_id).unwrap(), "__u32");
    assert_eq!(btf.type_name(counts.btf_value_type_id).unwrap(), "__u64");
    let rodata = &s.maps[1];
    assert_eq!(rodata.origin, MapOrigin::GlobalData(GlobalDataKind::Rodata));
    assert_eq!(
        (rodata.key_size, rodata.value_size, rodata.max_entries),
        (4, 4, 1)
    );
    assert_eq!(rodata.flags, MapFlags::MMAPABLE | MapFlags::RDONLY_PROG);
    assert_eq!(rodata.initial_value, [0; 4]);
    assert_eq!(btf.type_name(rodata.btf_value_type_id).unwrap(), ".rodata");
    let bss = &s.maps[2];
    assert_eq!(bss.origin, MapOrigin::GlobalData(GlobalDataKind::Bss));
    assert_eq!((bss.value_size, bss.flags), (8, MapFlags::MMAPABLE));
    assert!(bss.initial_value.is_empty());

    assert_eq!(s.programs.len(), 1);
    let p = &s.programs[0];
    assert_eq!(p.name, "count_syscalls");
    assert_eq!(p.section, "tracepoint/raw_syscalls/sys_enter");
    assert_eq!(
        p.kind,
        ProgramKind::Tracepoint {
            category: "raw_syscalls".into(),
            name: "sys_enter".into()
        }
    );
    assert_eq!(p.kind.prog_type(), abi::BPF_PROG_TYPE_TRACEPOINT);
    assert_eq!(p.insns.len(), 26);
    assert!(p.subprograms.is_empty());
    // 0x10 target_tgid, 0x70 counts, 0xa8 total.
    assert_eq!(
        relocs(p),
        [
            (2, 1, value(0)),
            (14, 0, MapRelocKind::Fd),
            (21, 2, value(0))
        ]
    );
    assert_eq!((p.func_info_count(), p.line_info_count()), (1, 15));
    assert_eq!(
        globals(&s),
        [
            ("target_tgid", ".rodata", 1, 0, 4, false),
            ("total", ".bss", 2, 0, 8, false)
        ]
    );
    let g = s.global("target_tgid").unwrap();
    assert_eq!(
        btf.type_display(g.btf_type_id).unwrap(),
        "const volatile __u32"
    );
    assert_eq!(btf.resolve_size(g.btf_var_id).unwrap(), 4);
    check_program_invariants(&s);
}

#[test]
fn globals_object_links_subprograms() {
    let s = parse(GLOBALS).unwrap();
    let names: Vec<&str> = s.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [".rodata", ".bss", ".data", ".data.custom", ".rodata.str1.1"]
    );
    let sizes: Vec<u32> = s.maps.iter().map(|m| m.value_size).collect();
    assert_eq!(sizes, [44, 56, 16, 8, 26]);
    assert_eq!(
        s.maps[2].initial_value,
        [0xe8, 3, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(s.maps[3].initial_value, [7, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&s.maps[0].initial_value[8..16], &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        &s.maps[4].initial_value[..],
        b"mmbpf globals: prev=%llu\n\0"
    );
    assert_eq!(s.maps[4].flags, MapFlags::MMAPABLE | MapFlags::RDONLY_PROG);
    assert_eq!(
        s.maps[4].btf_value_type_id, 0,
        ".rodata.str1.1 has no DATASEC"
    );
    assert_eq!(
        s.maps[3].origin,
        MapOrigin::GlobalData(GlobalDataKind::Data)
    );
    assert!(s.maps.iter().all(|m| m.validate().is_ok()));

    assert_eq!(s.programs.len(), 1);
    let p = &s.programs[0];
    assert_eq!(p.name, "on_getpid");
    assert_eq!(
        p.kind.attach_point().as_deref(),
        Some("syscalls/sys_enter_getpid")
    );
    // 41 own instructions, then mix (9) at 41, then swap_prev (19) at 50.
    assert_eq!(p.insns.len(), 41 + 9 + 19);
    assert_eq!(
        p.subprograms,
        [("mix".to_string(), 41), ("swap_prev".to_string(), 50)]
    );
    // call mix at insn 16 (relocated against `mix`, imm -1), call swap_prev at insn 21
    // (relocated against the .text section symbol, imm 8).
    assert_eq!(p.insns[16].code, abi::BPF_CALL_INSN);
    assert_eq!(p.insns[16].imm, 41 - 17);
    assert_eq!(p.insns[21].imm, 50 - 22);
    // The subprograms are the .text bytes.
    let text = section(GLOBALS, ".text");
    assert_eq!(p.insns[41].code, GLOBALS[text.offset]);
    assert_eq!(p.insns[68].code, abi::BPF_EXIT | abi::BPF_JMP);
    assert_eq!(
        relocs(p),
        [
            (1, 0, value(0)),   // target_tid
            (9, 1, value(0)),   // in_val
            (12, 1, value(8)),  // out_val
            (17, 1, value(16)), // out_mix
            (22, 1, value(24)), // out_prev
            (25, 2, value(0)),  // data_counter
            (31, 1, value(40)), // hits
            (34, 0, value(16)), // .rodata + 16: on_getpid.____fmt
            (41, 0, value(8)),  // mix: scale
            (45, 3, value(0)),  // mix: custom_add
            (50, 2, value(8)),  // swap_prev: .data + 8 (static_prev)
            (54, 1, value(48)), // swap_prev: .bss + 0x30 (static_sum)
            (59, 1, value(32)), // swap_prev: out_sum
            (62, 4, value(0)),  // swap_prev: .rodata.str1.1
        ]
    );
    assert_eq!((p.func_info_count(), p.line_info_count()), (3, 27));
    assert_eq!(
        globals(&s),
        [
            ("target_tid", ".rodata", 0, 0, 4, false),
            ("scale", ".rodata", 0, 8, 8, false),
            ("on_getpid.____fmt", ".rodata", 0, 16, 28, true),
            ("in_val", ".bss", 1, 0, 8, false),
            ("out_val", ".bss", 1, 8, 8, false),
            ("out_mix", ".bss", 1, 16, 8, false),
            ("out_prev", ".bss", 1, 24, 8, false),
            ("out_sum", ".bss", 1, 32, 8, false),
            ("hits", ".bss", 1, 40, 8, false),
            ("static_sum", ".bss", 1, 48, 8, true),
            ("data_counter", ".data", 2, 0, 4, false),
            ("static_prev", ".data", 2, 8, 8, true),
            ("custom_add", ".data.custom", 3, 0, 8, false),
        ]
    );
    let btf = &s.btf.as_ref().unwrap().types;
    let fmt = s.global("on_getpid.____fmt").unwrap();
    assert_eq!(btf.type_display(fmt.btf_type_id).unwrap(), "const char[28]");
    assert_eq!(
        btf.type_display(s.global("scale").unwrap().btf_type_id)
            .unwrap(),
        "const volatile __u64"
    );
    assert_eq!(s.global("in_val").unwrap().kind, GlobalDataKind::Bss);
    check_program_invariants(&s);
}

#[test]
fn btf_is_fixed_up_for_loading() {
    let s = parse(GLOBALS).unwrap();
    let ob = s.btf.as_ref().unwrap();
    // The bytes decode to exactly the fixed-up types.
    assert_eq!(Btf::parse(&ob.bytes).unwrap(), ob.types);
    let ds = |name: &str| {
        let (_, t) = ob.types.datasec(name).unwrap();
        (
            t.size_or_type,
            t.secinfos()
                .iter()
                .map(|v| (v.offset, v.size))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        ds(".bss"),
        (
            56,
            alloc::vec![(0, 8), (8, 8), (16, 8), (24, 8), (32, 8), (40, 8), (48, 8)]
        )
    );
    assert_eq!(ds(".data"), (16, alloc::vec![(0, 4), (8, 8)]));
    assert_eq!(ds(".data.custom"), (8, alloc::vec![(0, 8)]));
    assert_eq!(ds(".rodata"), (44, alloc::vec![(0, 4), (8, 8), (16, 28)]));
    assert_eq!(ds("license"), (4, alloc::vec![(0, 4)]));
    // Only DATASEC sizes and offsets changed.
    let sec = section(GLOBALS, ".BTF");
    let orig = &GLOBALS[sec.offset..sec.offset + sec.size];
    assert_eq!(orig.len(), ob.bytes.len());
    let before = Btf::parse(orig).unwrap();
    for (id, t) in before.types() {
        if t.kind != BtfKind::Datasec {
            assert_eq!(
                &orig[t.offset..t.offset + 12],
                &ob.bytes[t.offset..t.offset + 12],
                "type {id}"
            );
        }
    }
    let c = parse(COUNTER).unwrap();
    let (_, maps) = c.btf.as_ref().unwrap().types.datasec(".maps").unwrap();
    assert_eq!(maps.size(), Some(40));
}

#[test]
fn multi_object_splits_a_section_into_programs() {
    let s = parse(MULTI).unwrap();
    assert_eq!(s.maps.len(), 2);
    let stats = &s.maps[0];
    assert_eq!(stats.name, "stats");
    assert_eq!(
        (stats.key_size, stats.value_size, stats.max_entries),
        (4, 12, 4)
    );
    assert_eq!(stats.flags, MapFlags::MMAPABLE);
    let btf = &s.btf.as_ref().unwrap().types;
    assert_eq!(
        btf.type_display(stats.btf_value_type_id).unwrap(),
        "struct triple"
    );
    assert_eq!(
        (s.maps[1].name.as_str(), s.maps[1].value_size),
        (".rodata", 16)
    );
    assert_eq!(&s.maps[1].initial_value[8..], &[0xff; 8]);
    let progs: Vec<(&str, &str, usize)> = s
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.section.as_str(), p.insns.len()))
        .collect();
    assert_eq!(
        progs,
        [
            ("socket_count", "socket", 17),
            ("socket_drop", "socket", 17),
            ("on_getppid", "tracepoint/syscalls/sys_enter_getppid", 26),
            ("on_sys_enter", "raw_tracepoint/sys_enter", 32),
        ]
    );
    assert_eq!(s.programs[0].kind, ProgramKind::SocketFilter);
    assert_eq!(
        s.programs[3].kind,
        ProgramKind::RawTracepoint {
            name: "sys_enter".into()
        }
    );
    assert_eq!(
        s.programs[3].kind.prog_type(),
        abi::BPF_PROG_TYPE_RAW_TRACEPOINT
    );
    // socket_drop starts at 0x88 in the section; its stats reloc at 0xb0 is its insn 5.
    assert_eq!(relocs(&s.programs[0]), [(5, 0, MapRelocKind::Fd)]);
    assert_eq!(relocs(&s.programs[1]), [(5, 0, MapRelocKind::Fd)]);
    let sec = section(MULTI, "socket");
    assert_eq!(s.programs[1].insns[0].code, MULTI[sec.offset + 0x88]);
    assert_eq!(
        relocs(&s.programs[2]),
        [(3, 1, value(0)), (16, 0, MapRelocKind::Fd)]
    );
    assert_eq!(
        relocs(&s.programs[3]),
        [
            (3, 1, value(8)),
            (7, 1, value(0)),
            (20, 0, MapRelocKind::Fd)
        ]
    );
    assert_eq!(
        globals(&s),
        [
            ("target_tid", ".rodata", 1, 0, 4, false),
            ("watch_nr", ".rodata", 1, 8, 8, false)
        ]
    );
    check_program_invariants(&s);
}

#[test]
fn syscall_object() {
    let s = parse(SYSCALL).unwrap();
    assert_eq!(s.maps.len(), 1);
    assert_eq!(
        (s.maps[0].name.as_str(), s.maps[0].value_size),
        (".bss", 20)
    );
    let p = &s.programs[0];
    assert_eq!(
        (p.name.as_str(), p.section.as_str(), p.insns.len()),
        ("add_ctx", "syscall", 18)
    );
    assert_eq!(p.kind, ProgramKind::Syscall);
    assert!(p.kind.is_sleepable());
    assert_eq!(p.kind.prog_type(), abi::BPF_PROG_TYPE_SYSCALL);
    assert_eq!(p.kind.min_kernel(), crate::KernelVersion::new(5, 14));
    assert_eq!(
        relocs(p),
        [(1, 0, value(0)), (6, 0, value(8)), (12, 0, value(16))]
    );
    assert_eq!(
        globals(&s),
        [
            ("sum", ".bss", 0, 0, 8, false),
            ("runs", ".bss", 0, 8, 8, false),
            ("last_tag", ".bss", 0, 16, 4, false)
        ]
    );
    check_program_invariants(&s);
}

#[test]
fn parse_is_alignment_independent() {
    let mut buf = alloc::vec![0u8; COUNTER.len() + 1];
    buf[1..].copy_from_slice(COUNTER);
    assert_eq!(parse(&buf[1..]).unwrap(), parse(COUNTER).unwrap());
}

#[test]
fn program_kinds_from_section_names() {
    let k = |s: &str| ProgramKind::from_section(s);
    assert_eq!(
        k("tp/a/b").unwrap(),
        ProgramKind::Tracepoint {
            category: "a".into(),
            name: "b".into()
        }
    );
    assert_eq!(
        k("raw_tp/x").unwrap(),
        ProgramKind::RawTracepoint { name: "x".into() }
    );
    assert_eq!(
        k("kprobe/do_sys_open").unwrap().attach_point().as_deref(),
        Some("do_sys_open")
    );
    assert_eq!(
        k("kretprobe/f").unwrap(),
        ProgramKind::Kretprobe {
            function: "f".into()
        }
    );
    assert_eq!(k("kprobe").unwrap().attach_point(), None);
    assert_eq!(k("xdp").unwrap().prog_type(), abi::BPF_PROG_TYPE_XDP);
    assert_eq!(k("socket").unwrap().attach_point(), None);
    assert_eq!(k("tracepoint").unwrap().attach_point(), None);
    for bad in [
        "tracepoint/a",
        "tracepoint/a/",
        "tp//b",
        "raw_tp/",
        "kprobe/",
    ] {
        assert_eq!(k(bad).unwrap_err().kind(), ErrorKind::Malformed, "{bad}");
    }
    for unsup in [
        "tp_btf/x",
        "raw_tp.w/x",
        "xdp.frags",
        "socket/1",
        "kprobe.multi/x",
        "lsm/x",
        "fentry/f",
    ] {
        let e = k(unsup).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{unsup}");
        assert!(e.message().contains(unsup));
    }
}

// ---------------------------------------------------------------------------------------
// Broken objects: each gives a typed error, none panics.

#[test]
fn truncated_files() {
    for obj in [COUNTER, GLOBALS, MULTI, SYSCALL] {
        for cut in 0..obj.len() {
            assert!(parse(&obj[..cut]).is_err(), "cut at {cut}");
        }
    }
    assert_err(b"", ErrorKind::Malformed, &["not an ELF file"]);
}

#[test]
fn not_a_bpf_object() {
    let mut b = COUNTER.to_vec();
    b[4] = 1; // ELFCLASS32
    assert_err(&b, ErrorKind::Unsupported, &["32-bit"]);
    let mut b = COUNTER.to_vec();
    b[5] = 2; // ELFDATA2MSB
    assert_err(&b, ErrorKind::Unsupported, &["big-endian"]);
    let mut b = COUNTER.to_vec();
    b[0x12] = 62; // EM_X86_64
    assert_err(&b, ErrorKind::Unsupported, &["not BPF"]);
    let mut b = COUNTER.to_vec();
    b[0x10] = 2; // ET_EXEC
    assert_err(&b, ErrorKind::Unsupported, &["ET_REL"]);
}

const TP: &str = "tracepoint/raw_syscalls/sys_enter";
const REL_TP: &str = ".reltracepoint/raw_syscalls/sys_enter";

#[test]
fn relocation_past_the_section() {
    let mut b = COUNTER.to_vec();
    put64(&mut b, rel(COUNTER, REL_TP, 0), 0x1000);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[TP, "offset 0x1000", "target_tgid", "outside the section"],
    );
    // Misaligned.
    let mut b = COUNTER.to_vec();
    put64(&mut b, rel(COUNTER, REL_TP, 0), 0x11);
    assert_err(&b, ErrorKind::Malformed, &["offset 0x11", "8-byte"]);
    // ld_imm64 in the last slot: no second half.
    let mut b = COUNTER.to_vec();
    let last = section(&b, TP).size - 8;
    put64(&mut b, rel(COUNTER, REL_TP, 0), last as u64);
    b[insn(COUNTER, TP, last / 8)] = abi::BPF_LD_IMM64;
    assert_err(&b, ErrorKind::Malformed, &["second slot"]);
}

#[test]
fn relocation_on_the_wrong_instruction() {
    let mut b = COUNTER.to_vec();
    // Instruction 0 is `r6 = r1`.
    assert_ne!(b[insn(COUNTER, TP, 0)], abi::BPF_LD_IMM64);
    put64(&mut b, rel(COUNTER, REL_TP, 0), 0);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[TP, "offset 0x0", "target_tgid", "expected ld_imm64"],
    );
    // R_BPF_64_32 on an ld_imm64.
    let mut b = COUNTER.to_vec();
    let r = rel(COUNTER, REL_TP, 0);
    put32(&mut b, r + 8, R_BPF_64_32);
    assert_err(&b, ErrorKind::Malformed, &["bpf-to-bpf call"]);
    // Two relocations on one instruction.
    let mut b = COUNTER.to_vec();
    let r1 = rel(COUNTER, REL_TP, 1);
    put64(&mut b, r1, 0x10);
    assert_err(&b, ErrorKind::Malformed, &["two relocations"]);
}

#[test]
fn relocation_types_and_symbols() {
    // Bad symbol index.
    let mut b = COUNTER.to_vec();
    put32(&mut b, rel(COUNTER, REL_TP, 1) + 12, 999);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[TP, "offset 0x70", "symbol index 999"],
    );
    // Null symbol.
    let mut b = COUNTER.to_vec();
    put32(&mut b, rel(COUNTER, REL_TP, 1) + 12, 0);
    assert_err(&b, ErrorKind::Malformed, &["symbol index 0"]);
    // An unknown relocation type.
    let mut b = COUNTER.to_vec();
    put32(&mut b, rel(COUNTER, REL_TP, 1) + 8, 2);
    assert_err(
        &b,
        ErrorKind::Unsupported,
        &["R_BPF_64_ABS64", "counts", "offset 0x70"],
    );
    let mut b = COUNTER.to_vec();
    put32(&mut b, rel(COUNTER, REL_TP, 1) + 8, 77);
    assert_err(&b, ErrorKind::Unsupported, &["relocation type 77"]);
    // An undefined (extern) symbol: make the .rodata section symbol undefined in globals.
    let mut b = GLOBALS.to_vec();
    let rel_tp = ".reltracepoint/syscalls/sys_enter_getpid";
    let r = rel(&b, rel_tp, 9); // 0x110 -> .rodata section symbol (index 7)
    assert_eq!(u32_at(&b, r + 12), 7);
    let sym = section(&b, ".symtab").offset + 7 * 24;
    b[sym + 6] = 0;
    b[sym + 7] = 0;
    assert_err(&b, ErrorKind::Unsupported, &["extern", "offset 0x110"]);
}

#[test]
fn data_references_are_checked() {
    // .rodata + 44 is past the 44-byte section.
    let mut b = GLOBALS.to_vec();
    let tp = "tracepoint/syscalls/sys_enter_getpid";
    put32(&mut b, insn(GLOBALS, tp, 0x110 / 8) + 4, 44);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[tp, "offset 0x110", "outside section \".rodata\""],
    );
    // A map reference to the middle of a map definition.
    let mut b = COUNTER.to_vec();
    put32(&mut b, insn(COUNTER, TP, 14) + 4, 8);
    assert_err(&b, ErrorKind::Malformed, &["no map starts at offset 0x8"]);
    // A callback (ld_imm64 with src_reg BPF_PSEUDO_FUNC).
    let mut b = COUNTER.to_vec();
    b[insn(COUNTER, TP, 14) + 1] |= BPF_PSEUDO_FUNC << 4;
    assert_err(&b, ErrorKind::Unsupported, &["callbacks"]);
}

#[test]
fn bad_calls() {
    let tp = "tracepoint/syscalls/sys_enter_getpid";
    // The .text call with imm 8 -> 7 lands inside `mix`.
    let mut b = GLOBALS.to_vec();
    put32(&mut b, insn(GLOBALS, tp, 21) + 4, 7);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &["not the start of a function", "instruction 8"],
    );
    let mut b = GLOBALS.to_vec();
    put32(&mut b, insn(GLOBALS, tp, 21) + 4, 1000);
    assert_err(&b, ErrorKind::Malformed, &["outside section \".text\""]);
    // A call relocation on a helper call (src_reg 0).
    let mut b = GLOBALS.to_vec();
    b[insn(GLOBALS, tp, 21) + 1] = 0;
    assert_err(
        &b,
        ErrorKind::Malformed,
        &["expected a bpf-to-bpf call", "offset 0xa8"],
    );
}

#[test]
fn btf_with_a_bad_type_id() {
    // VAR counts (id 14) -> type 9999.
    let mut b = COUNTER.to_vec();
    put32(&mut b, btf_type(COUNTER, 14) + 8, 9999);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[".BTF", "type id 14", "type id 9999"],
    );
}

#[test]
fn btf_type_cycle() {
    // TYPEDEF __u32 (id 8) -> itself: the key type of `counts` has no size.
    let mut b = COUNTER.to_vec();
    put32(&mut b, btf_type(COUNTER, 8) + 8, 8);
    assert_err(&b, ErrorKind::Malformed, &["cycle", "counts", "key"]);
}

#[test]
fn value_size_times_max_entries_overflow() {
    // max_entries (ARRAY id 6, nelems 1024) -> 0x2000_0000: 8 x 2^29 = 4 GiB.
    let mut b = COUNTER.to_vec();
    let t = btf_type(COUNTER, 6);
    assert_eq!(u32_at(&b, t + 20), 1024);
    put32(&mut b, t + 20, 0x2000_0000);
    assert_err(
        &b,
        ErrorKind::Malformed,
        &["counts", "max_entries 536870912", "overflows"],
    );
}

#[test]
fn map_name_too_long() {
    // Rename map `counts` (BTF VAR and ELF symbol) to the 33-byte string
    // "tracepoint/raw_syscalls/sys_enter", present in both string tables.
    let mut b = COUNTER.to_vec();
    let off = btf_str(&b, TP);
    put32(&mut b, btf_type(COUNTER, 14), off);
    let sym = symbol(&b, "counts");
    let strtab_off = sections(&b)[u32_at(&b, section(&b, ".symtab").hdr + 40) as usize].offset;
    let name = section(&b, TP).name_off - strtab_off;
    put32(&mut b, sym, name as u32);
    assert_err(&b, ErrorKind::Malformed, &["\".maps\"", "at most 15"]);
}

#[test]
fn missing_license() {
    let mut b = COUNTER.to_vec();
    let s = section(&b, "license");
    b[s.name_off] = b'L';
    assert_err(&b, ErrorKind::Malformed, &["missing section \"license\""]);
}

#[test]
fn maps_without_btf() {
    let mut b = COUNTER.to_vec();
    let s = section(&b, ".BTF");
    b[s.name_off + 3] = b'X';
    assert_err(
        &b,
        ErrorKind::Unsupported,
        &["\".maps\"", "BTF", "clang -g"],
    );
}

#[test]
fn legacy_maps_section() {
    let mut b = COUNTER.to_vec();
    let s = section(&b, ".maps");
    let h = s.hdr;
    let n = u32_at(&b, h) + 1;
    put32(&mut b, h, n); // ".maps" -> "maps"
    assert_err(&b, ErrorKind::Unsupported, &["\"maps\"", "legacy"]);
}

#[test]
fn unsupported_program_section() {
    let mut b = MULTI.to_vec();
    let s = section(&b, "socket");
    b[s.name_off..s.name_off + 6].copy_from_slice(b"lsm/xy");
    assert_err(&b, ErrorKind::Unsupported, &["\"lsm/xy\""]);
}

#[test]
fn core_relocations_are_refused() {
    let mut b = GLOBALS.to_vec();
    let ext = section(&b, ".BTF.ext").offset;
    assert_eq!(u32_at(&b, ext + 4), 32);
    let (line_off, line_len) = (u32_at(&b, ext + 16), u32_at(&b, ext + 20));
    put32(&mut b, ext + 24, line_off);
    put32(&mut b, ext + 28, line_len);
    assert_err(
        &b,
        ErrorKind::Unsupported,
        &["CO-RE", "core_relo", "section"],
    );
}

#[test]
fn btf_ext_checks() {
    let mut b = GLOBALS.to_vec();
    let ext = section(&b, ".BTF.ext").offset;
    put32(&mut b, ext + 12, 100_000); // func_info_len
    assert_err(
        &b,
        ErrorKind::Malformed,
        &[".BTF.ext", "func_info", "past the end"],
    );
    let mut b = GLOBALS.to_vec();
    put32(&mut b, ext + 32, 3); // func_info rec_size
    assert_err(&b, ErrorKind::Malformed, &["record size 3"]);
}

/// Deterministic byte mutations of every object: parse must return, never panic.
#[test]
fn mutations_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for obj in [COUNTER, GLOBALS, MULTI, SYSCALL] {
        // Half of the mutations go to the structured parts: BTF, symbols, relocations,
        // section headers.
        let mut hot: Vec<(usize, usize)> = sections(obj)
            .iter()
            .filter(|s| {
                s.name.starts_with(".BTF") || s.name.starts_with(".rel") || s.name == ".symtab"
            })
            .map(|s| (s.offset, s.size))
            .collect();
        hot.push((
            u64_at(obj, 0x28) as usize,
            obj.len() - u64_at(obj, 0x28) as usize,
        ));
        for _ in 0..mutation_rounds() {
            let mut b = obj.to_vec();
            for _ in 0..1 + next() % 4 {
                let i = if next() % 2 == 0 {
                    (next() % b.len() as u64) as usize
                } else {
                    let (off, len) = hot[(next() % hot.len() as u64) as usize];
                    off + (next() % len.max(1) as u64) as usize
                };
                b[i] = match next() % 4 {
                    0 => 0,
                    1 => 0xff,
                    2 => b[i] ^ (1 << (next() % 8)),
                    _ => next() as u8,
                };
            }
            let _ = parse(&b);
        }
    }
}

/// Rounds per object for [`mutations_never_panic`]: `MMBPF_MUTATION_ROUNDS` or 3000.
fn mutation_rounds() -> usize {
    extern crate std;
    std::env::var("MMBPF_MUTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// `MMBPF_PARSE_FILE=x.bpf.o cargo test --lib parse_file_from_env -- --ignored --nocapture`
/// prints the spec of any object (a debugging aid).
#[test]
#[ignore]
fn parse_file_from_env() {
    extern crate std;
    let path = std::env::var("MMBPF_PARSE_FILE").expect("MMBPF_PARSE_FILE");
    let bytes = std::fs::read(path).unwrap();
    match parse(&bytes) {
        Ok(s) => {
            for m in &s.maps {
                std::println!("map {m:?}");
            }
            for p in &s.programs {
                std::println!(
                    "program {} ({}) {:?}: {} insns, subprograms {:?}, relocs {:?}, func_info {}, line_info {}",
                    p.name,
                    p.section,
                    p.kind,
                    p.insns.len(),
                    p.subprograms,
                    relocs(p),
                    p.func_info_count(),
                    p.line_info_count()
                );
                for (i, insn) in p.insns.iter().enumerate() {
                    if insn.code == abi::BPF_CALL_INSN && insn.src_reg() == abi::BPF_PSEUDO_CALL {
                        std::println!("  call at {i} -> {}", i as i64 + 1 + i64::from(insn.imm));
                    }
                }
            }
            for g in &s.globals {
                std::println!("global {g:?}");
            }
            check_program_invariants(&s);
        }
        Err(e) => std::println!("error: {e:?}"),
    }
}

#[test]
fn static_programs_are_refused() {
    let mut b = COUNTER.to_vec();
    let sym = symbol(COUNTER, "count_syscalls");
    assert_eq!(b[sym + 4], 0x12); // GLOBAL FUNC
    b[sym + 4] = 0x02; // LOCAL FUNC
    assert_err(
        &b,
        ErrorKind::Unsupported,
        &[TP, "count_syscalls", "static programs"],
    );
}

#[test]
fn relocations_in_data_are_refused() {
    // Point .rel.text at .data: pointers in initialised data.
    let mut b = GLOBALS.to_vec();
    let rel_text = section(GLOBALS, ".rel.text").hdr;
    let data_idx = sections(GLOBALS)
        .iter()
        .position(|s| s.name == ".data")
        .unwrap();
    put32(&mut b, rel_text + 44, data_idx as u32);
    assert_err(
        &b,
        ErrorKind::Unsupported,
        &["\".data\"", "offset 0x0", "scale", "data sections"],
    );
    // ... and at .maps: map-in-map initialisation.
    let mut b = MULTI.to_vec();
    let rel = section(MULTI, ".relsocket").hdr;
    let maps_idx = sections(MULTI)
        .iter()
        .position(|s| s.name == ".maps")
        .unwrap();
    put32(&mut b, rel + 44, maps_idx as u32);
    assert_err(&b, ErrorKind::Unsupported, &["\".maps\"", "map-in-map"]);
}

#[test]
fn global_type_names() {
    let s = parse(GLOBALS).unwrap();
    let t = |n: &str| s.global_type(s.global(n).unwrap());
    assert_eq!(t("target_tid").as_deref(), Some("const volatile __u32"));
    assert_eq!(t("in_val").as_deref(), Some("__u64"));
    assert_eq!(t("data_counter").as_deref(), Some("__u32"));
    assert_eq!(t("on_getpid.____fmt").as_deref(), Some("const char[28]"));
}
