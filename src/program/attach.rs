//! Attaching programs: tracepoints (perf event + BPF link or ioctl), raw tracepoints, socket
//! filters. A [`Link`] detaches when dropped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Program;
use crate::elf::ProgramKind;
use crate::error::{Errno, Error, ErrorKind, KernelVersion, Result};
use crate::fd::{AsFd, BorrowedFd, OwnedFd};
use crate::probe;
use crate::sys::{self, abi};

/// BPF links for perf events (`BPF_LINK_CREATE` with `BPF_PERF_EVENT`) arrived in 5.15.
pub const PERF_LINK_SINCE: KernelVersion = KernelVersion::new(5, 15);
/// The kprobe PMU (`perf_event_open` of kprobes without tracefs) arrived in 4.17.
pub const KPROBE_PMU_SINCE: KernelVersion = KernelVersion::new(4, 17);
/// `BPF_RAW_TRACEPOINT_OPEN` arrived in 4.17.
pub const RAW_TRACEPOINT_SINCE: KernelVersion = KernelVersion::new(4, 17);

/// How a [`Link`] holds its attachment.
#[derive(Debug)]
pub enum LinkKind {
    /// A BPF link (or raw tracepoint) descriptor; closing it detaches.
    Fd(OwnedFd),
    /// A perf event with the program set by `PERF_EVENT_IOC_SET_BPF` (kernels before
    /// 5.15); disabled and closed on drop.
    PerfEvent(OwnedFd),
    /// A BPF link over a perf event (5.15+); the link and the event are closed on drop.
    PerfLink {
        /// The link.
        link: OwnedFd,
        /// The perf event it attaches to.
        perf: OwnedFd,
    },
    /// A socket filter set with `SO_ATTACH_BPF` on a duplicate of the socket; detached
    /// with `SO_DETACH_BPF` on drop.
    Socket(OwnedFd),
}

/// An attachment of a program. Dropping it detaches the program.
#[derive(Debug)]
pub struct Link {
    kind: LinkKind,
    program: String,
    target: String,
}

impl Link {
    /// How the attachment is held.
    pub fn kind(&self) -> &LinkKind {
        &self.kind
    }

    /// The attached program's name.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// What it is attached to (`"tracepoint raw_syscalls/sys_enter"`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Detach now, reporting errors (dropping detaches too, ignoring them).
    pub fn detach(mut self) -> Result<()> {
        let r = self.detach_inner();
        core::mem::forget(self);
        r
    }

    fn detach_inner(&mut self) -> Result<()> {
        match &self.kind {
            LinkKind::PerfEvent(perf) => sys::perf_event_disable(perf.as_fd()).map_err(|e| {
                Error::syscall(format!("PERF_EVENT_IOC_DISABLE for {}", self.target), e)
            }),
            LinkKind::Socket(sock) => sys::socket_detach_bpf(sock.as_fd())
                .map_err(|e| Error::syscall(format!("SO_DETACH_BPF for {}", self.target), e)),
            LinkKind::Fd(_) | LinkKind::PerfLink { .. } => Ok(()),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

impl Program {
    /// Attach according to the section name: `tracepoint/CAT/NAME`, `raw_tracepoint/NAME`.
    /// Program kinds that need a target (socket filters: [`Program::attach_socket`]) or have
    /// no attach point (syscall programs: [`Program::test_run`]) return
    /// [`ErrorKind::InvalidArgument`].
    pub fn attach(&self) -> Result<Link> {
        match self.kind() {
            ProgramKind::Tracepoint { category, name } => {
                let (c, n) = (category.clone(), name.clone());
                self.attach_tracepoint(&c, &n)
            }
            ProgramKind::RawTracepoint { name } => {
                let n = name.clone();
                self.attach_raw_tracepoint(&n)
            }
            ProgramKind::Kprobe { function } if !function.is_empty() => {
                let f = function.clone();
                self.attach_kprobe(&f, false)
            }
            ProgramKind::Kretprobe { function } if !function.is_empty() => {
                let f = function.clone();
                self.attach_kprobe(&f, true)
            }
            other => Err(Error::invalid_argument(format!(
                "program \"{}\" (section \"{}\", {}) has no attach point in its section name",
                self.name(),
                self.section(),
                other.type_name()
            ))),
        }
    }

    /// Attach to the tracepoint `category/name`: `perf_event_open(2)` on the tracepoint's
    /// id (from tracefs), then a BPF link (`BPF_LINK_CREATE`, 5.15+) or, on older kernels,
    /// `PERF_EVENT_IOC_SET_BPF` (4.7+).
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link> {
        let target = format!("tracepoint {category}/{name}");
        let id = tracepoint_id(category, name)?;
        let perf = sys::perf_event_open_tracepoint(id).map_err(|e| {
            Error::syscall(
                format!(
                    "perf_event_open for {target} (id {id}) of program \"{}\"",
                    self.name()
                ),
                e,
            )
        })?;
        self.attach_perf_event(perf, target)
    }

    /// Run the program on a perf event: a BPF link (`BPF_LINK_CREATE` with
    /// `BPF_PERF_EVENT`, 5.15+) or, on older kernels, `PERF_EVENT_IOC_SET_BPF` (4.7+).
    fn attach_perf_event(&self, perf: OwnedFd, target: String) -> Result<Link> {
        let kind = match sys::link_create(self.fd(), perf.as_fd(), abi::BPF_PERF_EVENT, 0) {
            Ok(link) => LinkKind::PerfLink { link, perf },
            Err(e) if probe::kernel_older_than(PERF_LINK_SINCE) || e == Errno::EINVAL => {
                sys::perf_event_set_bpf(perf.as_fd(), self.fd()).map_err(|e| {
                    Error::syscall(
                        format!(
                            "PERF_EVENT_IOC_SET_BPF attaching program \"{}\" to {target}",
                            self.name()
                        ),
                        e,
                    )
                })?;
                sys::perf_event_enable(perf.as_fd()).map_err(|e| {
                    Error::syscall(format!("PERF_EVENT_IOC_ENABLE for {target}"), e)
                })?;
                LinkKind::PerfEvent(perf)
            }
            Err(e) => {
                return Err(Error::syscall(
                    format!(
                        "BPF_LINK_CREATE (BPF_PERF_EVENT) attaching program \"{}\" to {target}",
                        self.name()
                    ),
                    e,
                ))
            }
        };
        Ok(Link {
            kind,
            program: self.name().into(),
            target,
        })
    }

    /// Attach a kprobe (or, with `retprobe`, a kretprobe) to kernel function `function`
    /// (optionally `function+offset`): `perf_event_open(2)` through the kprobe PMU (4.17+),
    /// then a BPF link (5.15+) or `PERF_EVENT_IOC_SET_BPF`. Kernels built without
    /// `CONFIG_KPROBES` have no kprobe PMU: the error says so.
    pub fn attach_kprobe(&self, function: &str, retprobe: bool) -> Result<Link> {
        if !matches!(
            self.kind(),
            ProgramKind::Kprobe { .. } | ProgramKind::Kretprobe { .. }
        ) {
            return Err(Error::invalid_argument(format!(
                "program \"{}\" is a {} program, not a kprobe",
                self.name(),
                self.kind().type_name()
            )));
        }
        let what = if retprobe { "kretprobe" } else { "kprobe" };
        let target = format!("{what} {function}");
        let (name, offset) = match function.split_once('+') {
            Some((n, off)) => {
                let off = parse_offset(off).ok_or_else(|| {
                    Error::invalid_argument(format!("{target}: bad offset {off:?}"))
                })?;
                (n, off)
            }
            None => (function, 0),
        };
        let cname = alloc::ffi::CString::new(name).map_err(|_| {
            Error::invalid_argument(format!("{target}: NUL byte in the function name"))
        })?;
        let pmu = read_sysfs_number("/sys/bus/event_source/devices/kprobe/type\0").map_err(|e| {
            let err = Error::new(ErrorKind::Unsupported, format!("{target}: the kernel has no kprobe PMU")).with_errno(e);
            if probe::kernel_older_than(KPROBE_PMU_SINCE) {
                err.with_kind(ErrorKind::KernelTooOld).with_min_kernel(KPROBE_PMU_SINCE)
            } else {
                err.with_hint("the kernel was built without CONFIG_KPROBES (no /sys/bus/event_source/devices/kprobe)")
            }
        })?;
        let config = if retprobe {
            // The format file says which config bit marks a return probe ("config:0").
            let bit = retprobe_bit().map_err(|e| {
                Error::syscall(
                    format!("{target}: reading the kprobe PMU's retprobe format"),
                    e,
                )
            })?;
            1u64 << bit
        } else {
            0
        };
        let perf = sys::perf_event_open_kprobe(pmu as u32, config, &cname, offset).map_err(|e| {
            let err = Error::syscall(format!("perf_event_open for {target} of program \"{}\"", self.name()), e);
            if e == Errno::ENOENT || e == Errno::EINVAL {
                err.with_kind(ErrorKind::NotFound)
                    .with_hint("no such kernel function, or it cannot be probed (see /sys/kernel/tracing/available_filter_functions)")
            } else {
                err
            }
        })?;
        self.attach_perf_event(perf, target)
    }

    /// Attach to the raw tracepoint `name` with `BPF_RAW_TRACEPOINT_OPEN` (4.17).
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        let target = format!("raw tracepoint {name}");
        let c = alloc::ffi::CString::new(name)
            .map_err(|_| Error::invalid_argument(format!("{target}: NUL byte in name")))?;
        let fd = sys::raw_tracepoint_open(&c, self.fd()).map_err(|e| {
            let err = Error::syscall(
                format!(
                    "BPF_RAW_TRACEPOINT_OPEN attaching program \"{}\" to {target}",
                    self.name()
                ),
                e,
            );
            if e == Errno::ENOENT {
                err.with_kind(ErrorKind::NotFound)
                    .with_hint("no such raw tracepoint in this kernel")
            } else {
                err
            }
        })?;
        Ok(Link {
            kind: LinkKind::Fd(fd),
            program: self.name().into(),
            target,
        })
    }

    /// Attach a socket filter to `socket` with `setsockopt(SO_ATTACH_BPF)` (3.19). The link
    /// keeps a duplicate of the socket descriptor to detach on drop.
    pub fn attach_socket(&self, socket: BorrowedFd<'_>) -> Result<Link> {
        if !matches!(self.kind(), ProgramKind::SocketFilter) {
            return Err(Error::invalid_argument(format!(
                "program \"{}\" is a {} program, not a socket filter",
                self.name(),
                self.kind().type_name()
            )));
        }
        let target = format!("socket fd {}", crate::fd::AsRawFd::as_raw_fd(&socket));
        let dup =
            sys::dup_cloexec(socket).map_err(|e| Error::syscall(format!("dup of {target}"), e))?;
        sys::socket_attach_bpf(dup.as_fd(), self.fd()).map_err(|e| {
            Error::syscall(
                format!("SO_ATTACH_BPF of program \"{}\" to {target}", self.name()),
                e,
            )
        })?;
        Ok(Link {
            kind: LinkKind::Socket(dup),
            program: self.name().into(),
            target,
        })
    }
}

fn parse_offset(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A decimal number from a small sysfs/tracefs file (`path` NUL-terminated).
fn read_sysfs_number(path: &str) -> core::result::Result<u64, Errno> {
    let cpath = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).map_err(|_| Errno::EINVAL)?;
    let mut buf = [0u8; 32];
    let n = sys::read_small_file(cpath, &mut buf)?;
    let text: Vec<u8> = buf[..n]
        .iter()
        .copied()
        .take_while(|b| b.is_ascii_digit())
        .collect();
    core::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or(Errno::EINVAL)
}

/// The bit of `config` that marks a kretprobe: `/sys/bus/event_source/devices/kprobe/format/retprobe`
/// holds `config:N`.
fn retprobe_bit() -> core::result::Result<u32, Errno> {
    let path = c"/sys/bus/event_source/devices/kprobe/format/retprobe";
    let mut buf = [0u8; 32];
    let n = sys::read_small_file(path, &mut buf)?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| Errno::EINVAL)?;
    text.trim()
        .strip_prefix("config:")
        .and_then(|b| b.parse().ok())
        .filter(|&b| b < 64)
        .ok_or(Errno::EINVAL)
}

/// The tracepoint's id from tracefs (`/sys/kernel/tracing/events/CAT/NAME/id`, or the
/// debugfs mount at `/sys/kernel/debug/tracing`).
fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    let bad =
        |s: &str| s.is_empty() || s.contains('/') || s.contains('\0') || s == "." || s == "..";
    if bad(category) || bad(name) {
        return Err(Error::invalid_argument(format!(
            "invalid tracepoint name {category:?}/{name:?}"
        )));
    }
    let mut last = Errno::ENOENT;
    for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let path = format!("{root}/events/{category}/{name}/id\0");
        match read_sysfs_number(&path) {
            Ok(id) => return Ok(id),
            Err(e) if e == Errno::EINVAL => {
                return Err(Error::malformed(format!(
                    "tracefs id file {} holds no number",
                    &path[..path.len() - 1]
                )))
            }
            Err(e) => last = e,
        }
    }
    let err = Error::syscall(
        format!("reading the id of tracepoint {category}/{name}"),
        last,
    );
    Err(if last == Errno::ENOENT {
        err.with_kind(ErrorKind::NotFound).with_hint(
            "no such tracepoint, or tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)",
        )
    } else {
        err
    })
}
