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

/// Prefixes of every object (spread over the file, plus the boundaries) and single-byte
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
        // 24 cuts spread over the file (the parser's own tests cover every offset).
        let mut cuts: Vec<usize> = (0..24).map(|k| k * bytes.len() / 24).collect();
        cuts.extend([1, 16, 63, 64, 65, bytes.len() / 2, bytes.len() - 1]);
        for cut in cuts {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let err = fails(&["inspect", &p]);
            assert!(err.contains(name), "{err}");
        }
        // Flip bytes all over the file: errors or (harmless bytes) success, but no panic.
        for at in (0..bytes.len()).step_by(bytes.len() / 32 + 1) {
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

/// `run` on corrupted objects (a byte flipped at a stride over the whole file): whatever the
/// parser, the loader or the verifier make of it, the tool exits 0 or 1 and never panics.
#[test]
fn run_corrupted_objects_never_panics() {
    require_bpf!("run_corrupted_objects_never_panics");
    let dir = temp_dir("run-corrupted");
    for name in [
        "counter.bpf.o",
        "globals.bpf.o",
        "multi.bpf.o",
        "syscall.bpf.o",
    ] {
        let bytes = std::fs::read(obj(name)).unwrap();
        let path = dir.join(name);
        let p = path.to_string_lossy().into_owned();
        for at in (0..bytes.len()).step_by(bytes.len() / 8 + 1) {
            let mut b = bytes.clone();
            b[at] ^= 0x5a;
            std::fs::write(&path, &b).unwrap();
            let out = mmbpf(&["run", &p, "--json"]);
            let err = text(&out.stderr);
            assert!(
                !err.contains("panicked"),
                "{name} with byte {at} changed: {err}"
            );
            match out.status.code() {
                Some(0) => assert!(text(&out.stdout).starts_with("{\"maps\":{"), "{name} @{at}"),
                Some(1) => assert!(err.starts_with("mmbpf: "), "{name} @{at}: {err}"),
                other => panic!("{name} with byte {at} changed: exit {other:?}\n{err}"),
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

/// A map larger than the chunk the tool copies at a time (64 KiB): elements on both sides
/// of chunk boundaries, and the last one.
#[test]
fn dump_large_map() {
    if !dump_prereqs("dump_large_map") {
        return;
    }
    let m = PinnedMap::create("large", "cli_dump_large", 12, 20000, 1024);
    let idx = [0u32, 4095, 4096, 8191, 8192, 19999];
    for i in idx {
        m.update(i, &[i.to_le_bytes(), [1, 2, 3, 4], [0xff; 4]].concat());
    }
    let out = ok(&["dump", &m.path(), "--json"]);
    let entries: Vec<String> = idx
        .iter()
        .map(|i| format!("\"{i}\":\"{}01020304ffffffff\"", hex(&i.to_le_bytes())))
        .collect();
    assert_eq!(
        out,
        format!(
            "{{\"maps\":{{\"cli_dump_large\":{{\"type\":\"array\",\"key_size\":4,\"value_size\":12,\
             \"max_entries\":20000,\"mmapable\":true,\"entries\":{{{}}}}}}}}}\n",
            entries.join(",")
        )
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
    let mut child = Command::new(BIN)
        .args(["dump", &m.path(), "--json", "--watch", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Update the map once the first snapshot is out; the last one (2 s later) must see it.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    m.update(5, &9u64.to_le_bytes());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<&str> = std::iter::once(first.trim_end())
        .chain(rest.lines())
        .collect();
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
// ---------------------------------------------------------------------------------------
// run and the demo (BPF).

#[cfg(target_arch = "x86_64")]
const SYS_GETPPID: u32 = 110;
/// asm-generic numbering (aarch64, riscv64, loongarch64).
#[cfg(not(target_arch = "x86_64"))]
const SYS_GETPPID: u32 = 173;
#[cfg(target_arch = "x86_64")]
const SYS_GETPID_SCHED_YIELD: (u32, u32) = (39, 24);
#[cfg(not(target_arch = "x86_64"))]
const SYS_GETPID_SCHED_YIELD: (u32, u32) = (172, 124);

/// A helper process (this test binary, re-run as the `helper_process` test) whose pid and
/// tid are known before `mmbpf run` loads the object: it waits until the command given to
/// `--exec` opens the fifo `go`, makes exactly N system calls of one kind on the thread
/// whose tid it reported, then writes to the fifo `done`, which the `--exec` command waits
/// for. Killed on drop if still running.
struct Helper {
    child: std::process::Child,
    dir: PathBuf,
    pid: u32,
    tid: u32,
}

impl Helper {
    fn start(syscall: &str, count: u32) -> Helper {
        let dir = temp_dir("helper");
        for fifo in ["go", "done"] {
            let st = Command::new("mkfifo")
                .arg(dir.join(fifo))
                .status()
                .expect("mkfifo");
            assert!(st.success());
        }
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "helper_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                "MMBPF_CLI_HELPER",
                format!("{} {syscall} {count}", dir.display()),
            )
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn helper");
        let pid = child.id();
        let tid_file = dir.join("tid");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let tid = loop {
            if let Some(t) = std::fs::read_to_string(&tid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the helper did not report its tid"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        Helper {
            child,
            dir,
            pid,
            tid,
        }
    }

    /// The `--exec` command line that releases the helper and waits for it.
    fn exec_args(&self) -> Vec<String> {
        vec![
            "--exec".into(),
            "timeout".into(),
            "20".into(),
            "sh".into(),
            "-c".into(),
            "echo go > \"$0\" && read done < \"$1\"".into(),
            self.dir.join("go").to_string_lossy().into_owned(),
            self.dir.join("done").to_string_lossy().into_owned(),
        ]
    }

    fn exec_json(&self) -> String {
        let cmd = self.exec_args()[1..].join(" ").replace('"', "\\\"");
        format!("\"exec\":{{\"command\":\"{cmd}\",\"status\":0,\"signal\":null}}")
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Not a test of its own: the body of [`Helper`] when run with `MMBPF_CLI_HELPER` set.
#[test]
fn helper_process() {
    let Ok(spec) = std::env::var("MMBPF_CLI_HELPER") else {
        return;
    };
    let mut parts = spec.split(' ');
    let (dir, syscall, count) = (
        PathBuf::from(parts.next().unwrap()),
        parts.next().unwrap().to_string(),
        parts.next().unwrap().parse::<u32>().unwrap(),
    );
    // "/proc/thread-self" -> "PID/task/TID".
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    let tid = link.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::write(dir.join("tid.tmp"), &tid).unwrap();
    std::fs::rename(dir.join("tid.tmp"), dir.join("tid")).unwrap();
    let _ = std::fs::read(dir.join("go")).unwrap();
    for _ in 0..count {
        match syscall.as_str() {
            "getppid" => {
                std::hint::black_box(std::os::unix::process::parent_id());
            }
            "getpid" => {
                std::hint::black_box(std::process::id());
            }
            other => panic!("helper: unknown syscall {other}"),
        }
    }
    std::fs::write(dir.join("done"), "done\n").unwrap();
    std::process::exit(0);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn triple(a: u32, b: u32, c: u32) -> String {
    hex(&[a.to_le_bytes(), b.to_le_bytes(), c.to_le_bytes()].concat())
}

#[test]
fn demo_counts_the_workload_through_mmap_and_syscalls() {
    require_bpf!("demo_counts_the_workload_through_mmap_and_syscalls");
    let out = ok::<&str>(&[]);
    assert!(
        out.starts_with("mmbpf demo: counter.bpf.o (bundled)"),
        "{out}"
    );
    let row = |slot: u32| -> Vec<String> {
        out.lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .find(|w| w.first().map(String::as_str) == Some(&slot.to_string()))
            .unwrap_or_else(|| panic!("no row for slot {slot}:\n{out}"))
    };
    assert_eq!(
        row(SYS_GETPPID),
        [
            SYS_GETPPID.to_string(),
            "getppid".into(),
            "1000".into(),
            "1000".into(),
            "yes".into(),
            "1000".into()
        ]
    );
    let (getpid, sched_yield) = SYS_GETPID_SCHED_YIELD;
    assert_eq!(row(getpid)[1..], ["getpid", "500", "500", "yes", "500"]);
    assert_eq!(
        row(sched_yield)[1..],
        ["sched_yield", "250", "250", "yes", "250"]
    );
    let sums: Vec<u64> = out
        .lines()
        .find(|l| l.starts_with("sum of slots "))
        .unwrap_or_else(|| panic!("no sum line:\n{out}"))
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        sums.len() == 2 && sums[1] >= sums[0] && sums[0] >= 1750,
        "{sums:?}\n{out}"
    );
    assert!(
        !out.contains(" NO "),
        "mmap and syscall readings differ:\n{out}"
    );
    assert!(
        out.contains("mmap view (memory loads, no syscall)"),
        "{out}"
    );
    assert!(out.contains("1024 x BPF_MAP_LOOKUP_ELEM"), "{out}");
    assert!(out.contains("x faster than one lookup per slot"), "{out}");
}

#[test]
fn run_counter_counts_a_process() {
    require_bpf!("run_counter_counts_a_process");
    let h = Helper::start("getppid", 1000);
    let mut args = vec![
        "run".to_string(),
        obj_str("counter.bpf.o"),
        "--set".into(),
        format!("target_tgid={}", h.pid),
        "--json".into(),
    ];
    args.extend(h.exec_args());
    let out = ok(&args);
    assert!(out.starts_with("{\"maps\":{\"counts\":{\"type\":\"array\",\"key_size\":4,\"value_size\":8,\"max_entries\":1024,\"mmapable\":true,\"entries\":{"), "{out}");
    let entry = format!("\"{SYS_GETPPID}\":1000");
    assert!(
        out.contains(&format!("{entry},")) || out.contains(&format!("{entry}}}")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\"globals\":{{\"target_tgid\":{},\"total\":",
            h.pid
        )),
        "{out}"
    );
    assert!(out.ends_with(&format!("{}}}\n", h.exec_json())), "{out}");
}

#[test]
fn run_globals_with_overrides_in_every_section() {
    require_bpf!("run_globals_with_overrides_in_every_section");
    let h = Helper::start("getpid", 3);
    let mut args: Vec<String> = [
        "run",
        &obj_str("globals.bpf.o"),
        "--json",
        "--set",
        &format!("target_tid={}", h.tid),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // .rodata, .bss, .data and .data.custom initial values.
    for s in [
        "scale=3",
        "in_val=10",
        "data_counter=0x10",
        "custom_add=100",
    ] {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    args.extend(h.exec_args());
    let out = ok(&args);
    let fmt = hex(b"mmbpf globals: in_val=%llu\n\0");
    // Per getpid with in_val 10: out_mix = 10 * 3 + 100; static_prev 42 -> 10; sums 3 x 10.
    assert_eq!(
        out,
        format!(
            "{{\"maps\":{{}},\"globals\":{{\"target_tid\":{},\"scale\":3,\"on_getpid.____fmt\":\"{fmt}\",\
             \"in_val\":10,\"out_val\":10,\"out_mix\":130,\"out_prev\":10,\"out_sum\":30,\"hits\":3,\"static_sum\":30,\
             \"data_counter\":19,\"static_prev\":10,\"custom_add\":100}},{}}}\n",
            h.tid,
            h.exec_json()
        )
    );
}

#[test]
fn run_globals_text() {
    require_bpf!("run_globals_text");
    let h = Helper::start("getpid", 1);
    let mut args = vec![
        "run".to_string(),
        obj_str("globals.bpf.o"),
        "--set".into(),
        format!("target_tid={}", h.tid),
    ];
    args.extend(h.exec_args());
    let out = ok(&args);
    // Notes (BTF or mmap fallbacks on old kernels) are not part of what is checked here.
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(lines[0], format!("set target_tid (.rodata) = {}", h.tid));
    assert_eq!(
        lines[1],
        format!("loaded {}: 1 program, 5 maps", obj_str("globals.bpf.o"))
    );
    assert_eq!(
        lines[2],
        "attached on_getpid to tracepoint syscalls/sys_enter_getpid"
    );
    assert!(
        lines[3].starts_with("exec timeout 20 sh -c ") && lines[3].ends_with(": exit status 0"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "detached 1 program");
    assert_eq!(lines[5], "globals (13):");
    let globals: Vec<Vec<&str>> = lines[7..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let tid = h.tid.to_string();
    let fmt = format!("0x{}", hex(b"mmbpf globals: in_val=%llu\n\0"));
    // One getpid with the defaults: in_val 0, scale 1, custom_add 7; out_prev is the first
    // static_prev (42).
    let want: Vec<Vec<&str>> = vec![
        vec!["target_tid", ".rodata", &tid],
        vec!["scale", ".rodata", "1"],
        vec!["on_getpid.____fmt", ".rodata", &fmt],
        vec!["in_val", ".bss", "0"],
        vec!["out_val", ".bss", "0"],
        vec!["out_mix", ".bss", "7"],
        vec!["out_prev", ".bss", "42"],
        vec!["out_sum", ".bss", "0"],
        vec!["hits", ".bss", "1"],
        vec!["static_sum", ".bss", "0"],
        vec!["data_counter", ".data", "1001"],
        vec!["static_prev", ".data", "0"],
        vec!["custom_add", ".data.custom", "7"],
    ];
    assert_eq!(globals, want, "{out}");
}

#[test]
fn run_multi_tracepoints_and_socket_test_runs() {
    require_bpf!("run_multi_tracepoints_and_socket_test_runs");
    let h = Helper::start("getppid", 5);
    let mut args: Vec<String> = vec!["run".into(), obj_str("multi.bpf.o"), "--json".into()];
    for s in [
        format!("target_tid={}", h.tid),
        format!("watch_nr={SYS_GETPPID}"),
    ] {
        args.extend(["--set".to_string(), s]);
    }
    args.extend(["--test-run", "socket_drop", "--test-run", "socket_count"].map(String::from));
    args.extend(h.exec_args());
    let out = ok(&args);
    // A 64-byte zero frame: the socket programs see skb->len 50 (the 14-byte Ethernet header
    // is pulled); socket_drop returns 0, socket_count returns skb->len.
    let seen = triple(5, SYS_GETPPID, h.tid);
    assert_eq!(
        out,
        format!(
            "{{\"maps\":{{\"stats\":{{\"type\":\"array\",\"key_size\":4,\"value_size\":12,\"max_entries\":4,\"mmapable\":true,\
             \"entries\":{{\"0\":\"{}\",\"1\":\"{seen}\",\"2\":\"{seen}\",\"3\":\"{}\"}}}}}},\
             \"globals\":{{\"target_tid\":{},\"watch_nr\":{SYS_GETPPID}}},\
             \"test_runs\":[{{\"program\":\"socket_drop\",\"retval\":0}},{{\"program\":\"socket_count\",\"retval\":50}}],{}}}\n",
            triple(1, 50, 50),
            triple(1, 50, 50),
            h.tid,
            h.exec_json()
        )
    );
}

#[test]
fn run_syscall_program_test_runs() {
    require_bpf!("run_syscall_program_test_runs");
    require_kernel!(
        "run_syscall_program_test_runs",
        5,
        14,
        "BPF_PROG_TYPE_SYSCALL"
    );
    // struct syscall_args { u64 add; u32 tag; u32 runs_out; u64 sum_out; }
    let ctx = |add: u64, tag: u32, runs: u32, sum: u64| {
        hex(&[
            &add.to_le_bytes()[..],
            &tag.to_le_bytes(),
            &runs.to_le_bytes(),
            &sum.to_le_bytes(),
        ]
        .concat())
    };
    let out = ok(&[
        "run",
        &obj_str("syscall.bpf.o"),
        "--json",
        "--test-run",
        &format!("add_ctx={}", ctx(5, 77, 0, 0)),
        "--test-run",
        &format!("add_ctx={}", ctx(7, 88, 0, 0)),
    ]);
    assert_eq!(
        out,
        format!(
            "{{\"maps\":{{}},\"globals\":{{\"sum\":12,\"runs\":2,\"last_tag\":88}},\"test_runs\":[\
             {{\"program\":\"add_ctx\",\"retval\":1,\"ctx\":\"{}\"}},{{\"program\":\"add_ctx\",\"retval\":2,\"ctx\":\"{}\"}}]}}\n",
            ctx(5, 77, 1, 5),
            ctx(7, 88, 2, 12)
        )
    );
    // Text: the same values.
    let out = ok(&[
        "run",
        &obj_str("syscall.bpf.o"),
        "--test-run",
        &format!("add_ctx={}", ctx(5, 77, 0, 0)),
    ]);
    assert!(
        out.contains(&format!(
            "test run add_ctx: retval 1, ctx {}\n",
            ctx(5, 77, 1, 5)
        )),
        "{out}"
    );
    assert!(
        out.contains("  sum       .bss     5\n") && out.contains("  last_tag  .bss     77\n"),
        "{out}"
    );
}

#[test]
fn run_set_errors_need_no_privileges() {
    let o = obj_str("globals.bpf.o");
    let err = fails(&["run", &o, "--set", "nosuch=1"]);
    assert!(
        err.contains("--set nosuch: no global variable of that name (globals: target_tid, scale,"),
        "{err}"
    );
    let err = fails(&["run", &o, "--set", "on_getpid.____fmt=1"]);
    assert!(err.contains("the variable is 28 bytes"), "{err}");
    let err = fails(&["run", &o, "--set", "target_tid=0x100000000"]);
    assert!(
        err.contains("--set target_tid=4294967296: the value does not fit the 4-byte variable"),
        "{err}"
    );
    let err = fails(&["run", &o, "--set", "target_tid=-2147483649"]);
    assert!(err.contains("does not fit the 4-byte variable"), "{err}");
}

#[test]
fn run_errors() {
    require_bpf!("run_errors");
    let o = obj_str("multi.bpf.o");
    let err = fails(&["run", &o, "--test-run", "nosuch"]);
    assert!(err.contains("nosuch"), "{err}");
    let err = fails(&["run", &o, "--test-run", "on_getppid"]);
    assert!(err.contains("on_getppid"), "{err}");
    let err = fails(&["run", &o, "--json", "--exec", "/nonexistent/command", "arg"]);
    assert!(
        err.contains("--exec /nonexistent/command arg: cannot run it"),
        "{err}"
    );
}

/// A program the verifier rejects: exit 1, the error line, then the verifier log.
#[test]
fn run_prints_the_verifier_log() {
    require_bpf!("run_prints_the_verifier_log");
    let mut bytes = std::fs::read(obj("counter.bpf.o")).unwrap();
    let (off, _) = section(&bytes, "tracepoint/raw_syscalls/sys_enter").expect("program section");
    // Instruction 0 becomes `r0 = r5`: r5 is not initialised at program entry.
    bytes[off..off + 8].copy_from_slice(&[0xbf, 0x50, 0, 0, 0, 0, 0, 0]);
    let dir = temp_dir("verifier");
    let path = dir.join("bad.bpf.o");
    std::fs::write(&path, &bytes).unwrap();
    let out = mmbpf(&["run", &path.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(&dir);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let mut lines = err.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("mmbpf: ") && first.contains("count_syscalls"),
        "{err}"
    );
    assert_eq!(lines.next(), Some("verifier log:"), "{err}");
    assert!(err.contains("R5 !read_ok"), "{err}");
}

/// `(file offset, size)` of the named section of a 64-bit little-endian ELF file.
fn section(elf: &[u8], name: &str) -> Option<(usize, usize)> {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let hdr = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(hdr(shstrndx) + 0x18);
    (0..shnum).find_map(|i| {
        let h = hdr(i);
        let n = strtab + u32_at(h);
        let end = elf[n..].iter().position(|&b| b == 0)? + n;
        (&elf[n..end] == name.as_bytes()).then(|| (u64_at(h + 0x18), u64_at(h + 0x20)))
    })
}
