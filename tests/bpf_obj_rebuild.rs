//! Rebuilding bpf-obj/ with clang-19 must reproduce the committed objects
//! byte for byte.
//!
//! Runs `bpf-obj/build.sh` into a temporary directory and compares every
//! `*.bpf.o`.  Needs clang-19 and llvm-strip-19 (Debian/Ubuntu packages
//! `clang-19` and `llvm-19`), or `$CLANG` / `$LLVM_STRIP`.  Without clang the
//! test is skipped, except under CI (`$CI` set), where it fails.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

fn tool_runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn temp_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = env::temp_dir().join(format!(
        "mmbpf-bpf-obj-rebuild-{}-{}",
        std::process::id(),
        nanos
    ));
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn committed_objects(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read bpf-obj/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf.o"))
        .collect();
    names.sort();
    names
}

#[test]
fn rebuild_matches_committed() {
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang-19".to_string());
    if !tool_runs(&clang) {
        if env::var_os("CI").is_some() {
            panic!(
                "rebuild_matches_committed: {clang} not found, but CI is set: install clang-19 \
                 and llvm-19 (or set CLANG / LLVM_STRIP) so the committed bpf-obj/*.bpf.o are \
                 checked against their sources"
            );
        }
        eprintln!("mmbpf-test-skip: rebuild_matches_committed: clang-19 not found");
        return;
    }

    // build.sh derives the strip tool from CLANG the same way (clang-19 -> llvm-strip-19).
    let strip = env::var("LLVM_STRIP").unwrap_or_else(|_| match clang.rfind("clang") {
        Some(i) if !clang[i..].contains('/') => {
            format!("{}llvm-strip{}", &clang[..i], &clang[i + "clang".len()..])
        }
        _ => "llvm-strip-19".to_string(),
    });
    if !tool_runs(&strip) {
        if env::var_os("CI").is_some() {
            panic!(
                "rebuild_matches_committed: {clang} is present but {strip} is not, and CI is set: \
                 install llvm-19 (or set LLVM_STRIP)"
            );
        }
        eprintln!("mmbpf-test-skip: rebuild_matches_committed: {strip} not found");
        return;
    }

    let bpf_obj = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf-obj");
    let committed = committed_objects(&bpf_obj);
    assert!(
        !committed.is_empty(),
        "no committed *.bpf.o in {}",
        bpf_obj.display()
    );

    let out = temp_dir();
    let output = Command::new("sh")
        .arg(bpf_obj.join("build.sh"))
        .arg(&out)
        .env("CLANG", &clang)
        .env("LLVM_STRIP", &strip)
        .output()
        .expect("run bpf-obj/build.sh");
    assert!(
        output.status.success(),
        "bpf-obj/build.sh failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let mut problems = Vec::new();
    for name in &committed {
        let old = fs::read(bpf_obj.join(name)).expect("read committed object");
        match fs::read(out.join(name)) {
            Err(e) => problems.push(format!("{name}: not rebuilt ({e})")),
            Ok(new) if new != old => {
                let first = old
                    .iter()
                    .zip(new.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(old.len().min(new.len()));
                problems.push(format!(
                    "{name}: rebuilt object differs from the committed one \
                     (committed {} bytes, rebuilt {} bytes, first difference at byte {first:#x})",
                    old.len(),
                    new.len()
                ));
            }
            Ok(_) => {}
        }
    }
    // Every source must have a committed object.
    for entry in fs::read_dir(&out).expect("read rebuild dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".bpf.o") && !committed.contains(&name) {
            problems.push(format!(
                "{name}: built from source but not committed in bpf-obj/"
            ));
        }
    }
    let _ = fs::remove_dir_all(&out);

    assert!(
        problems.is_empty(),
        "bpf-obj/ objects do not match their sources (rebuild with bpf-obj/build.sh using \
         clang-19 and commit the result):\n  {}",
        problems.join("\n  ")
    );
}
