//! The crate's one error type.
//!
//! Every fallible operation returns [`Result<T>`]. An [`Error`] carries a stable, matchable
//! [`ErrorKind`], a message that names what was being done (the operation, the map or program,
//! the ELF section, symbol and offset), the [`Errno`] when the kernel refused, the verifier log
//! when a program was rejected, and the minimum kernel version when the kernel lacks a feature.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

/// An `errno` value returned by a system call.
///
/// `Display` prints the symbolic name and a short description, e.g. `EPERM (operation not
/// permitted)`.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(libc::EPERM);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(libc::EINTR);
    /// Resource temporarily unavailable.
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    /// Permission denied.
    pub const EACCES: Errno = Errno(libc::EACCES);
    /// Bad address.
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(libc::EBUSY);
    /// File exists.
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    /// No space left on device.
    pub const ENOSPC: Errno = Errno(libc::ENOSPC);
    /// Argument list too long (the kernel uses it for too-large programs).
    pub const E2BIG: Errno = Errno(libc::E2BIG);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(libc::EBADF);
    /// Function not implemented.
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(libc::EOPNOTSUPP);
    /// No such device.
    pub const ENODEV: Errno = Errno(libc::ENODEV);
    /// Not a typewriter: the object is of the wrong kind for the ioctl.
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    /// Kernel-internal `ENOTSUPP` (524), which BPF leaks to user space.
    pub const ENOTSUPP: Errno = Errno(524);

    /// The errno of the calling thread's last failed libc call.
    pub fn last() -> Errno {
        Errno(crate::sys::last_errno())
    }

    /// The raw value.
    pub fn raw(self) -> i32 {
        self.0
    }

    /// The symbolic name (`"EPERM"`), or `None` for a value this crate does not name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::EIO => "EIO",
            libc::E2BIG => "E2BIG",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::ENODEV => "ENODEV",
            libc::ENOTDIR => "ENOTDIR",
            libc::EINVAL => "EINVAL",
            libc::EMFILE => "EMFILE",
            libc::ENOTTY => "ENOTTY",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::ENOSYS => "ENOSYS",
            libc::ELOOP => "ELOOP",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            libc::EPROTO => "EPROTO",
            libc::EOVERFLOW => "EOVERFLOW",
            524 => "ENOTSUPP",
            _ => return None,
        })
    }

    fn description(self) -> &'static str {
        match self.0 {
            libc::EPERM => "operation not permitted",
            libc::ENOENT => "no such file or directory",
            libc::ESRCH => "no such process",
            libc::EINTR => "interrupted system call",
            libc::EIO => "input/output error",
            libc::E2BIG => "argument list too long",
            libc::EBADF => "bad file descriptor",
            libc::EAGAIN => "resource temporarily unavailable",
            libc::ENOMEM => "out of memory",
            libc::EACCES => "permission denied",
            libc::EFAULT => "bad address",
            libc::EBUSY => "device or resource busy",
            libc::EEXIST => "file exists",
            libc::ENODEV => "no such device",
            libc::ENOTDIR => "not a directory",
            libc::EINVAL => "invalid argument",
            libc::EMFILE => "too many open files",
            libc::ENOTTY => "inappropriate ioctl for device",
            libc::ENOSPC => "no space left on device",
            libc::ERANGE => "result out of range",
            libc::ENOSYS => "function not implemented",
            libc::ELOOP => "too many levels of symbolic links",
            libc::EOPNOTSUPP => "operation not supported",
            libc::EPROTO => "protocol error",
            libc::EOVERFLOW => "value too large",
            524 => "operation not supported by the kernel",
            _ => "unknown error",
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.description()),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// What went wrong, as a stable, matchable category.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A system call failed; [`Error::errno`] says how.
    Syscall,
    /// The running kernel lacks a feature; [`Error::min_kernel`] says which version has it.
    KernelTooOld,
    /// The kernel refused for lack of privilege (`CAP_BPF`/`CAP_SYS_ADMIN`, or a locked-down
    /// or unprivileged-BPF-disabled kernel).
    PermissionDenied,
    /// The verifier rejected a program; [`Error::verifier_log`] holds the log.
    VerifierRejected,
    /// The caller passed an invalid argument (a name too long, a zero size, ...).
    InvalidArgument,
    /// An index or offset lies outside a map, view or section.
    OutOfBounds,
    /// A Rust type does not match the map's or variable's layout (size, alignment).
    TypeMismatch,
    /// The ELF or BTF bytes are malformed; the message names the section, symbol and offset.
    Malformed,
    /// The object uses a feature mmbpf does not implement (CO-RE, kconfig externs, ...).
    Unsupported,
    /// No map, program, global variable or kernel object has that name or id.
    NotFound,
    /// A map or mapping is in a state that forbids the operation (frozen, mapped writable,
    /// read-only).
    InvalidState,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syscall => "system call failed",
            ErrorKind::KernelTooOld => "kernel too old",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::VerifierRejected => "verifier rejected the program",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::OutOfBounds => "out of bounds",
            ErrorKind::TypeMismatch => "type mismatch",
            ErrorKind::Malformed => "malformed object",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidState => "invalid state",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kernel version `major.minor`, as used for feature minimums.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl KernelVersion {
    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        KernelVersion { major, minor }
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The crate's error: a kind, a message naming the operation and its subject, and optional
/// errno, verifier log, kernel minimum and hint.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    errno: Option<Errno>,
    verifier_log: Option<String>,
    min_kernel: Option<KernelVersion>,
    hint: Option<String>,
}

/// `core::result::Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// An error of `kind` whose message says what was being done and to what.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            errno: None,
            verifier_log: None,
            min_kernel: None,
            hint: None,
        }))
    }

    /// A failed system call. `what` names the operation and its subject, e.g.
    /// `"BPF_MAP_CREATE for map \"counts\""`. EPERM/EACCES become
    /// [`ErrorKind::PermissionDenied`] with a hint about privileges.
    pub fn syscall(what: impl Into<String>, errno: Errno) -> Self {
        let kind = if errno == Errno::EPERM || errno == Errno::EACCES {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::Syscall
        };
        let e = Error::new(kind, what).with_errno(errno);
        if kind == ErrorKind::PermissionDenied {
            // One explanation for every EPERM, including the RLIMIT_MEMLOCK case of old kernels.
            e.with_hint(crate::probe::eperm_hint())
        } else {
            e
        }
    }

    /// The kernel lacks a feature that first appeared in `min`.
    pub fn kernel_too_old(feature: impl Into<String>, min: KernelVersion) -> Self {
        Error::new(ErrorKind::KernelTooOld, feature).with_min_kernel(min)
    }

    /// A malformed ELF or BTF input; the message names section, symbol and offset.
    pub fn malformed(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Malformed, message)
    }

    /// An object uses a feature mmbpf does not implement.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// An invalid argument from the caller.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// No such map, program, variable or kernel object.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Attach the errno the kernel returned.
    pub fn with_errno(mut self, errno: Errno) -> Self {
        self.0.errno = Some(errno);
        self
    }

    /// Attach a verifier (or BTF) log.
    pub fn with_verifier_log(mut self, log: impl Into<String>) -> Self {
        self.0.verifier_log = Some(log.into());
        self
    }

    /// Attach the kernel version that introduced the missing feature.
    pub fn with_min_kernel(mut self, min: KernelVersion) -> Self {
        self.0.min_kernel = Some(min);
        self
    }

    /// Attach an explanation of the likely cause, printed after the message.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Change the kind (e.g. a probe found that an EINVAL means "kernel too old").
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// Prefix the message with more context: `"{context}: {message}"`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.0.message = alloc::format!("{context}: {}", self.0.message);
        self
    }

    /// The matchable category.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The errno, when a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.0.errno
    }

    /// The verifier log, when the kernel rejected a program (or BTF).
    pub fn verifier_log(&self) -> Option<&str> {
        self.0.verifier_log.as_deref()
    }

    /// The first kernel version with the missing feature, when known.
    pub fn min_kernel(&self) -> Option<KernelVersion> {
        self.0.min_kernel
    }

    /// The message without errno, hint or log.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The hint, when one was attached.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }
}

impl fmt::Display for Error {
    /// One line: message, errno, minimum kernel and hint. The verifier log is not included
    /// (it can be long); get it with [`Error::verifier_log`], or use `{:#}` to append it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.0;
        f.write_str(&i.message)?;
        if let Some(errno) = i.errno {
            write!(f, ": {errno}")?;
        }
        if let Some(min) = i.min_kernel {
            write!(f, " (needs Linux {min} or later)")?;
        }
        if let Some(hint) = &i.hint {
            write!(f, "; {hint}")?;
        }
        if f.alternate() {
            if let Some(log) = &i.verifier_log {
                write!(f, "\nverifier log:\n{log}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.0;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        if let Some(errno) = i.errno {
            d.field("errno", &errno);
        }
        if let Some(min) = i.min_kernel {
            d.field("min_kernel", &min);
        }
        if let Some(hint) = &i.hint {
            d.field("hint", hint);
        }
        if let Some(log) = &i.verifier_log {
            d.field("verifier_log", log);
        }
        d.finish()
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind as Io;
        if let Some(errno) = e.errno() {
            if e.kind() == ErrorKind::Syscall || e.kind() == ErrorKind::PermissionDenied {
                let os = std::io::Error::from_raw_os_error(errno.0);
                return std::io::Error::new(os.kind(), e);
            }
        }
        let kind = match e.kind() {
            ErrorKind::PermissionDenied => Io::PermissionDenied,
            ErrorKind::NotFound => Io::NotFound,
            ErrorKind::InvalidArgument | ErrorKind::OutOfBounds | ErrorKind::TypeMismatch => {
                Io::InvalidInput
            }
            ErrorKind::Malformed => Io::InvalidData,
            ErrorKind::Unsupported | ErrorKind::KernelTooOld => Io::Unsupported,
            _ => Io::Other,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn display_names_operation_errno_and_minimum() {
        let e = Error::syscall("BPF_MAP_FREEZE on map \"counts\"", Errno::EBUSY)
            .with_hint("a writable mapping exists");
        assert_eq!(e.kind(), ErrorKind::Syscall);
        assert_eq!(
            e.to_string(),
            "BPF_MAP_FREEZE on map \"counts\": EBUSY (device or resource busy); a writable mapping exists"
        );
        let e = Error::kernel_too_old("BPF_F_MMAPABLE array maps", KernelVersion::new(5, 5));
        assert_eq!(
            e.to_string(),
            "BPF_F_MMAPABLE array maps (needs Linux 5.5 or later)"
        );
    }

    #[test]
    fn eperm_is_permission_denied() {
        let e = Error::syscall("BPF_MAP_CREATE", Errno::EPERM);
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(e.errno(), Some(Errno::EPERM));
        assert!(e.to_string().contains("CAP_BPF"));
    }

    #[test]
    fn verifier_log_only_in_alternate_display() {
        let e = Error::new(ErrorKind::VerifierRejected, "BPF_PROG_LOAD of \"p\"")
            .with_errno(Errno::EACCES)
            .with_verifier_log("R1 invalid mem access");
        assert!(!e.to_string().contains("R1 invalid"));
        assert!(alloc::format!("{e:#}").ends_with("verifier log:\nR1 invalid mem access"));
    }

    #[test]
    fn unknown_errno_prints_number() {
        assert_eq!(Errno(4242).to_string(), "errno 4242");
        assert_eq!(alloc::format!("{:?}", Errno(4242)), "Errno(4242)");
    }
}
