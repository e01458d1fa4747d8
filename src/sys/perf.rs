//! Attachment plumbing outside `bpf(2)`: `perf_event_open(2)` and its ioctls for tracepoints,
//! `setsockopt(SO_ATTACH_BPF)` for socket filters, `setrlimit(RLIMIT_MEMLOCK)` for kernels
//! that charge BPF memory to it, and `uname(2)`.

use zerocopy::{Immutable, IntoBytes};

use crate::error::Errno;
use crate::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

#[allow(missing_docs)]
/// The first 72 bytes of `struct perf_event_attr` (`PERF_ATTR_SIZE_VER1`), enough for
/// tracepoint and kprobe events. The kernel accepts this size and zero-fills the rest.
#[derive(Clone, Copy, Debug, Default, IntoBytes, Immutable)]
#[repr(C)]
pub struct PerfEventAttr {
    pub type_: u32,
    pub size: u32,
    pub config: u64,
    pub sample_period: u64,
    pub sample_type: u64,
    pub read_format: u64,
    /// The bitfield word (`disabled`, `inherit`, ...).
    pub flags: u64,
    pub wakeup_events: u32,
    pub bp_type: u32,
    /// `config1` / `kprobe_func` (a pointer to the function name for kprobe PMU events).
    pub config1: u64,
    /// `config2` / `probe_offset`.
    pub config2: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
// _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32)
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
// asm-generic/socket.h (x86, arm, riscv; not sparc/mips/parisc/alpha).
const SO_ATTACH_BPF: libc::c_int = 50;
const SO_DETACH_BPF: libc::c_int = 27;

/// `perf_event_open(2)` for the tracepoint with id `tracepoint_id` (read from
/// `/sys/kernel/tracing/events/CATEGORY/NAME/id`), on all processes of CPU 0 — as libbpf
/// does: a BPF program attached to a tracepoint event runs on every CPU regardless.
pub fn perf_event_open_tracepoint(tracepoint_id: u64) -> Result<OwnedFd, Errno> {
    perf_event_open(&PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        config: tracepoint_id,
        sample_type: PERF_SAMPLE_RAW,
        ..PerfEventAttr::default()
    })
}

/// `perf_event_open(2)` of a kprobe through the kprobe PMU (Linux 4.17): `pmu_type` from
/// `/sys/bus/event_source/devices/kprobe/type`, `config` with the retprobe bit set for a
/// kretprobe, the probed function's name and an offset into it.
pub fn perf_event_open_kprobe(
    pmu_type: u32,
    config: u64,
    function: &core::ffi::CStr,
    offset: u64,
) -> Result<OwnedFd, Errno> {
    // `config1` points at `function`, which outlives the call below.
    perf_event_open(&PerfEventAttr {
        type_: pmu_type,
        config,
        config1: function.as_ptr() as usize as u64,
        config2: offset,
        ..PerfEventAttr::default()
    })
}

/// `perf_event_open(attr, pid -1, cpu 0, group -1, PERF_FLAG_FD_CLOEXEC)` with `size`,
/// `sample_period` and `wakeup_events` filled in: all processes on CPU 0, as libbpf does —
/// a BPF program attached to the event runs on every CPU regardless.
fn perf_event_open(attr: &PerfEventAttr) -> Result<OwnedFd, Errno> {
    let attr = PerfEventAttr {
        size: core::mem::size_of::<PerfEventAttr>() as u32,
        sample_period: 1,
        wakeup_events: 1,
        ..*attr
    };
    // SAFETY: `attr` is a valid perf_event_attr prefix whose `size` field says how many bytes
    // the kernel may read, and it outlives the call; pointers inside it (a kprobe's function
    // name) belong to the caller and outlive the call too.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_bytes().as_ptr(),
            -1 as libc::pid_t,
            0 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: perf_event_open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn ioctl(fd: BorrowedFd<'_>, req: libc::c_ulong, arg: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: the perf ioctls used here take an integer argument, not a pointer.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// `PERF_EVENT_IOC_SET_BPF` (4.7): run `prog` on the perf event.
pub fn perf_event_set_bpf(perf: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl(
        perf,
        PERF_EVENT_IOC_SET_BPF,
        prog.as_raw_fd() as libc::c_ulong,
    )
}

/// `PERF_EVENT_IOC_ENABLE`.
pub fn perf_event_enable(perf: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl(perf, PERF_EVENT_IOC_ENABLE, 0)
}

/// `PERF_EVENT_IOC_DISABLE`.
pub fn perf_event_disable(perf: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl(perf, PERF_EVENT_IOC_DISABLE, 0)
}

fn setsockopt_int(sock: BorrowedFd<'_>, opt: libc::c_int, value: libc::c_int) -> Result<(), Errno> {
    // SAFETY: `value` is a c_int that lives for the call and its size is passed alongside.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// `setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, prog)` (3.19).
pub fn socket_attach_bpf(sock: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), Errno> {
    setsockopt_int(sock, SO_ATTACH_BPF, prog.as_raw_fd())
}

/// `setsockopt(sock, SOL_SOCKET, SO_DETACH_BPF)`.
pub fn socket_detach_bpf(sock: BorrowedFd<'_>) -> Result<(), Errno> {
    setsockopt_int(sock, SO_DETACH_BPF, 0)
}

/// `RLIMIT_MEMLOCK` as `(soft, hard)`.
pub fn memlock_rlimit() -> Result<(u64, u64), Errno> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid out-pointer for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) } < 0 {
        return Err(Errno::last());
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every target
    Ok((r.rlim_cur as u64, r.rlim_max as u64))
}

/// Set `RLIMIT_MEMLOCK` to infinity (needs `CAP_SYS_RESOURCE` to raise the hard limit).
pub fn raise_memlock_rlimit() -> Result<(), Errno> {
    let r = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `r` is a valid rlimit for the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &r) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// The kernel release string from `uname(2)` (`"6.1.0-27-amd64"`), as bytes up to the NUL.
pub fn uname_release(out: &mut [u8; 65]) -> Result<usize, Errno> {
    // SAFETY: utsname is plain data; zeroed is a valid value.
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: `u` is a valid out-pointer for the call.
    if unsafe { libc::uname(&mut u) } < 0 {
        return Err(Errno::last());
    }
    let mut n = 0;
    for (dst, src) in out.iter_mut().zip(u.release.iter()) {
        if *src == 0 {
            break;
        }
        *dst = *src as u8;
        n += 1;
    }
    Ok(n)
}

/// `getpid(2)`.
pub fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}
