//! Shared helpers for integration tests that run against the real kernel.
//!
//! Rules: when BPF is unavailable a test FAILS if the `CI` environment variable is set, and
//! otherwise prints `mmbpf-test-skip: <test>: <reason>` to stderr and returns. A feature
//! that needs a newer kernel than the running one is skipped the same way (also in CI), but
//! only below its documented minimum version: on a kernel that should have it, the test runs
//! and fails if the feature is missing. `vm-tests/run` counts the skip lines.
#![allow(dead_code)]

use std::sync::OnceLock;

/// The running kernel's `(major, minor, patch)`, parsed from `/proc/version` (Debian's
/// `uname -r` hides the sublevel).
pub fn kernel_version() -> (u32, u32, u32) {
    static V: OnceLock<(u32, u32, u32)> = OnceLock::new();
    *V.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/version").unwrap_or_default();
        parse_proc_version(&text).unwrap_or((0, 0, 0))
    })
}

/// `Linux version 6.1.0-27-amd64 (...) #1 SMP Debian 6.1.115-1` -> (6, 1, 115): the Debian
/// package version at the end is preferred when present because it carries the sublevel.
pub fn parse_proc_version(text: &str) -> Option<(u32, u32, u32)> {
    let nums = |s: &str| -> Option<(u32, u32, u32)> {
        let mut it = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        Some((
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
            it.next().and_then(|p| p.parse().ok()).unwrap_or(0),
        ))
    };
    let release = text.split_whitespace().nth(2)?;
    let (maj, min, patch) = nums(release)?;
    if let Some(pos) = text.find("Debian ") {
        if let Some((dmaj, dmin, dpatch)) = nums(&text[pos + 7..]) {
            if (dmaj, dmin) == (maj, min) {
                return Some((maj, min, dpatch));
            }
        }
    }
    Some((maj, min, patch))
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Print the skip line the VM runner counts.
pub fn skip(test: &str, reason: &str) {
    eprintln!("mmbpf-test-skip: {test}: {reason}");
}

/// Why BPF cannot be used here, or `None` when a probe map can be created.
pub fn bpf_unavailable_reason() -> Option<String> {
    static R: OnceLock<Option<String>> = OnceLock::new();
    R.get_or_init(|| {
        let spec = mmbpf::map::MapSpec::new("probe", mmbpf::map::MapType::ARRAY, 4, 8, 1);
        match mmbpf::map::Map::create(&spec) {
            Ok(_) => None,
            Err(e) => Some(format!("cannot create a BPF map: {e}")),
        }
    })
    .clone()
}

/// Return early from the calling test when BPF is unavailable (fail in CI).
#[macro_export]
macro_rules! require_bpf {
    ($test:expr) => {
        if let Some(reason) = $crate::common::bpf_unavailable_reason() {
            $crate::common::unavailable($test, &reason);
            return;
        }
    };
}

/// Fail in CI, skip with a message elsewhere.
pub fn unavailable(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: BPF is required in CI (CI is set) but unavailable: {reason}");
    }
    skip(
        test,
        &format!("{reason} (run as root with CAP_BPF to include this test)"),
    );
}

/// Return early (skip, also in CI) when the kernel is older than `major.minor`, the first
/// version with `feature`.
#[macro_export]
macro_rules! require_kernel {
    ($test:expr, $major:expr, $minor:expr, $feature:expr) => {
        let (maj, min, _) = $crate::common::kernel_version();
        if (maj, min) < ($major, $minor) {
            $crate::common::skip(
                $test,
                &format!(
                    "{} needs Linux {}.{}, running {}.{}",
                    $feature, $major, $minor, maj, min
                ),
            );
            return;
        }
    };
}

/// Mount bpffs at /sys/fs/bpf if nothing is mounted there; returns the directory.
pub fn bpffs() -> &'static str {
    static M: OnceLock<()> = OnceLock::new();
    M.get_or_init(|| {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        if !mounts
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf") && l.contains(" bpf "))
        {
            let _ = std::process::Command::new("mount")
                .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
                .status();
        }
    });
    "/sys/fs/bpf"
}

/// Mount tracefs at /sys/kernel/tracing if absent.
pub fn tracefs() {
    static M: OnceLock<()> = OnceLock::new();
    M.get_or_init(|| {
        if !std::path::Path::new("/sys/kernel/tracing/events").exists() {
            let _ = std::process::Command::new("mount")
                .args(["-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
                .status();
        }
    });
}

/// Count of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Number of BPF map mappings of this process (`anon_inode:bpf-map` lines in
/// `/proc/self/maps`; other mappings come and go with threads and the allocator).
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().filter(|l| l.contains("bpf-map")).count())
        .unwrap_or(0)
}

#[test]
fn proc_version_parsing() {
    assert_eq!(
        parse_proc_version("Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"),
        Some((6, 1, 115))
    );
    assert_eq!(
        parse_proc_version("Linux version 6.18.44-fc-v657 (builder@x) #1 SMP"),
        Some((6, 18, 44))
    );
    assert_eq!(
        parse_proc_version("Linux version 5.10.0-33-amd64 (x) #1 SMP Debian 5.10.226-1"),
        Some((5, 10, 226))
    );
}
