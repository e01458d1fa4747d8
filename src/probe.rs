//! Kernel facts used to explain failures after the fact.
//!
//! Nothing here runs on the happy path: when the kernel refuses something, the caller asks
//! which kernel is running and turns a bare `EINVAL` into "needs Linux 5.5", or notices that
//! the kernel still charges BPF memory to `RLIMIT_MEMLOCK` (before 5.11) and raises it once,
//! as libbpf does. Results are cached.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::error::{Errno, KernelVersion};
use crate::sys;

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
    fn running_kernel_parses() {
        assert!(kernel_version().is_some());
    }
}
