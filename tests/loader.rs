//! The ELF loader against the real kernel: every object in bpf-obj/ is parsed, loaded,
//! attached, triggered, and its maps and globals read through mmap and cross-checked with
//! syscalls. Expected values come from bpf-obj/README.md.

mod common;

use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use mmbpf::elf::ProgramKind;
use mmbpf::map::MapFlags;
use mmbpf::object::OpenObject;
use mmbpf::program::TestRun;
use mmbpf::ErrorKind;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

const COUNTER: &[u8] = include_bytes!("../bpf-obj/counter.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../bpf-obj/globals.bpf.o");
const MULTI: &[u8] = include_bytes!("../bpf-obj/multi.bpf.o");
const SYSCALL: &[u8] = include_bytes!("../bpf-obj/syscall.bpf.o");

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
struct Triple {
    a: u32,
    b: u32,
    c: u32,
}

fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

fn raw_syscall(nr: libc::c_long) {
    // SAFETY: the syscalls used here (getpid, getppid, getuid, ...) take no arguments and have
    // no side effects.
    unsafe {
        libc::syscall(nr);
    }
}

#[test]
fn counter_counts_this_process_syscalls() {
    require_bpf!("counter_counts_this_process_syscalls");
    common::tracefs();
    let mut open = OpenObject::parse(COUNTER).unwrap();
    open.set_global("target_tgid", &std::process::id()).unwrap();
    let obj = open.load().unwrap();
    let counts = obj.array_map::<u64>("counts").unwrap();
    assert!(counts.map().info().flags.contains(MapFlags::MMAPABLE));
    let view = counts.mmap().unwrap();
    let total = obj.global::<u64>("total").unwrap();
    assert_eq!(
        *obj.rodata::<u32>("target_tgid").unwrap().get(),
        std::process::id()
    );

    let link = obj.program("count_syscalls").unwrap().attach().unwrap();
    // getuid (102 on x86_64) is made by no other test of this binary (the default-config
    // test, which counts every process, uses geteuid).
    let nr = libc::SYS_getuid as usize;
    let before = view.load(nr).unwrap();
    for _ in 0..1000 {
        raw_syscall(libc::SYS_getuid);
    }
    let after = view.load(nr).unwrap();
    drop(link);
    assert_eq!(after - before, 1000, "exact count through mmap");
    assert_eq!(
        counts.get(nr as u32).unwrap(),
        after,
        "mmap and syscall agree"
    );
    let sum: u64 = view.snapshot().iter().sum();
    assert!(
        total.load() >= sum,
        "total {} >= sum of slots {sum}",
        total.load()
    );
    assert!(total.atomic_u64().unwrap().load(Ordering::Relaxed) >= 1000);

    // Detached: no more counting.
    raw_syscall(libc::SYS_getuid);
    assert_eq!(view.load(nr).unwrap(), after);
}

#[test]
fn counter_default_config_counts_every_process() {
    require_bpf!("counter_default_config_counts_every_process");
    common::tracefs();
    let obj = OpenObject::parse(COUNTER).unwrap().load().unwrap();
    assert_eq!(*obj.rodata::<u32>("target_tgid").unwrap().get(), 0);
    let view = obj.array_map::<u64>("counts").unwrap().mmap_ro().unwrap();
    let _link = obj.attach_all().unwrap();
    for _ in 0..10 {
        raw_syscall(libc::SYS_geteuid);
    }
    assert!(view.load(libc::SYS_geteuid as usize).unwrap() >= 10);
}

#[test]
fn globals_sections_statics_and_calls() {
    require_bpf!("globals_sections_statics_and_calls");
    common::tracefs();
    let mut open = OpenObject::parse(GLOBALS).unwrap();
    open.set_global("target_tid", &gettid()).unwrap();
    open.set_global("scale", &3u64).unwrap();
    // Wrong size and unknown names are refused.
    assert_eq!(
        open.set_global("scale", &3u32).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        open.set_global("nope", &3u32).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let obj = open.load().unwrap();

    let in_val = obj.global::<u64>("in_val").unwrap();
    let _link = obj.program("on_getpid").unwrap().attach().unwrap();
    for v in [10u64, 20, 30] {
        in_val.store(&v);
        raw_syscall(libc::SYS_getpid);
    }
    let g = |name: &str| obj.global_ro::<u64>(name).unwrap().load();
    assert_eq!(g("out_val"), 30);
    assert_eq!(
        g("out_mix"),
        30 * 3 + 7,
        "rodata override changes behaviour"
    );
    assert_eq!(g("out_prev"), 20);
    assert_eq!(g("out_sum"), 60);
    assert_eq!(g("hits"), 3);
    assert_eq!(
        g("static_sum"),
        60,
        "static in .bss reached through a section symbol"
    );
    assert_eq!(
        g("static_prev"),
        30,
        "static in .data reached through a section symbol"
    );
    assert_eq!(obj.global::<u32>("data_counter").unwrap().load(), 1003);
    assert_eq!(
        obj.global::<u64>("custom_add").unwrap().load(),
        7,
        ".data.custom"
    );
    // .rodata is frozen: read-only views and borrowed references, no writable view.
    assert_eq!(*obj.rodata::<u64>("scale").unwrap().get(), 3);
    assert_eq!(
        obj.global::<u64>("scale").unwrap_err().kind(),
        ErrorKind::InvalidState
    );

    // Cross-check with syscalls: the .bss map's single element holds the same bytes.
    let bss = obj.map(".bss").unwrap();
    let bytes = bss.lookup_bytes(&0u32.to_ne_bytes()).unwrap();
    assert_eq!(u64::from_ne_bytes(bytes[8..16].try_into().unwrap()), 30);
    assert_eq!(obj.global_bytes("hits").unwrap(), 3u64.to_ne_bytes());

    // The string constant section became a frozen read-only map.
    let (spec, map) = obj
        .maps()
        .find(|(s, _)| s.name == ".rodata.str1.1")
        .expect(".rodata.str1.1 map");
    assert!(spec.flags.contains(MapFlags::RDONLY_PROG));
    let s = map.lookup_bytes(&0u32.to_ne_bytes()).unwrap();
    assert!(s.starts_with(b"mmbpf globals: prev=%llu\n"), "{s:?}");
    assert!(map.is_frozen());
}

#[test]
fn globals_other_threads_are_filtered_by_rodata() {
    require_bpf!("globals_other_threads_are_filtered_by_rodata");
    common::tracefs();
    let mut open = OpenObject::parse(GLOBALS).unwrap();
    open.set_global("target_tid", &(gettid() ^ 0x4000_0000))
        .unwrap();
    let obj = open.load().unwrap();
    let _link = obj.program("on_getpid").unwrap().attach().unwrap();
    raw_syscall(libc::SYS_getpid);
    assert_eq!(obj.global_ro::<u64>("hits").unwrap().load(), 0);
}

#[test]
fn multi_programs_socket_filter_and_struct_values() {
    require_bpf!("multi_programs_socket_filter_and_struct_values");
    common::tracefs();
    let tid = gettid();
    let mut open = OpenObject::parse(MULTI).unwrap();
    open.set_global("target_tid", &tid).unwrap();
    open.set_global::<i64>("watch_nr", &libc::SYS_getppid)
        .unwrap();
    let obj = open.load().unwrap();
    let names: Vec<&str> = obj.programs().map(|p| p.name()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in ["socket_count", "socket_drop", "on_getppid", "on_sys_enter"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert!(matches!(
        obj.program("on_sys_enter").unwrap().kind(),
        ProgramKind::RawTracepoint { .. }
    ));
    let stats = obj.array_map::<Triple>("stats").unwrap();
    let view = stats.mmap().unwrap();
    assert_eq!(view.stride(), 16);

    let links = obj.attach_all().unwrap();
    assert_eq!(links.len(), 2, "the tracepoint and the raw tracepoint");
    for _ in 0..5 {
        raw_syscall(libc::SYS_getppid);
    }
    drop(links);
    let expect = Triple {
        a: 5,
        b: libc::SYS_getppid as u32,
        c: tid,
    };
    assert_eq!(view.load(1).unwrap(), expect);
    assert_eq!(view.load(2).unwrap(), expect);
    assert_eq!(stats.get(1).unwrap(), expect);

    // Socket filter on a loopback UDP socket: three 100-byte datagrams.
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let link = obj
        .program("socket_count")
        .unwrap()
        .attach_socket(rx.as_fd())
        .unwrap();
    rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 200];
    for _ in 0..3 {
        tx.send_to(&[7u8; 100], rx.local_addr().unwrap()).unwrap();
        assert_eq!(rx.recv(&mut buf).unwrap(), 100);
    }
    drop(link);
    assert_eq!(
        view.load(0).unwrap(),
        Triple {
            a: 3,
            b: 324,
            c: 108
        }
    );
    // Detached: not counted any more.
    tx.send_to(&[7u8; 100], rx.local_addr().unwrap()).unwrap();
    assert_eq!(rx.recv(&mut buf).unwrap(), 100);
    assert_eq!(view.load(0).unwrap().a, 3);

    // Test run: a 64-byte frame with ethertype 0.
    let out = obj
        .program("socket_drop")
        .unwrap()
        .test_run(&TestRun {
            data: vec![0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 0);
    assert_eq!(view.load(3).unwrap(), Triple { a: 1, b: 50, c: 50 });
    let out = obj
        .program("socket_count")
        .unwrap()
        .test_run(&TestRun {
            data: vec![0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 50);

    // Attaching a socket filter without a socket, or a tracepoint to a socket, is refused.
    assert_eq!(
        obj.program("socket_count")
            .unwrap()
            .attach()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        obj.program("on_getppid")
            .unwrap()
            .attach_socket(rx.as_fd())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn syscall_program_test_run() {
    require_bpf!("syscall_program_test_run");
    let (maj, min, _) = common::kernel_version();
    if (maj, min) < (5, 14) {
        // Below the minimum the loader must say which version is needed.
        let err = OpenObject::parse(SYSCALL).unwrap().load().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KernelTooOld, "{err}");
        assert!(err.to_string().contains("5.14"), "{err}");
        common::skip(
            "syscall_program_test_run",
            "BPF_PROG_TYPE_SYSCALL needs Linux 5.14",
        );
        return;
    }
    let obj = OpenObject::parse(SYSCALL).unwrap().load().unwrap();
    let prog = obj.program("add_ctx").unwrap();
    let ctx = |add: u64, tag: u32| {
        let mut c = vec![0u8; 24];
        c[0..8].copy_from_slice(&add.to_ne_bytes());
        c[8..12].copy_from_slice(&tag.to_ne_bytes());
        c
    };
    let out = prog
        .test_run(&TestRun {
            ctx: ctx(5, 77),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 1);
    assert_eq!(u64::from_ne_bytes(out.ctx[16..24].try_into().unwrap()), 5);
    let out = prog
        .test_run(&TestRun {
            ctx: ctx(7, 88),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 2);
    assert_eq!(u32::from_ne_bytes(out.ctx[12..16].try_into().unwrap()), 2);
    assert_eq!(u64::from_ne_bytes(out.ctx[16..24].try_into().unwrap()), 12);
    assert_eq!(obj.global_ro::<u64>("sum").unwrap().load(), 12);
    assert_eq!(obj.global_ro::<u32>("last_tag").unwrap().load(), 88);
    // A syscall program has no attach point.
    assert_eq!(
        prog.attach().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn verifier_rejection_carries_errno_and_log() {
    require_bpf!("verifier_rejection_carries_errno_and_log");
    // Break the counter program: its first instruction becomes `r0 = *(u64 *)(r9 + 0)`, a
    // read through a register that was never set, which every verifier rejects with EACCES
    // ("R9 !read_ok").
    let mut spec = mmbpf::elf::parse(COUNTER).unwrap();
    let p = &mut spec.programs[0];
    p.insns[0] = mmbpf::sys::abi::BpfInsn {
        code: 0x79,
        regs: 0x90,
        off: 0,
        imm: 0,
    };
    p.func_info.clear();
    p.line_info.clear();
    p.map_relocs.retain(|r| r.insn != 0);
    let err = OpenObject::from_spec(spec).load().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::VerifierRejected, "{err:#}");
    assert_eq!(err.errno(), Some(mmbpf::Errno::EACCES));
    let log = err.verifier_log().expect("a verifier log");
    assert!(log.contains("R9 !read_ok"), "{log}");
    assert!(err.to_string().contains("count_syscalls"), "{err}");
}

#[test]
fn pinned_program_and_map_survive_the_object() {
    require_bpf!("pinned_program_and_map_survive_the_object");
    let dir = common::bpffs();
    let tag = format!("{}_{}", std::process::id(), gettid());
    let prog_path = format!("{dir}/mmbpf_test_prog_{tag}");
    let map_path = format!("{dir}/mmbpf_test_map_{tag}");
    {
        let obj = OpenObject::parse(COUNTER).unwrap().load().unwrap();
        obj.program("count_syscalls")
            .unwrap()
            .pin(&prog_path)
            .unwrap();
        obj.map("counts").unwrap().pin(&map_path).unwrap();
        obj.array_map::<u64>("counts").unwrap().set(9, &99).unwrap();
    }
    let map =
        mmbpf::map::ArrayMap::<u64>::new(mmbpf::map::Map::from_pin(&map_path).unwrap()).unwrap();
    assert_eq!(map.mmap().unwrap().load(9).unwrap(), 99);
    assert!(std::fs::metadata(&prog_path).is_ok());
    std::fs::remove_file(&prog_path).unwrap();
    std::fs::remove_file(&map_path).unwrap();
}

#[test]
fn pin_by_name_maps_are_shared_between_loads() {
    require_bpf!("pin_by_name_maps_are_shared_between_loads");
    let root = format!(
        "{}/mmbpf_test_pins_{}_{}",
        common::bpffs(),
        std::process::id(),
        gettid()
    );
    std::fs::create_dir_all(&root).unwrap();
    let spec_with_pin = || {
        let mut spec = mmbpf::elf::parse(COUNTER).unwrap();
        let (i, _) = spec.map("counts").unwrap();
        spec.maps[i].pin_by_name = true;
        spec
    };
    let load = |spec| {
        let mut open = OpenObject::from_spec(spec);
        open.set_pin_root(&root).unwrap();
        open.load()
    };
    let first = load(spec_with_pin()).unwrap();
    assert!(first.report().reused_pins.is_empty());
    first
        .array_map::<u64>("counts")
        .unwrap()
        .mmap()
        .unwrap()
        .store(11, &1111)
        .unwrap();
    drop(first);
    assert!(
        std::fs::metadata(format!("{root}/counts")).is_ok(),
        "pinned as ROOT/NAME"
    );

    let second = load(spec_with_pin()).unwrap();
    assert_eq!(second.report().reused_pins, vec!["counts".to_string()]);
    assert_eq!(
        second.array_map::<u64>("counts").unwrap().get(11).unwrap(),
        1111
    );
    drop(second);

    let mut other = spec_with_pin();
    let (i, _) = other.map("counts").unwrap();
    other.maps[i].max_entries = 512;
    let err = load(other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    assert!(err.to_string().contains("different shape"), "{err}");
    std::fs::remove_file(format!("{root}/counts")).unwrap();
    std::fs::remove_dir(&root).unwrap();
}

#[cfg(target_arch = "x86_64")]
#[test]
fn kprobe_and_kretprobe_count_calls() {
    require_bpf!("kprobe_and_kretprobe_count_calls");
    const KPROBE: &[u8] = include_bytes!("../bpf-obj/kprobe.bpf.o");
    let mut open = OpenObject::parse(KPROBE).unwrap();
    open.set_global("target_tid", &gettid()).unwrap();
    let obj = open.load().unwrap();
    let entry = obj.program("on_getpgid_entry").unwrap();
    assert!(
        matches!(entry.kind(), ProgramKind::Kprobe { function } if function == "__x64_sys_getpgid")
    );
    if !std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        // A kernel built without CONFIG_KPROBES: the error must say so.
        let err = entry.attach().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("CONFIG_KPROBES"), "{err}");
        common::skip(
            "kprobe_and_kretprobe_count_calls",
            "the kernel is built without CONFIG_KPROBES",
        );
        return;
    }
    let links = obj.attach_all().unwrap();
    assert_eq!(links.len(), 2);
    for _ in 0..7 {
        // SAFETY: getpgid(0) has no side effects.
        unsafe { libc::syscall(libc::SYS_getpgid, 0) };
    }
    drop(links);
    assert_eq!(obj.global_ro::<u64>("entries").unwrap().load(), 7);
    assert_eq!(obj.global_ro::<u64>("returns").unwrap().load(), 7);
    let err = obj
        .program("on_getpgid_entry")
        .unwrap()
        .attach_kprobe("no_such_function_mmbpf", false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn maps_can_be_resized_before_load() {
    require_bpf!("maps_can_be_resized_before_load");
    let mut open = OpenObject::parse(COUNTER).unwrap();
    open.set_max_entries("counts", 4096).unwrap();
    assert_eq!(
        open.set_max_entries(".bss", 2).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        open.set_max_entries("nope", 2).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let obj = open.load().unwrap();
    let counts = obj.array_map::<u64>("counts").unwrap();
    assert_eq!(counts.len(), 4096);
    assert_eq!(counts.mmap().unwrap().len(), 4096);
}
