//! Kernel facts used to explain failures after the fact (the approach of cilium/ebpf's
//! `internal/feature.go`).
//!
//! Nothing here runs on the happy path: when the kernel refuses something, the caller asks
//! whether the kernel has the feature at all — by trying the smallest possible use of it
//! ([`Feature::is_supported`]: a one-entry map with the flag, a two-instruction program of
//! the type) — and turns a bare `EINVAL` into "needs Linux 5.5". Probes work on distribution
//! kernels with backports, where version numbers mislead; the version (from `uname(2)`)
//! only names the minimum in the message. The module also notices kernels that still charge
//! BPF memory to `RLIMIT_MEMLOCK` (before 5.11) and raises the limit once, as libbpf does.
//! Results are cached per process.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use crate::error::{Errno, KernelVersion};
use crate::sys::{self, abi};

/// A kernel feature that can be probed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// `BPF_F_MMAPABLE` array maps (5.5).
    MmapableArrays,
    /// `BPF_F_RDONLY_PROG` maps, which global `.rodata` needs (5.2).
    ReadOnlyProgMaps,
    /// `BPF_MAP_FREEZE` (5.2).
    MapFreeze,
    /// `BPF_MAP_UPDATE_BATCH` / `BPF_MAP_LOOKUP_BATCH` on arrays (5.6).
    BatchOps,
    /// A program type (`enum bpf_prog_type`), loaded as `r0 = 0; exit`.
    ProgramType(u32),
}

impl Feature {
    /// The first kernel version with the feature (for program types: of the types mmbpf
    /// names; others report 0.0).
    pub fn since(self) -> KernelVersion {
        let (major, minor) = match self {
            Feature::MmapableArrays => (5, 5),
            Feature::ReadOnlyProgMaps | Feature::MapFreeze => (5, 2),
            Feature::BatchOps => (5, 6),
            Feature::ProgramType(t) => match t {
                abi::BPF_PROG_TYPE_SOCKET_FILTER => (3, 19),
                abi::BPF_PROG_TYPE_KPROBE => (4, 1),
                abi::BPF_PROG_TYPE_TRACEPOINT => (4, 7),
                abi::BPF_PROG_TYPE_XDP => (4, 8),
                abi::BPF_PROG_TYPE_RAW_TRACEPOINT => (4, 17),
                abi::BPF_PROG_TYPE_SYSCALL => (5, 14),
                _ => (0, 0),
            },
        };
        KernelVersion::new(major, minor)
    }

    /// Whether the running kernel has the feature, by trying it once (cached). `None` when
    /// the probe itself could not tell (no privileges, out of memory).
    pub fn is_supported(self) -> Option<bool> {
        let slot = match self {
            Feature::MmapableArrays => &CACHE[0],
            Feature::ReadOnlyProgMaps => &CACHE[1],
            Feature::MapFreeze => &CACHE[2],
            Feature::BatchOps => &CACHE[3],
            Feature::ProgramType(t) => match CACHE.get(8 + t as usize) {
                Some(slot) => slot,
                None => return run_probe(self),
            },
        };
        match slot.load(Ordering::Relaxed) {
            YES => Some(true),
            NO => Some(false),
            _ => {
                let r = run_probe(self);
                if let Some(b) = r {
                    slot.store(if b { YES } else { NO }, Ordering::Relaxed);
                }
                r
            }
        }
    }

    /// True when a probe shows the kernel lacks the feature; when the probe cannot tell,
    /// falls back to comparing the kernel version with [`Feature::since`].
    pub fn is_missing(self) -> bool {
        match self.is_supported() {
            Some(supported) => !supported,
            None => kernel_older_than(self.since()),
        }
    }
}

const YES: u8 = 1;
const NO: u8 = 2;
static CACHE: [AtomicU8; 48] = [const { AtomicU8::new(0) }; 48];

fn tiny_array(flags: u32) -> Result<sys::MapFd, Errno> {
    let attr = abi::MapCreateAttr {
        map_type: abi::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        map_flags: flags,
        ..Default::default()
    };
    with_memlock_retry(|| sys::MapFd::create(&attr))
}

/// `Some(false)` for the errnos with which kernels refuse unknown flags, commands and types.
fn verdict<T>(r: Result<T, Errno>) -> Option<bool> {
    match r {
        Ok(_) => Some(true),
        Err(e)
            if e == Errno::EINVAL
                || e == Errno::E2BIG
                || e == Errno::EOPNOTSUPP
                || e == Errno::ENOTSUPP =>
        {
            Some(false)
        }
        Err(_) => None,
    }
}

fn run_probe(feature: Feature) -> Option<bool> {
    match feature {
        Feature::MmapableArrays => verdict(tiny_array(abi::BPF_F_MMAPABLE)),
        Feature::ReadOnlyProgMaps => verdict(tiny_array(abi::BPF_F_RDONLY_PROG)),
        Feature::MapFreeze => {
            let map = tiny_array(0).ok()?;
            verdict(map.freeze())
        }
        Feature::BatchOps => {
            let map = tiny_array(0).ok()?;
            verdict(
                map.update_batch(&0u32.to_ne_bytes(), &0u64.to_ne_bytes(), 0)
                    .map_err(|(_, e)| e),
            )
        }
        Feature::ProgramType(prog_type) => {
            // r0 = 0; exit
            let insns = [
                abi::BpfInsn::new(0xb7, 0, 0, 0),
                abi::BpfInsn::new(abi::BPF_JMP | abi::BPF_EXIT, 0, 0, 0),
            ];
            let req = sys::ProgLoadRequest {
                prog_type,
                expected_attach_type: 0,
                name: b"",
                insns: &insns,
                license: c"GPL",
                kern_version: kernel_version_code(),
                // "Syscall programs can only be sleepable" (the verifier's rule).
                prog_flags: if prog_type == abi::BPF_PROG_TYPE_SYSCALL {
                    abi::BPF_F_SLEEPABLE
                } else {
                    0
                },
                btf_fd: None,
                func_info: &[],
                func_info_rec_size: 0,
                line_info: &[],
                line_info_rec_size: 0,
            };
            verdict(with_memlock_retry(|| sys::prog_load(&req, None)))
        }
    }
}

/// `KERNEL_VERSION(major, minor, 0)`, which kprobes on kernels before 5.0 compare.
fn kernel_version_code() -> u32 {
    kernel_version().map_or(0, |v| ((v.major as u32) << 16) | ((v.minor as u32) << 8))
}

/// The first kernel that accounts BPF memory to the memory cgroup instead of
/// `RLIMIT_MEMLOCK`.
pub const MEMCG_ACCOUNTING_SINCE: KernelVersion = KernelVersion::new(5, 11);

static KERNEL: AtomicU32 = AtomicU32::new(0);

/// The running kernel's `major.minor` from `uname(2)`, or `None` if it cannot be parsed.
pub fn kernel_version() -> Option<KernelVersion> {
    let cached = KERNEL.load(Ordering::Relaxed);
    if cached != 0 {
        return Some(KernelVersion::new((cached >> 16) as u16, cached as u16));
    }
    let mut buf = [0u8; 65];
    let n = sys::uname_release(&mut buf).ok()?;
    let v = parse_release(&buf[..n])?;
    KERNEL.store(((v.major as u32) << 16) | v.minor as u32, Ordering::Relaxed);
    Some(v)
}

/// `"6.1.0-27-amd64"` -> 6.1.
pub fn parse_release(release: &[u8]) -> Option<KernelVersion> {
    let mut parts = release.split(|b| !b.is_ascii_digit());
    let num = |p: &[u8]| -> Option<u16> {
        if p.is_empty() || p.len() > 4 {
            return None;
        }
        p.iter().try_fold(0u16, |acc, d| {
            acc.checked_mul(10)?.checked_add((d - b'0') as u16)
        })
    };
    let major = num(parts.next()?)?;
    let minor = num(parts.next()?)?;
    Some(KernelVersion::new(major, minor))
}

/// True when the running kernel is known to be older than `min`.
pub fn kernel_older_than(min: KernelVersion) -> bool {
    kernel_version().is_some_and(|v| v < min)
}

static MEMLOCK_RAISED: AtomicBool = AtomicBool::new(false);

/// Run `op`; if it fails with `EPERM` on a kernel that charges BPF memory to
/// `RLIMIT_MEMLOCK` (before 5.11), raise the limit to infinity once per process and retry.
///
/// This is what libbpf does (`bump_rlimit_memlock`), except that it only happens after a
/// failure, so newer kernels never pay for it.
pub fn with_memlock_retry<T>(mut op: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    match op() {
        Err(e) if e == Errno::EPERM && kernel_older_than(MEMCG_ACCOUNTING_SINCE) => {
            if !MEMLOCK_RAISED.swap(true, Ordering::Relaxed) {
                let _ = sys::raise_memlock_rlimit();
            }
            op()
        }
        other => other,
    }
}

/// A hint for an `EPERM` that survived [`with_memlock_retry`].
pub fn eperm_hint() -> &'static str {
    if kernel_older_than(MEMCG_ACCOUNTING_SINCE) {
        "this kernel (< 5.11) charges BPF memory to RLIMIT_MEMLOCK; raising it failed or was not \
         enough (needs CAP_SYS_RESOURCE), or the process lacks CAP_BPF/CAP_SYS_ADMIN"
    } else {
        "BPF needs CAP_BPF (or CAP_SYS_ADMIN); run as root or grant the capability \
         (also check kernel.unprivileged_bpf_disabled and lockdown)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_strings() {
        assert_eq!(
            parse_release(b"6.1.0-27-amd64"),
            Some(KernelVersion::new(6, 1))
        );
        assert_eq!(
            parse_release(b"5.10.0-33-cloud-amd64"),
            Some(KernelVersion::new(5, 10))
        );
        assert_eq!(
            parse_release(b"6.18.44-fc-v657"),
            Some(KernelVersion::new(6, 18))
        );
        assert_eq!(parse_release(b"garbage"), None);
        assert_eq!(parse_release(b"99999999.1"), None);
    }

    #[test]
    fn features_name_their_minimum() {
        assert_eq!(Feature::MmapableArrays.since(), KernelVersion::new(5, 5));
        assert_eq!(
            Feature::ProgramType(abi::BPF_PROG_TYPE_SYSCALL).since(),
            KernelVersion::new(5, 14)
        );
        assert_eq!(Feature::ProgramType(999).since(), KernelVersion::new(0, 0));
    }

    #[cfg(feature = "std")]
    #[test]
    fn probes_answer_from_the_fake_kernel() {
        // A fake kernel that refuses BPF_F_MMAPABLE with EINVAL and knows nothing else.
        let no = crate::sys::fake::with(
            |cmd, bytes| {
                use zerocopy::FromBytes;
                assert_eq!(cmd, abi::Cmd::MapCreate);
                let a = abi::MapCreateAttr::read_from_bytes(bytes).unwrap();
                assert_eq!(a.map_flags, abi::BPF_F_MMAPABLE);
                Err(Errno::EINVAL)
            },
            || run_probe(Feature::MmapableArrays),
        );
        assert_eq!(no, Some(false));
        let unknown = crate::sys::fake::with(
            |_, _| Err(Errno::EPERM),
            || run_probe(Feature::ReadOnlyProgMaps),
        );
        assert_eq!(unknown, None, "EPERM says nothing about the feature");
    }

    #[test]
    fn running_kernel_parses() {
        assert!(kernel_version().is_some());
    }
}
