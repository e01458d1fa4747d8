//! The `mmbpf` command, driven as a real process: usage errors, broken inputs, `inspect` on
//! every bpf-obj object, and (with BPF) the demo, `run` and `dump`.
//!
//! Kernel tests follow the project's rule (tests/common): they fail in CI when BPF is
//! unavailable and skip with a message otherwise. `dump` tests also need `bpftool`, and the
//! `--watch` test needs `strace` (both fail in CI when missing, skip otherwise).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mmbpf");

fn obj(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bpf-obj")
        .join(name)
}

fn obj_str(name: &str) -> String {
    obj(name).to_string_lossy().into_owned()
}

fn mmbpf<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn mmbpf")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run and expect success with nothing on stderr; returns stdout.
fn ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let out = mmbpf(args);
    assert!(
        out.status.success(),
        "mmbpf {args:?} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), "", "mmbpf {args:?} wrote to stderr");
    text(&out.stdout)
}

/// Run and expect exit status 1 with exactly one line on stderr, nothing on stdout and no
/// panic; returns that line.
fn fails<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let out = mmbpf(args);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "mmbpf {args:?}: {:?}\nstderr:\n{err}",
        out.status
    );
    assert!(!err.contains("panicked"), "mmbpf {args:?} panicked:\n{err}");
    assert_eq!(
        err.lines().count(),
        1,
        "mmbpf {args:?}: expected one line on stderr, got:\n{err}"
    );
    assert!(err.starts_with("mmbpf: "), "{err}");
    assert_eq!(
        text(&out.stdout),
        "",
        "mmbpf {args:?} wrote to stdout on failure"
    );
    err
}

/// Run and expect a usage error: exit status 2, the message and the usage text on stderr.
fn usage_error(args: &[&str], message: &str) {
    let out = mmbpf(args);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "mmbpf {args:?}: {:?}\nstderr:\n{err}",
        out.status
    );
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("mmbpf: ") && first.contains(message),
        "mmbpf {args:?}: first line {first:?}, want {message:?}"
    );
    assert!(err.contains("usage: mmbpf"), "no usage text:\n{err}");
    assert!(
        err.contains("mmbpf dump (PINNED_PATH | --id N) [--json] [--watch SECS]"),
        "{err}"
    );
    assert_eq!(text(&out.stdout), "");
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("mmbpf-cli-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether `tool` runs; when it does not, fail in CI and skip (print the skip line) otherwise.
fn require_tool(test: &str, tool: &str, version_arg: &str) -> bool {
    let runs = Command::new(tool)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !runs {
        if in_ci() {
            panic!("{test}: {tool} is required in CI (CI is set) but does not run");
        }
        common::skip(test, &format!("{tool} is not installed"));
    }
    runs
}

// ---------------------------------------------------------------------------------------
// Usage errors (exit 2) and help.

#[test]
fn help_prints_usage_on_stdout() {
    for arg in ["--help", "-h", "help"] {
        let out = ok(&[arg]);
        assert!(out.starts_with("usage: mmbpf "), "{out}");
        assert!(out.contains("mmbpf inspect OBJ [--json]"), "{out}");
        assert!(out.contains("mmbpf run OBJ [--set NAME=VALUE]..."), "{out}");
    }
}

#[test]
fn usage_errors_exit_2_with_usage() {
    usage_error(&["frobnicate"], "unknown command \"frobnicate\"");
    usage_error(&["--frobnicate"], "unknown option \"--frobnicate\"");
    usage_error(&["inspect"], "inspect: missing OBJ");
    usage_error(&["inspect", "a.o", "b.o"], "inspect: OBJ given twice");
    usage_error(
        &["inspect", "a.o", "--yaml"],
        "inspect: unknown option \"--yaml\"",
    );
    usage_error(
        &["inspect", "a.o", "--json=yes"],
        "--json does not take a value",
    );
    usage_error(&["run"], "run: missing OBJ");
    usage_error(&["run", "a.o", "--set"], "--set needs a value");
    usage_error(&["run", "a.o", "--set", "x"], "expected NAME=VALUE");
    usage_error(
        &["run", "a.o", "--set", "x=ten"],
        "--set x: \"ten\" is not a number",
    );
    usage_error(&["run", "a.o", "--set", "x=0x1g"], "is not a number");
    usage_error(&["run", "a.o", "--test-run"], "--test-run needs a value");
    usage_error(
        &["run", "a.o", "--test-run", "p=123"],
        "not an even number of hex digits",
    );
    usage_error(&["run", "a.o", "--exec"], "--exec needs a command");
    usage_error(&["dump"], "dump: missing PINNED_PATH or --id N");
    usage_error(&["dump", "/sys/fs/bpf/x", "--id", "3"], "not both");
    usage_error(&["dump", "--id", "x"], "--id: \"x\" is not a map id");
    usage_error(&["dump", "--id", "3", "--watch"], "--watch needs a value");
    usage_error(
        &["dump", "--id", "3", "--watch", "-1"],
        "not a number of seconds",
    );
    usage_error(&["help", "me"], "unexpected argument");
}

// ---------------------------------------------------------------------------------------
// Broken inputs (exit 1, one line, no panic), without privileges.

#[test]
fn missing_object_file() {
    let err = fails(&["inspect", "/nonexistent/x.bpf.o"]);
    assert!(
        err.contains("/nonexistent/x.bpf.o") && err.contains("No such file"),
        "{err}"
    );
    let err = fails(&["run", "/nonexistent/x.bpf.o"]);
    assert!(err.contains("/nonexistent/x.bpf.o"), "{err}");
    let err = fails(&["inspect", "/"]);
    assert!(err.contains("\"/\""), "{err}");
}

#[test]
fn garbage_and_empty_objects() {
    let dir = temp_dir("garbage");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.o", Vec::new()),
        ("text.o", b"this is not an ELF file\n".to_vec()),
        ("elf-magic-only.o", b"\x7fELF".to_vec()),
        ("zeros.o", vec![0u8; 4096]),
        (
            "noise.o",
            (0..8192u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let p = path.to_string_lossy().into_owned();
        let err = fails(&["inspect", &p]);
        assert!(err.contains(name), "the error names the file: {err}");
        fails(&["inspect", "--json", &p]);
        fails(&["run", &p]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every prefix of every object (at a stride, plus the boundaries) and single-byte
/// corruptions: the tool fails cleanly or succeeds, and never panics.
#[test]
fn truncated_and_corrupted_objects_never_panic() {
    let dir = temp_dir("truncated");
    for name in [
        "counter.bpf.o",
        "globals.bpf.o",
        "multi.bpf.o",
        "syscall.bpf.o",
    ] {
        let bytes = std::fs::read(obj(name)).unwrap();
        let path = dir.join(name);
        let p = path.to_string_lossy().into_owned();
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(97).collect();
        cuts.extend([1, 16, 63, 64, 65, bytes.len() / 2, bytes.len() - 1]);
        for cut in cuts {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let err = fails(&["inspect", &p]);
            assert!(err.contains(name), "{err}");
        }
        // Flip bytes all over the file: errors or (harmless bytes) success, but no panic.
        for at in (0..bytes.len()).step_by(61) {
            let mut b = bytes.clone();
            b[at] ^= 0xff;
            std::fs::write(&path, &b).unwrap();
            let out = mmbpf(&["inspect", "--json", &p]);
            let err = text(&out.stderr);
            assert!(
                !err.contains("panicked"),
                "{name} with byte {at} flipped: {err}"
            );
            match out.status.code() {
                Some(0) => assert!(
                    text(&out.stdout).starts_with("{\"programs\":["),
                    "{name} @{at}"
                ),
                Some(1) => assert_eq!(err.lines().count(), 1, "{name} @{at}: {err}"),
                other => panic!("{name} with byte {at} flipped: exit {other:?}\n{err}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// inspect: exact fields for every bpf-obj object (pure parsing, no privileges).

/// `round_up(n, page_size)`: the mmap length of `n` bytes of element data.
fn pg(n: usize) -> usize {
    let page = mmbpf::sys::page_size();
    n.div_ceil(page) * page
}

fn map_json(name: &str, value_size: u32, max_entries: u32, flags: u32) -> String {
    let stride = (value_size as usize).div_ceil(8) * 8;
    format!(
        "{{\"name\":\"{name}\",\"type\":\"array\",\"key_size\":4,\"value_size\":{value_size},\"max_entries\":{max_entries},\
         \"flags\":{flags},\"mmapable\":true,\"stride\":{stride},\"mmap_len\":{}}}",
        pg(stride * max_entries as usize)
    )
}

fn prog_json(name: &str, section: &str, ty: &str, insns: u32) -> String {
    format!("{{\"name\":\"{name}\",\"section\":\"{section}\",\"type\":\"{ty}\",\"insns\":{insns}}}")
}

fn global_json(name: &str, section: &str, offset: u32, size: u32) -> String {
    format!("{{\"name\":\"{name}\",\"section\":\"{section}\",\"offset\":{offset},\"size\":{size}}}")
}

fn inspect_json(programs: &[String], maps: &[String], globals: &[String]) -> String {
    format!(
        "{{\"programs\":[{}],\"maps\":[{}],\"globals\":[{}]}}\n",
        programs.join(","),
        maps.join(","),
        globals.join(",")
    )
}

// flags: BPF_F_MMAPABLE = 0x400 (1024); .rodata adds BPF_F_RDONLY_PROG = 0x80 (1152).
const MMAPABLE: u32 = 1024;
const RODATA: u32 = 1152;

#[test]
fn inspect_json_counter() {
    assert_eq!(
        ok(&["inspect", "--json", &obj_str("counter.bpf.o")]),
        inspect_json(
            &[prog_json(
                "count_syscalls",
                "tracepoint/raw_syscalls/sys_enter",
                "tracepoint",
                26
            )],
            &[
                map_json("counts", 8, 1024, MMAPABLE),
                map_json(".rodata", 4, 1, RODATA),
                map_json(".bss", 8, 1, MMAPABLE)
            ],
            &[
                global_json("target_tgid", ".rodata", 0, 4),
                global_json("total", ".bss", 0, 8)
            ],
        )
    );
}

#[test]
fn inspect_json_globals() {
    assert_eq!(
        ok(&["inspect", &obj_str("globals.bpf.o"), "--json"]),
        inspect_json(
            &[prog_json(
                "on_getpid",
                "tracepoint/syscalls/sys_enter_getpid",
                "tracepoint",
                41
            )],
            &[
                map_json(".rodata", 44, 1, RODATA),
                map_json(".bss", 56, 1, MMAPABLE),
                map_json(".data", 16, 1, MMAPABLE),
                map_json(".data.custom", 8, 1, MMAPABLE),
                map_json(".rodata.str1.1", 26, 1, RODATA),
            ],
            &[
                global_json("target_tid", ".rodata", 0, 4),
                global_json("scale", ".rodata", 8, 8),
                global_json("on_getpid.____fmt", ".rodata", 16, 28),
                global_json("in_val", ".bss", 0, 8),
                global_json("out_val", ".bss", 8, 8),
                global_json("out_mix", ".bss", 16, 8),
                global_json("out_prev", ".bss", 24, 8),
                global_json("out_sum", ".bss", 32, 8),
                global_json("hits", ".bss", 40, 8),
                global_json("static_sum", ".bss", 48, 8),
                global_json("data_counter", ".data", 0, 4),
                global_json("static_prev", ".data", 8, 8),
                global_json("custom_add", ".data.custom", 0, 8),
            ],
        )
    );
}

#[test]
fn inspect_json_multi() {
    assert_eq!(
        ok(&["inspect", "--json", &obj_str("multi.bpf.o")]),
        inspect_json(
            &[
                prog_json("socket_count", "socket", "socket_filter", 17),
                prog_json("socket_drop", "socket", "socket_filter", 17),
                prog_json(
                    "on_getppid",
                    "tracepoint/syscalls/sys_enter_getppid",
                    "tracepoint",
                    26
                ),
                prog_json(
                    "on_sys_enter",
                    "raw_tracepoint/sys_enter",
                    "raw_tracepoint",
                    32
                ),
            ],
            &[
                map_json("stats", 12, 4, MMAPABLE),
                map_json(".rodata", 16, 1, RODATA)
            ],
            &[
                global_json("target_tid", ".rodata", 0, 4),
                global_json("watch_nr", ".rodata", 8, 8)
            ],
        )
    );
}

#[test]
fn inspect_json_syscall() {
    assert_eq!(
        ok(&["inspect", "--json", &obj_str("syscall.bpf.o")]),
        inspect_json(
            &[prog_json("add_ctx", "syscall", "syscall", 18)],
            &[map_json(".bss", 20, 1, MMAPABLE)],
            &[
                global_json("sum", ".bss", 0, 8),
                global_json("runs", ".bss", 8, 8),
                global_json("last_tag", ".bss", 16, 4)
            ],
        )
    );
}

#[test]
fn inspect_text_counter_and_multi() {
    let p = pg(8);
    let counts = pg(8192);
    assert_eq!(
        ok(&["inspect", &obj_str("counter.bpf.o")]),
        format!(
            "programs (1):\n\
             \x20 NAME            SECTION                            TYPE        INSNS\n\
             \x20 count_syscalls  tracepoint/raw_syscalls/sys_enter  tracepoint  26\n\
             maps (3):\n\
             \x20 NAME     TYPE   KEY_SIZE  VALUE_SIZE  MAX_ENTRIES  FLAGS  MMAPABLE  STRIDE  MMAP_LEN\n\
             \x20 counts   array  4         8           1024         0x400  yes       8       {counts}\n\
             \x20 .rodata  array  4         4           1            0x480  yes       8       {p}\n\
             \x20 .bss     array  4         8           1            0x400  yes       8       {p}\n\
             globals (2):\n\
             \x20 NAME         SECTION  OFFSET  SIZE\n\
             \x20 target_tgid  .rodata  0       4\n\
             \x20 total        .bss     0       8\n"
        )
    );
    let out = ok(&["inspect", &obj_str("multi.bpf.o")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "programs (4):");
    assert_eq!(
        lines[2],
        "  socket_count  socket                                 socket_filter   17"
    );
    assert_eq!(
        lines[3],
        "  socket_drop   socket                                 socket_filter   17"
    );
    assert_eq!(
        lines[4],
        "  on_getppid    tracepoint/syscalls/sys_enter_getppid  tracepoint      26"
    );
    assert_eq!(
        lines[5],
        "  on_sys_enter  raw_tracepoint/sys_enter               raw_tracepoint  32"
    );
    assert_eq!(
        lines[8].split_whitespace().collect::<Vec<_>>(),
        [
            "stats",
            "array",
            "4",
            "12",
            "4",
            "0x400",
            "yes",
            "16",
            &p.to_string()
        ]
    );
    assert_eq!(lines[12], "  target_tid  .rodata  0       4");
    assert_eq!(lines[13], "  watch_nr    .rodata  8       8");
}

#[test]
fn inspect_text_shows_subprograms() {
    let out = ok(&["inspect", &obj_str("globals.bpf.o")]);
    assert!(
        out.contains("  on_getpid  tracepoint/syscalls/sys_enter_getpid  tracepoint  41 (+28 in mix, swap_prev)\n"),
        "{out}"
    );
    assert!(out.contains("globals (13):\n"), "{out}");
    assert!(
        out.contains("  on_getpid.____fmt  .rodata       16      28\n"),
        "{out}"
    );
    assert!(
        out.contains("  custom_add         .data.custom  0       8\n"),
        "{out}"
    );
}

/// inspect needs no privileges: it never calls bpf(2) (checked with strace when present).
#[test]
fn inspect_makes_no_bpf_syscall() {
    if Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        common::skip("inspect_makes_no_bpf_syscall", "strace is not installed");
        return;
    }
    let dir = temp_dir("inspect-strace");
    let log = dir.join("log");
    let st = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=bpf,perf_event_open", "-o"])
        .arg(&log)
        .args([BIN, "inspect", &obj_str("globals.bpf.o")])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let s = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !s.contains("bpf(") && !s.contains("perf_event_open("),
        "{s}"
    );
}

// ---------------------------------------------------------------------------------------
// dump (BPF + bpftool).

/// A map made by bpftool and pinned on bpffs; unpinned on drop.
struct PinnedMap {
    path: PathBuf,
}

impl PinnedMap {
    /// `bpftool map create PATH type array key 4 value VALUE entries ENTRIES name NAME flags FLAGS`.
    fn create(tag: &str, kernel_name: &str, value: u32, entries: u32, flags: u32) -> PinnedMap {
        let path =
            Path::new(common::bpffs()).join(format!("mmbpf_cli_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let status = Command::new("bpftool")
            .args(["map", "create"])
            .arg(&path)
            .args([
                "type",
                "array",
                "key",
                "4",
                "value",
                &value.to_string(),
                "entries",
                &entries.to_string(),
            ])
            .args(["name", kernel_name, "flags", &flags.to_string()])
            .status()
            .expect("run bpftool");
        assert!(status.success(), "bpftool map create failed: {status:?}");
        PinnedMap { path }
    }

    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// `bpftool map update pinned PATH key hex .. value hex ..`.
    fn update(&self, key: u32, value: &[u8]) {
        let mut cmd = Command::new("bpftool");
        cmd.args(["map", "update", "pinned"])
            .arg(&self.path)
            .args(["key", "hex"]);
        cmd.args(key.to_le_bytes().iter().map(|b| format!("{b:02x}")));
        cmd.arg("value")
            .arg("hex")
            .args(value.iter().map(|b| format!("{b:02x}")));
        let status = cmd.status().expect("run bpftool");
        assert!(status.success(), "bpftool map update failed: {status:?}");
    }

    /// The map's kernel id, from `bpftool map show pinned PATH`.
    fn id(&self) -> u32 {
        let out = Command::new("bpftool")
            .args(["map", "show", "pinned"])
            .arg(&self.path)
            .output()
            .expect("run bpftool");
        let s = text(&out.stdout);
        s.split(':')
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("bpftool map show: {s}"))
    }
}

impl Drop for PinnedMap {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn dump_prereqs(test: &str) -> bool {
    if let Some(reason) = common::bpf_unavailable_reason() {
        common::unavailable(test, &reason);
        return false;
    }
    require_tool(test, "bpftool", "version")
}

#[test]
fn dump_bpftool_map_by_pin_and_id() {
    if !dump_prereqs("dump_bpftool_map_by_pin_and_id") {
        return;
    }
    let m = PinnedMap::create("u64", "cli_dump_u64", 8, 16, 1024);
    let empty = ok(&["dump", &m.path()]);
    assert_eq!(
        empty,
        "map cli_dump_u64: array, key 4, value 8, 16 entries, flags 0x400 (mmapable), read through mmap\n  (all elements are zero)\n"
    );
    m.update(3, &42u64.to_le_bytes());
    m.update(15, &u64::MAX.to_le_bytes());
    m.update(0, &0x0102_0304_0506_0708u64.to_le_bytes());
    let want_text = "map cli_dump_u64: array, key 4, value 8, 16 entries, flags 0x400 (mmapable), read through mmap\n\
                     \x20 [0] = 72623859790382856\n  [3] = 42\n  [15] = 18446744073709551615\n";
    assert_eq!(ok(&["dump", &m.path()]), want_text);
    let want_json = "{\"maps\":{\"cli_dump_u64\":{\"type\":\"array\",\"key_size\":4,\"value_size\":8,\"max_entries\":16,\
                     \"mmapable\":true,\"entries\":{\"0\":72623859790382856,\"3\":42,\"15\":18446744073709551615}}}}\n";
    assert_eq!(ok(&["dump", &m.path(), "--json"]), want_json);
    let id = m.id().to_string();
    assert_eq!(ok(&["dump", "--id", &id, "--json"]), want_json);
    assert_eq!(ok(&["dump", "--json", "--id", &id]), want_json);
    // Zeroing an element removes it.
    m.update(3, &[0; 8]);
    assert_eq!(
        ok(&["dump", "--id", &id, "--json"]),
        want_json.replace("\"3\":42,", "")
    );
}

#[test]
fn dump_odd_value_sizes() {
    if !dump_prereqs("dump_odd_value_sizes") {
        return;
    }
    // 12-byte values (stride 16): hex strings of exactly value_size bytes.
    let m = PinnedMap::create("v12", "cli_dump_v12", 12, 4, 1024);
    m.update(1, &[5, 0, 0, 0, 110, 0, 0, 0, 0xab, 0xcd, 0xef, 0x01]);
    m.update(3, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(
        ok(&["dump", &m.path(), "--json"]),
        "{\"maps\":{\"cli_dump_v12\":{\"type\":\"array\",\"key_size\":4,\"value_size\":12,\"max_entries\":4,\
         \"mmapable\":true,\"entries\":{\"1\":\"050000006e000000abcdef01\",\"3\":\"000000000000000000000080\"}}}}\n"
    );
    assert_eq!(
        ok(&["dump", &m.path()]),
        "map cli_dump_v12: array, key 4, value 12, 4 entries, flags 0x400 (mmapable), read through mmap\n\
         \x20 [1] = 0x050000006e000000abcdef01\n  [3] = 0x000000000000000000000080\n"
    );
    // 1-, 2- and 4-byte values are integers.
    for (size, bytes, want) in [
        (1u32, vec![200u8], "200"),
        (2, vec![1, 2], "513"),
        (4, vec![0xff, 0xff, 0xff, 0x7f], "2147483647"),
    ] {
        let m = PinnedMap::create(
            &format!("v{size}"),
            &format!("cli_dump_v{size}"),
            size,
            2,
            1024,
        );
        m.update(1, &bytes);
        assert_eq!(
            ok(&["dump", &m.path(), "--json"]),
            format!(
                "{{\"maps\":{{\"cli_dump_v{size}\":{{\"type\":\"array\",\"key_size\":4,\"value_size\":{size},\
                 \"max_entries\":2,\"mmapable\":true,\"entries\":{{\"1\":{want}}}}}}}}}\n"
            )
        );
    }
    // A value size with no mmap view here (not a multiple of 8 above 64) is still dumped.
    let m = PinnedMap::create("v100", "cli_dump_v100", 100, 2, 1024);
    let mut v = vec![0u8; 100];
    v[99] = 1;
    m.update(0, &v);
    let out = ok(&["dump", &m.path(), "--json"]);
    assert!(
        out.contains(&format!("\"entries\":{{\"0\":\"{}01\"}}", "00".repeat(99))),
        "{out}"
    );
}

#[test]
fn dump_non_mmapable_map_uses_syscalls_and_refuses_watch() {
    if !dump_prereqs("dump_non_mmapable_map_uses_syscalls_and_refuses_watch") {
        return;
    }
    let m = PinnedMap::create("plain", "cli_dump_plain", 8, 4, 0);
    m.update(2, &7u64.to_le_bytes());
    assert_eq!(
        ok(&["dump", &m.path()]),
        "map cli_dump_plain: array, key 4, value 8, 4 entries, flags 0x0, read with syscalls (not mmapable)\n  [2] = 7\n"
    );
    assert_eq!(
        ok(&["dump", &m.path(), "--json"]),
        "{\"maps\":{\"cli_dump_plain\":{\"type\":\"array\",\"key_size\":4,\"value_size\":8,\"max_entries\":4,\
         \"mmapable\":false,\"entries\":{\"2\":7}}}}\n"
    );
    let err = fails(&["dump", &m.path(), "--watch", "1"]);
    assert!(
        err.contains("--watch needs a map that can be read through mmap")
            && err.contains("BPF_F_MMAPABLE"),
        "{err}"
    );
}

#[test]
fn dump_errors() {
    if !dump_prereqs("dump_errors") {
        return;
    }
    let missing = format!(
        "{}/mmbpf_cli_missing_{}",
        common::bpffs(),
        std::process::id()
    );
    let err = fails(&["dump", &missing]);
    assert!(err.contains(&missing) && err.contains("ENOENT"), "{err}");
    let err = fails(&["dump", "--id", "4294967295"]);
    assert!(
        err.contains("map id 4294967295") && err.contains("ENOENT"),
        "{err}"
    );
    // A file that is not on bpffs.
    let err = fails(&["dump", "/etc/hostname"]);
    assert!(err.contains("/etc/hostname"), "{err}");
    // A hash map is refused with a reason.
    let path = Path::new(common::bpffs()).join(format!("mmbpf_cli_hash_{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let st = Command::new("bpftool")
        .args(["map", "create"])
        .arg(&path)
        .args([
            "type",
            "hash",
            "key",
            "4",
            "value",
            "8",
            "entries",
            "4",
            "name",
            "cli_dump_hash",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let err = fails(&["dump", &path.to_string_lossy()]);
    let _ = std::fs::remove_file(&path);
    assert!(
        err.contains("cli_dump_hash")
            && err.contains("hash map")
            && err.contains("dump reads array maps"),
        "{err}"
    );
}

/// `--watch SECS` prints SECS + 1 snapshots one second apart, sees updates made meanwhile,
/// and makes no bpf(2) call and no mmap(2) per refresh (checked with strace: the counts are
/// the same for --watch 0 and --watch 2).
#[test]
fn dump_watch_refreshes_without_syscalls() {
    let test = "dump_watch_refreshes_without_syscalls";
    if !dump_prereqs(test) || !require_tool(test, "strace", "-V") {
        return;
    }
    let m = PinnedMap::create("watch", "cli_dump_watch", 8, 8, 1024);
    m.update(1, &1u64.to_le_bytes());
    let child = Command::new(BIN)
        .args(["dump", &m.path(), "--json", "--watch", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1400));
    m.update(5, &9u64.to_le_bytes());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let head = "{\"maps\":{\"cli_dump_watch\":{\"type\":\"array\",\"key_size\":4,\"value_size\":8,\"max_entries\":8,\"mmapable\":true,";
    assert_eq!(lines[0], format!("{head}\"entries\":{{\"1\":1}}}}}}}}"));
    assert_eq!(
        lines[2],
        format!("{head}\"entries\":{{\"1\":1,\"5\":9}}}}}}}}")
    );

    let count = |watch: &str| -> (usize, usize) {
        let log = temp_dir("strace").join("log");
        let st = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=bpf,mmap,munmap", "-o"])
            .arg(&log)
            .args([BIN, "dump", &m.path(), "--watch", watch])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let s = std::fs::read_to_string(&log).unwrap();
        let _ = std::fs::remove_dir_all(log.parent().unwrap());
        (
            s.lines().filter(|l| l.contains("bpf(")).count(),
            s.lines().filter(|l| l.contains("mmap(")).count(),
        )
    };
    let (bpf0, mmap0) = count("0");
    let (bpf2, mmap2) = count("2");
    assert!(bpf0 >= 1, "the map is opened with bpf(2)");
    assert_eq!(
        (bpf2, mmap2),
        (bpf0, mmap0),
        "--watch 2 makes the same bpf/mmap calls as --watch 0"
    );
}
