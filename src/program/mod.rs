//! Loaded BPF programs: `BPF_PROG_LOAD` with verifier logs, attachment, test runs, pinning.

mod attach;
mod test_run;

pub use attach::{Link, LinkKind, KPROBE_PMU_SINCE, PERF_LINK_SINCE, RAW_TRACEPOINT_SINCE};
pub use test_run::{TestRun, TestRunResult, TEST_RUN_SINCE};

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::ffi::CStr;

use crate::elf::ProgramKind;
use crate::error::{Errno, Error, ErrorKind, Result};
use crate::fd::{AsFd, BorrowedFd, OwnedFd};
use crate::probe;
use crate::sys::{self, abi::BpfInsn, ProgLoadRequest};

/// Largest verifier log buffer mmbpf asks for (the kernel caps it at `UINT_MAX >> 2`).
const MAX_LOG: usize = 16 << 20;
/// How much of the verifier log an error keeps (its end, where the reason is).
const LOG_TAIL: usize = 32 << 10;

/// A program loaded into the kernel. Owns its descriptor; dropping it unloads the program
/// unless something else (an attachment, a pin) holds it.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    name: String,
    section: String,
    kind: ProgramKind,
}

/// What [`Program::load`] needs besides the instructions.
#[derive(Debug)]
pub struct LoadOptions<'a> {
    /// The license (`SEC("license")`); GPL-only helpers need a GPL-compatible one.
    pub license: &'a str,
    /// `kern_version` (only kprobes on kernels before 5.0 check it).
    pub kern_version: u32,
    /// The object's BTF, to pass func_info/line_info.
    pub btf: Option<BorrowedFd<'a>>,
    /// `struct bpf_func_info` records and their size.
    pub func_info: (&'a [u8], u32),
    /// `struct bpf_line_info` records and their size.
    pub line_info: (&'a [u8], u32),
}

impl Program {
    /// Load `insns` as a program of `kind` with `BPF_PROG_LOAD`
    /// ([`bpf(2)`](https://man7.org/linux/man-pages/man2/bpf.2.html), Linux 3.18; each
    /// program type has its own minimum, e.g. syscall programs 5.14).
    ///
    /// The first attempt runs without a verifier log (fast). When the kernel refuses, the
    /// load is repeated with a log (growing the buffer on `ENOSPC`) and the error carries
    /// the errno and the end of the log ([`Error::verifier_log`]). On kernels before 5.11
    /// an `EPERM` from `RLIMIT_MEMLOCK` is handled by raising the limit once.
    pub fn load(
        name: &str,
        section: &str,
        kind: ProgramKind,
        insns: &[BpfInsn],
        opts: &LoadOptions<'_>,
    ) -> Result<Program> {
        let kname = kernel_prog_name(name);
        let license = CString::new(opts.license).map_err(|_| {
            Error::invalid_argument(format!("program \"{name}\": license contains a NUL byte"))
        })?;
        let req = ProgLoadRequest {
            prog_type: kind.prog_type(),
            expected_attach_type: kind.expected_attach_type(),
            name: kname.as_bytes(),
            insns,
            license: &license,
            kern_version: opts.kern_version,
            prog_flags: if kind.is_sleepable() {
                crate::sys::abi::BPF_F_SLEEPABLE
            } else {
                0
            },
            btf_fd: opts.btf,
            func_info: opts.func_info.0,
            func_info_rec_size: opts.func_info.1,
            line_info: opts.line_info.0,
            line_info_rec_size: opts.line_info.1,
        };
        match probe::with_memlock_retry(|| sys::prog_load(&req, None)) {
            Ok(fd) => Ok(Program {
                fd,
                name: name.into(),
                section: section.into(),
                kind,
            }),
            Err(first) => Err(explain_load_failure(name, section, &kind, &req, first)),
        }
    }

    /// Adopt a program descriptor (from a pin or an id); `kind` is what the caller knows of it.
    pub fn from_fd(fd: OwnedFd, name: &str, section: &str, kind: ProgramKind) -> Program {
        Program {
            fd,
            name: name.into(),
            section: section.into(),
            kind,
        }
    }

    /// The function name in the object.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section (`SEC()` name) it came from.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The program kind, from the section name.
    pub fn kind(&self) -> &ProgramKind {
        &self.kind
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The kernel's id for this program (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn id(&self) -> Result<u32> {
        sys::prog_info(self.fd()).map(|i| i.id).map_err(|e| {
            Error::syscall(
                format!("BPF_OBJ_GET_INFO_BY_FD on program \"{}\"", self.name),
                e,
            )
        })
    }

    /// Pin the program at `path` on a bpffs (`BPF_OBJ_PIN`, 4.4).
    #[cfg(feature = "std")]
    pub fn pin(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let path = path.as_ref();
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::invalid_argument(format!("path {path:?} contains a NUL byte")))?;
        self.pin_cstr(&c)
    }

    /// [`Program::pin`] with a C string path.
    pub fn pin_cstr(&self, path: &CStr) -> Result<()> {
        sys::obj_pin(self.fd(), path).map_err(|e| {
            let err = Error::syscall(
                format!("BPF_OBJ_PIN of program \"{}\" at {path:?}", self.name),
                e,
            );
            if e == Errno::EEXIST {
                err.with_hint("something is already pinned at that path")
            } else {
                err.with_hint("the path must be on a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)")
            }
        })
    }
}

/// Kernel program names are at most 15 bytes of `[A-Za-z0-9_.]`; longer function names are
/// cut (as libbpf does; the full name stays in [`Program::name`]).
fn kernel_prog_name(name: &str) -> String {
    crate::map::sanitize_kernel_name(name)
}

fn explain_load_failure(
    name: &str,
    section: &str,
    kind: &ProgramKind,
    req: &ProgLoadRequest<'_>,
    first: Errno,
) -> Error {
    let what = format!("BPF_PROG_LOAD of program \"{name}\" (section \"{section}\")");
    if first == Errno::EPERM {
        return Error::syscall(what, first);
    }
    if probe::Feature::ProgramType(kind.prog_type()).is_missing() {
        return Error::kernel_too_old(
            format!("{what}: {} programs", kind.type_name()),
            kind.min_kernel(),
        )
        .with_errno(first);
    }
    // Retry with a verifier log, growing the buffer until the log fits.
    let mut size = 256 << 10;
    let mut errno = first;
    let mut log_text = String::new();
    loop {
        let mut buf = vec![0u8; size];
        match sys::prog_load(req, Some((&mut buf, crate::sys::abi::BPF_LOG_LEVEL1))) {
            Ok(_fd) => {
                // Loading with a log succeeded where the plain load failed; report the
                // original error without a log.
                break;
            }
            Err(e) if e == Errno::ENOSPC && size < MAX_LOG => size *= 4,
            Err(e) => {
                errno = e;
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                log_text = String::from_utf8_lossy(&buf[..end]).into_owned();
                break;
            }
        }
    }
    let kind_of = if errno == Errno::EACCES || errno == Errno::EINVAL && !log_text.is_empty() {
        ErrorKind::VerifierRejected
    } else if errno == Errno::EPERM {
        ErrorKind::PermissionDenied
    } else {
        ErrorKind::Syscall
    };
    let mut err = Error::new(kind_of, what).with_errno(errno);
    if !log_text.is_empty() {
        err = err.with_verifier_log(log_tail(&log_text));
        if let Some(last) = log_text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with("processed "))
        {
            err = err.with_hint(format!("verifier: {}", last.trim()));
        }
    }
    err
}

/// The end of a verifier log, cut at a line boundary.
fn log_tail(log: &str) -> String {
    if log.len() <= LOG_TAIL {
        return log.into();
    }
    let mut start = log.len() - LOG_TAIL;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    let cut = log[start..].find('\n').map_or(start, |i| start + i + 1);
    format!(
        "...(log truncated to its last {} bytes)\n{}",
        log.len() - cut,
        &log[cut..]
    )
}

impl ProgramKind {
    /// The program type's short name (`"tracepoint"`, `"socket_filter"`), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ProgramKind::SocketFilter => "socket_filter",
            ProgramKind::Tracepoint { .. } => "tracepoint",
            ProgramKind::RawTracepoint { .. } => "raw_tracepoint",
            ProgramKind::Syscall => "syscall",
            ProgramKind::Kprobe { .. } => "kprobe",
            ProgramKind::Kretprobe { .. } => "kretprobe",
            ProgramKind::Xdp => "xdp",
        }
    }

    /// Whether [`Program::attach`] can attach it from the section name alone.
    pub fn has_attach_point(&self) -> bool {
        match self {
            ProgramKind::Tracepoint { category, name } => !category.is_empty() && !name.is_empty(),
            ProgramKind::RawTracepoint { name } => !name.is_empty(),
            ProgramKind::Kprobe { function } | ProgramKind::Kretprobe { function } => {
                !function.is_empty()
            }
            _ => false,
        }
    }

    /// Whether a test run needs packet data (socket filters, XDP).
    pub fn needs_packet_data(&self) -> bool {
        matches!(self, ProgramKind::SocketFilter | ProgramKind::Xdp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_end() {
        let long: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
        let tail = log_tail(&long);
        assert!(tail.starts_with("...(log truncated"));
        assert!(tail.ends_with("line 9999\n"));
        assert!(tail.len() < LOG_TAIL + 100);
        assert_eq!(log_tail("short"), "short");
    }

    fn gpl_without_btf() -> LoadOptions<'static> {
        LoadOptions {
            license: "GPL",
            kern_version: 0,
            btf: None,
            func_info: (&[], 0),
            line_info: (&[], 0),
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn unknown_program_type_is_explained_as_kernel_too_old() {
        // A fake kernel that refuses every XDP program with EINVAL, the probe's
        // `r0 = 0; exit` included: the error names XDP's minimum kernel, without a log.
        let insns = [BpfInsn::new(0xb7, 0, 0, 0), BpfInsn::new(0x95, 0, 0, 0)];
        let opts = gpl_without_btf();
        let err = crate::sys::fake::with(
            |cmd, _| {
                assert_eq!(cmd, crate::sys::abi::Cmd::ProgLoad);
                Err(Errno::EINVAL)
            },
            || Program::load("xdp_prog", "xdp", ProgramKind::Xdp, &insns, &opts).unwrap_err(),
        );
        assert_eq!(err.kind(), ErrorKind::KernelTooOld, "{err}");
        assert_eq!(err.min_kernel(), Some(crate::KernelVersion::new(4, 8)));
        assert_eq!(err.errno(), Some(Errno::EINVAL));
        assert!(
            alloc::string::ToString::to_string(&err).contains("xdp_prog"),
            "{err}"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn rejection_retries_with_a_log_and_keeps_it() {
        let insns = [BpfInsn::new(0x95, 0, 0, 0)];
        let opts = gpl_without_btf();
        let calls = std::rc::Rc::new(core::cell::Cell::new(0));
        let c = calls.clone();
        let err = crate::sys::fake::with(
            move |_, bytes| {
                use zerocopy::FromBytes;
                c.set(c.get() + 1);
                let a = crate::sys::abi::ProgLoadAttr::read_from_bytes(bytes).unwrap();
                if a.prog_type == crate::sys::abi::BPF_PROG_TYPE_SOCKET_FILTER && a.insn_cnt == 2 {
                    return Ok(crate::sys::fake::new_fd()); // the feature probe
                }
                crate::sys::fake::write_prog_load_log(
                    &a,
                    b"0: (95) exit\nR0 !read_ok\nprocessed 1 insns\n",
                );
                Err(Errno::EACCES)
            },
            || {
                Program::load("bad", "socket", ProgramKind::SocketFilter, &insns, &opts)
                    .unwrap_err()
            },
        );
        assert_eq!(err.kind(), ErrorKind::VerifierRejected);
        assert_eq!(err.errno(), Some(Errno::EACCES));
        assert!(err.verifier_log().unwrap().contains("R0 !read_ok"));
        assert_eq!(err.hint(), Some("verifier: R0 !read_ok"));
        assert!(calls.get() >= 2, "plain load, then a load with a log");
    }

    #[test]
    fn attach_points_come_from_section_names() {
        let kind = |s: &str| ProgramKind::from_section(s).unwrap();
        for s in [
            "tracepoint/syscalls/sys_enter_getpid",
            "raw_tp/sys_enter",
            "kprobe/do_sys_open",
            "kretprobe/do_sys_open",
        ] {
            assert!(kind(s).has_attach_point(), "{s}");
        }
        for s in ["socket", "syscall", "xdp", "kprobe", "tracepoint"] {
            assert!(!kind(s).has_attach_point(), "{s}");
        }
    }
}
