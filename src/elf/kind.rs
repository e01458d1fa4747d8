//! Program kinds from `SEC()` names, following libbpf's conventions for the types mmbpf
//! supports.

use alloc::format;
use alloc::string::{String, ToString};

use crate::error::{Error, KernelVersion, Result};
use crate::sys::abi;

/// What a program section name (`SEC("...")`) says about the program: its type and attach
/// target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProgramKind {
    /// `SEC("socket")`: `BPF_PROG_TYPE_SOCKET_FILTER`, attached with `SO_ATTACH_BPF`.
    SocketFilter,
    /// `SEC("tracepoint/<category>/<name>")` or `SEC("tp/<category>/<name>")`:
    /// `BPF_PROG_TYPE_TRACEPOINT`. Both are empty for a bare `SEC("tracepoint")`/`SEC("tp")`.
    Tracepoint {
        /// The tracefs category (`raw_syscalls`).
        category: String,
        /// The event name (`sys_enter`).
        name: String,
    },
    /// `SEC("raw_tracepoint/<name>")` or `SEC("raw_tp/<name>")`:
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`. Empty for a bare `SEC("raw_tracepoint")`.
    RawTracepoint {
        /// The tracepoint name (`sys_enter`).
        name: String,
    },
    /// `SEC("syscall")`: `BPF_PROG_TYPE_SYSCALL`, run with `BPF_PROG_TEST_RUN`, sleepable.
    Syscall,
    /// `SEC("kprobe/<function>")`: `BPF_PROG_TYPE_KPROBE`. Empty for a bare `SEC("kprobe")`.
    Kprobe {
        /// The probed kernel function (may carry a `+offset`).
        function: String,
    },
    /// `SEC("kretprobe/<function>")`: `BPF_PROG_TYPE_KPROBE` on function return.
    Kretprobe {
        /// The probed kernel function.
        function: String,
    },
    /// `SEC("xdp")`: `BPF_PROG_TYPE_XDP`.
    Xdp,
}

impl ProgramKind {
    /// Parse a section name. Unknown or unsupported conventions give
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) naming the section; a
    /// supported prefix with a badly formed target gives `Malformed`.
    pub fn from_section(section: &str) -> Result<ProgramKind> {
        let target = |prefixes: &[&str]| -> Option<&str> {
            for p in prefixes {
                if section == *p {
                    return Some("");
                }
                if let Some(rest) = section.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
                    return Some(rest);
                }
            }
            None
        };
        let empty_target = |what: &str| {
            Error::malformed(format!(
                "program section {section:?}: empty {what} after the '/'"
            ))
        };
        Ok(match section {
            "socket" => ProgramKind::SocketFilter,
            "syscall" => ProgramKind::Syscall,
            "xdp" => ProgramKind::Xdp,
            _ => {
                if let Some(t) = target(&["tracepoint", "tp"]) {
                    if t.is_empty() && !section.contains('/') {
                        ProgramKind::Tracepoint {
                            category: String::new(),
                            name: String::new(),
                        }
                    } else {
                        match t.split_once('/') {
                            Some((c, n)) if !c.is_empty() && !n.is_empty() => {
                                ProgramKind::Tracepoint { category: c.to_string(), name: n.to_string() }
                            }
                            _ => {
                                return Err(Error::malformed(format!(
                                    "program section {section:?}: expected \"tracepoint/<category>/<name>\""
                                )))
                            }
                        }
                    }
                } else if let Some(t) = target(&["raw_tracepoint", "raw_tp"]) {
                    if t.is_empty() && section.contains('/') {
                        return Err(empty_target("raw tracepoint name"));
                    }
                    ProgramKind::RawTracepoint {
                        name: t.to_string(),
                    }
                } else if let Some(t) = target(&["kprobe"]) {
                    if t.is_empty() && section.contains('/') {
                        return Err(empty_target("function name"));
                    }
                    ProgramKind::Kprobe {
                        function: t.to_string(),
                    }
                } else if let Some(t) = target(&["kretprobe"]) {
                    if t.is_empty() && section.contains('/') {
                        return Err(empty_target("function name"));
                    }
                    ProgramKind::Kretprobe {
                        function: t.to_string(),
                    }
                } else {
                    return Err(Error::unsupported(format!(
                        "program section {section:?}: this program type is not supported (supported: \
                         socket, tracepoint/<category>/<name>, tp/..., raw_tracepoint/<name>, raw_tp/..., \
                         syscall, kprobe/<function>, kretprobe/<function>, xdp)"
                    )));
                }
            }
        })
    }

    /// `enum bpf_prog_type` for `BPF_PROG_LOAD`.
    pub fn prog_type(&self) -> u32 {
        match self {
            ProgramKind::SocketFilter => abi::BPF_PROG_TYPE_SOCKET_FILTER,
            ProgramKind::Tracepoint { .. } => abi::BPF_PROG_TYPE_TRACEPOINT,
            ProgramKind::RawTracepoint { .. } => abi::BPF_PROG_TYPE_RAW_TRACEPOINT,
            ProgramKind::Syscall => abi::BPF_PROG_TYPE_SYSCALL,
            ProgramKind::Kprobe { .. } | ProgramKind::Kretprobe { .. } => abi::BPF_PROG_TYPE_KPROBE,
            ProgramKind::Xdp => abi::BPF_PROG_TYPE_XDP,
        }
    }

    /// `expected_attach_type` for `BPF_PROG_LOAD`: 0 for every supported kind (libbpf sets
    /// `BPF_XDP` for `xdp` only optionally; the kernel does not need it).
    pub fn expected_attach_type(&self) -> u32 {
        0
    }

    /// The first kernel version with this program type.
    pub fn min_kernel(&self) -> KernelVersion {
        match self {
            ProgramKind::SocketFilter => KernelVersion::new(3, 19),
            ProgramKind::Kprobe { .. } | ProgramKind::Kretprobe { .. } => KernelVersion::new(4, 1),
            ProgramKind::Tracepoint { .. } => KernelVersion::new(4, 7),
            ProgramKind::Xdp => KernelVersion::new(4, 8),
            ProgramKind::RawTracepoint { .. } => KernelVersion::new(4, 17),
            ProgramKind::Syscall => KernelVersion::new(5, 14),
        }
    }

    /// The attach target named by the section, if any: `"category/name"` for a tracepoint
    /// (its tracefs path under `events/`), the raw tracepoint name, or the probed function.
    /// `None` for socket filters, syscall and XDP programs and for bare section names.
    pub fn attach_point(&self) -> Option<String> {
        let s = match self {
            ProgramKind::Tracepoint { category, name } if !category.is_empty() => {
                format!("{category}/{name}")
            }
            ProgramKind::RawTracepoint { name } => name.clone(),
            ProgramKind::Kprobe { function } | ProgramKind::Kretprobe { function } => {
                function.clone()
            }
            _ => return None,
        };
        (!s.is_empty()).then_some(s)
    }

    /// True for kinds libbpf loads with `BPF_F_SLEEPABLE` (`syscall`).
    pub fn is_sleepable(&self) -> bool {
        matches!(self, ProgramKind::Syscall)
    }
}
