//! Typed wrappers, one per `bpf(2)` command. Each wrapper stores a pointer into the attribute
//! only together with the length of the slice it came from, so the kernel never reads or
//! writes past a Rust buffer.

use core::ffi::CStr;
use core::mem::size_of;

use zerocopy::{FromZeros, IntoBytes};

use super::abi::*;
use super::{bpf, bpf_fd};
use crate::error::Errno;
use crate::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

fn ptr<T: ?Sized>(p: *const T) -> u64 {
    p as *const u8 as usize as u64
}

fn raw(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// A map descriptor together with the key and value sizes the kernel holds for it.
///
/// Sizes come either from the `BPF_MAP_CREATE` attribute the kernel accepted or from
/// `BPF_OBJ_GET_INFO_BY_FD`, so element commands can check buffer lengths against what the
/// kernel will read and write. Per-CPU maps (whose lookups write one value per possible CPU)
/// refuse element commands with `EOPNOTSUPP`.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    info: BpfMapInfo,
}

impl MapFd {
    /// `BPF_MAP_CREATE` (3.18).
    pub fn create(attr: &MapCreateAttr) -> Result<MapFd, Errno> {
        let mut a = *attr;
        let fd = bpf_fd(Cmd::MapCreate, &mut a)?;
        let mut info = BpfMapInfo {
            map_type: attr.map_type,
            key_size: attr.key_size,
            value_size: attr.value_size,
            max_entries: attr.max_entries,
            map_flags: attr.map_flags,
            name: attr.map_name,
            ..BpfMapInfo::default()
        };
        // The id is only known from the kernel; fetch it lazily through `info()`.
        info.id = 0;
        Ok(MapFd { fd, info })
    }

    /// Adopt a map descriptor (from `BPF_OBJ_GET`, `BPF_MAP_GET_FD_BY_ID`, or a caller),
    /// learning its sizes with `BPF_OBJ_GET_INFO_BY_FD` (4.13). Fails with `EINVAL` if `fd`
    /// is not a BPF map.
    pub fn from_fd(fd: OwnedFd) -> Result<MapFd, Errno> {
        let info = map_info(fd.as_fd())?;
        Ok(MapFd { fd, info })
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Give up the sizes and keep the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// The kernel's description as of creation or adoption (`id` may be 0 for maps created
    /// here; ask [`map_info`] for the live one).
    pub fn cached_info(&self) -> &BpfMapInfo {
        &self.info
    }

    fn check(&self, key: &[u8], value_len: usize) -> Result<(), Errno> {
        if matches!(self.info.map_type, 5 | 6 | 10 | 21) {
            return Err(Errno::EOPNOTSUPP);
        }
        if key.len() != self.info.key_size as usize || value_len != self.info.value_size as usize {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// `BPF_MAP_LOOKUP_ELEM` (3.18): copy the value at `key` into `value`.
    /// `EINVAL` if the buffers do not have the map's key and value sizes.
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<(), Errno> {
        self.check(key, value.len())?;
        let mut a = MapElemAttr {
            map_fd: raw(self.fd()),
            key: ptr(key.as_ptr()),
            value: ptr(value.as_mut_ptr()),
            flags,
            ..Default::default()
        };
        bpf(Cmd::MapLookupElem, &mut a).map(drop)
    }

    /// `BPF_MAP_UPDATE_ELEM` (3.18) with `flags` (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), Errno> {
        self.check(key, value.len())?;
        let mut a = MapElemAttr {
            map_fd: raw(self.fd()),
            key: ptr(key.as_ptr()),
            value: ptr(value.as_ptr()),
            flags,
            ..Default::default()
        };
        bpf(Cmd::MapUpdateElem, &mut a).map(drop)
    }

    /// `BPF_MAP_LOOKUP_BATCH` (5.6): read up to `keys.len() / key_size` elements starting
    /// after the position in `in_batch` (None: from the start) into `keys`/`values`; the
    /// next position is written to `out_batch`. Returns the number of elements read. The
    /// kernel returns `ENOENT` when it reached the end (with a possibly non-zero count).
    pub fn lookup_batch(
        &self,
        in_batch: Option<&[u8]>,
        out_batch: &mut [u8],
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<u32, (u32, Errno)> {
        let ks = self.info.key_size as usize;
        let vs = self.info.value_size as usize;
        let bad = |e| Err((0, e));
        if matches!(self.info.map_type, 5 | 6 | 10 | 21) {
            return bad(Errno::EOPNOTSUPP);
        }
        if ks == 0 || keys.len() % ks != 0 || values.len() != keys.len() / ks * vs {
            return bad(Errno::EINVAL);
        }
        // The batch token is a key for hash maps and a u32 index for arrays; the kernel
        // reads/writes `key_size` bytes (arrays: 4).
        if out_batch.len() < ks || in_batch.is_some_and(|b| b.len() < ks) {
            return bad(Errno::EINVAL);
        }
        let count = u32::try_from(keys.len() / ks).map_err(|_| (0, Errno::EINVAL))?;
        let mut a = MapBatchAttr {
            in_batch: in_batch.map_or(0, |b| ptr(b.as_ptr())),
            out_batch: ptr(out_batch.as_mut_ptr()),
            keys: ptr(keys.as_mut_ptr()),
            values: ptr(values.as_mut_ptr()),
            count,
            map_fd: raw(self.fd()),
            ..Default::default()
        };
        match bpf(Cmd::MapLookupBatch, &mut a) {
            Ok(_) => Ok(a.count),
            Err(e) => Err((a.count, e)),
        }
    }

    /// `BPF_MAP_UPDATE_BATCH` (5.6): write `keys.len() / key_size` elements. Returns how
    /// many the kernel wrote (on error too).
    pub fn update_batch(
        &self,
        keys: &[u8],
        values: &[u8],
        elem_flags: u64,
    ) -> Result<u32, (u32, Errno)> {
        let ks = self.info.key_size as usize;
        let vs = self.info.value_size as usize;
        if matches!(self.info.map_type, 5 | 6 | 10 | 21) {
            return Err((0, Errno::EOPNOTSUPP));
        }
        if ks == 0 || keys.len() % ks != 0 || values.len() != keys.len() / ks * vs {
            return Err((0, Errno::EINVAL));
        }
        let count = u32::try_from(keys.len() / ks).map_err(|_| (0, Errno::EINVAL))?;
        let mut a = MapBatchAttr {
            keys: ptr(keys.as_ptr()),
            values: ptr(values.as_ptr()),
            count,
            map_fd: raw(self.fd()),
            elem_flags,
            ..Default::default()
        };
        match bpf(Cmd::MapUpdateBatch, &mut a) {
            Ok(_) => Ok(a.count),
            Err(e) => Err((a.count, e)),
        }
    }

    /// `BPF_MAP_FREEZE` (5.2): make the map read-only for user space (syscalls and new
    /// writable mmaps). `EBUSY` while a writable mapping exists.
    pub fn freeze(&self) -> Result<(), Errno> {
        let mut a = MapElemAttr {
            map_fd: raw(self.fd()),
            ..Default::default()
        };
        bpf(Cmd::MapFreeze, &mut a).map(drop)
    }
}

/// `BPF_OBJ_GET_INFO_BY_FD` (4.13) for a map.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<BpfMapInfo, Errno> {
    let mut info = BpfMapInfo::new_zeroed();
    obj_info(fd, info.as_mut_bytes())?;
    Ok(info)
}

/// `BPF_OBJ_GET_INFO_BY_FD` (4.13) for a program (the head of `bpf_prog_info`).
pub fn prog_info(fd: BorrowedFd<'_>) -> Result<BpfProgInfo, Errno> {
    let mut info = BpfProgInfo::new_zeroed();
    obj_info(fd, info.as_mut_bytes())?;
    Ok(info)
}

fn obj_info(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<(), Errno> {
    let mut a = ObjGetInfoAttr {
        bpf_fd: raw(fd),
        info_len: buf.len() as u32,
        info: ptr(buf.as_mut_ptr()),
    };
    bpf(Cmd::ObjGetInfoByFd, &mut a).map(drop)
}

/// `BPF_OBJ_PIN` (4.4): pin the object at `path` on a bpffs.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> Result<(), Errno> {
    let mut a = ObjPinAttr {
        pathname: ptr(path.as_ptr()),
        bpf_fd: raw(fd),
        file_flags: 0,
    };
    bpf(Cmd::ObjPin, &mut a).map(drop)
}

/// `BPF_OBJ_GET` (4.4): open the object pinned at `path`; `file_flags` is `BPF_F_RDONLY`,
/// `BPF_F_WRONLY` or 0.
pub fn obj_get(path: &CStr, file_flags: u32) -> Result<OwnedFd, Errno> {
    let mut a = ObjPinAttr {
        pathname: ptr(path.as_ptr()),
        bpf_fd: 0,
        file_flags,
    };
    bpf_fd(Cmd::ObjGet, &mut a)
}

/// `BPF_MAP_GET_FD_BY_ID` (4.13).
/// `open_flags` is `BPF_F_RDONLY`, `BPF_F_WRONLY` or 0 (read-write).
pub fn map_get_fd_by_id(id: u32, open_flags: u32) -> Result<OwnedFd, Errno> {
    let mut a = GetFdByIdAttr {
        id,
        open_flags,
        ..Default::default()
    };
    bpf_fd(Cmd::MapGetFdById, &mut a)
}

/// `BPF_PROG_GET_FD_BY_ID` (4.13).
pub fn prog_get_fd_by_id(id: u32) -> Result<OwnedFd, Errno> {
    let mut a = GetFdByIdAttr {
        id,
        ..Default::default()
    };
    bpf_fd(Cmd::ProgGetFdById, &mut a)
}

/// What `BPF_PROG_LOAD` needs; slices keep pointers and lengths together.
#[derive(Debug)]
pub struct ProgLoadRequest<'a> {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// `enum bpf_attach_type` the program expects (0 for most types).
    pub expected_attach_type: u32,
    /// Kernel name, at most 15 bytes (longer names are refused with `EINVAL`).
    pub name: &'a [u8],
    /// The instructions.
    pub insns: &'a [BpfInsn],
    /// The license, e.g. `c"GPL"`.
    pub license: &'a CStr,
    /// `kern_version` (only checked by kprobes before 5.0).
    pub kern_version: u32,
    /// `BPF_F_*` program flags.
    pub prog_flags: u32,
    /// The object's BTF, when func_info/line_info are passed.
    pub btf_fd: Option<BorrowedFd<'a>>,
    /// `struct bpf_func_info` records, `func_info_rec_size` bytes each.
    pub func_info: &'a [u8],
    /// Size of a func_info record (8).
    pub func_info_rec_size: u32,
    /// `struct bpf_line_info` records, `line_info_rec_size` bytes each.
    pub line_info: &'a [u8],
    /// Size of a line_info record (16).
    pub line_info_rec_size: u32,
}

/// `BPF_PROG_LOAD` (3.18). With `log`, the verifier writes its log there at `log_level`.
pub fn prog_load(
    req: &ProgLoadRequest<'_>,
    log: Option<(&mut [u8], u32)>,
) -> Result<OwnedFd, Errno> {
    let mut a = ProgLoadAttr {
        prog_type: req.prog_type,
        expected_attach_type: req.expected_attach_type,
        insn_cnt: u32::try_from(req.insns.len()).map_err(|_| Errno::E2BIG)?,
        insns: ptr(req.insns.as_ptr()),
        license: ptr(req.license.as_ptr()),
        kern_version: req.kern_version,
        prog_flags: req.prog_flags,
        ..Default::default()
    };
    if req.name.len() >= BPF_OBJ_NAME_LEN {
        return Err(Errno::EINVAL);
    }
    a.prog_name[..req.name.len()].copy_from_slice(req.name);
    if let Some(btf) = req.btf_fd {
        a.prog_btf_fd = raw(btf);
        if !req.func_info.is_empty() {
            let rec = req.func_info_rec_size as usize;
            if rec == 0 || req.func_info.len() % rec != 0 {
                return Err(Errno::EINVAL);
            }
            a.func_info_rec_size = req.func_info_rec_size;
            a.func_info = ptr(req.func_info.as_ptr());
            a.func_info_cnt = (req.func_info.len() / rec) as u32;
        }
        if !req.line_info.is_empty() {
            let rec = req.line_info_rec_size as usize;
            if rec == 0 || req.line_info.len() % rec != 0 {
                return Err(Errno::EINVAL);
            }
            a.line_info_rec_size = req.line_info_rec_size;
            a.line_info = ptr(req.line_info.as_ptr());
            a.line_info_cnt = (req.line_info.len() / rec) as u32;
        }
    }
    if let Some((buf, level)) = log {
        if !buf.is_empty() {
            buf[0] = 0;
            a.log_level = level;
            a.log_size = u32::try_from(buf.len())
                .unwrap_or(u32::MAX)
                .min(u32::MAX >> 8);
            a.log_buf = ptr(buf.as_mut_ptr());
        }
    }
    bpf_fd(Cmd::ProgLoad, &mut a)
}

/// `BPF_BTF_LOAD` (4.18). With `log`, the kernel writes its BTF verifier log there.
pub fn btf_load(btf: &[u8], log: Option<&mut [u8]>) -> Result<OwnedFd, Errno> {
    let mut a = BtfLoadAttr {
        btf: ptr(btf.as_ptr()),
        btf_size: u32::try_from(btf.len()).map_err(|_| Errno::E2BIG)?,
        ..Default::default()
    };
    if let Some(buf) = log {
        if !buf.is_empty() {
            buf[0] = 0;
            a.btf_log_level = BPF_LOG_LEVEL1;
            a.btf_log_size = u32::try_from(buf.len())
                .unwrap_or(u32::MAX >> 8)
                .min(u32::MAX >> 8);
            a.btf_log_buf = ptr(buf.as_mut_ptr());
        }
    }
    bpf_fd(Cmd::BtfLoad, &mut a)
}

/// `BPF_RAW_TRACEPOINT_OPEN` (4.17): attach `prog` to the raw tracepoint `name`; the
/// returned descriptor is the attachment (closing it detaches).
pub fn raw_tracepoint_open(name: &CStr, prog: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let mut a = RawTracepointOpenAttr {
        name: ptr(name.as_ptr()),
        prog_fd: raw(prog),
        _pad0: 0,
    };
    bpf_fd(Cmd::RawTracepointOpen, &mut a)
}

/// `BPF_LINK_CREATE` (5.7) with `target` as the first 8 bytes of the per-type union
/// (`perf_event.bpf_cookie` for `BPF_PERF_EVENT`, 5.15).
pub fn link_create(
    prog: BorrowedFd<'_>,
    target_fd: BorrowedFd<'_>,
    attach_type: u32,
    target: u64,
) -> Result<OwnedFd, Errno> {
    let mut a = LinkCreateAttr {
        prog_fd: raw(prog),
        target_fd: raw(target_fd),
        attach_type,
        flags: 0,
        target,
    };
    bpf_fd(Cmd::LinkCreate, &mut a)
}

/// What `BPF_PROG_TEST_RUN` reported.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value (of the last repetition).
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration_ns: u32,
    /// Bytes of output data the kernel produced (may exceed the buffer: then `ENOSPC`).
    pub data_size_out: u32,
}

/// `BPF_PROG_TEST_RUN` (4.12; syscall programs 5.14): run `prog` `repeat` times on
/// `data_in` (packet programs) and/or the context `ctx` (e.g. a syscall program's argument
/// struct). The context buffer is mutable because for `BPF_PROG_TYPE_SYSCALL` the kernel
/// copies the context back into the *input* buffer; `ctx_out` receives the output context of
/// other program types.
pub fn prog_test_run(
    prog: BorrowedFd<'_>,
    data_in: &[u8],
    data_out: Option<&mut [u8]>,
    ctx: &mut [u8],
    ctx_out: Option<&mut [u8]>,
    repeat: u32,
) -> Result<TestRunOutput, Errno> {
    let mut a = ProgTestRunAttr {
        prog_fd: raw(prog),
        data_size_in: u32::try_from(data_in.len()).map_err(|_| Errno::E2BIG)?,
        data_in: if data_in.is_empty() {
            0
        } else {
            ptr(data_in.as_ptr())
        },
        ctx_size_in: u32::try_from(ctx.len()).map_err(|_| Errno::E2BIG)?,
        ctx_in: if ctx.is_empty() {
            0
        } else {
            ptr(ctx.as_mut_ptr())
        },
        repeat,
        ..Default::default()
    };
    if let Some(out) = data_out {
        a.data_size_out = u32::try_from(out.len()).map_err(|_| Errno::E2BIG)?;
        a.data_out = ptr(out.as_mut_ptr());
    }
    if let Some(out) = ctx_out {
        a.ctx_size_out = u32::try_from(out.len()).map_err(|_| Errno::E2BIG)?;
        a.ctx_out = ptr(out.as_mut_ptr());
    }
    bpf(Cmd::ProgTestRun, &mut a)?;
    Ok(TestRunOutput {
        retval: a.retval,
        duration_ns: a.duration,
        data_size_out: a.data_size_out,
    })
}

const _: () = assert!(size_of::<BpfInsn>() == 8);

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::sys::fake;
    use zerocopy::FromBytes;

    #[test]
    fn map_create_passes_attr_and_remembers_sizes() {
        let seen = std::rc::Rc::new(std::cell::Cell::new(None));
        let s = seen.clone();
        let map = fake::with(
            move |cmd, bytes| {
                assert_eq!(cmd, Cmd::MapCreate);
                assert_eq!(bytes.len(), size_of::<MapCreateAttr>());
                let a = MapCreateAttr::read_from_bytes(bytes).unwrap();
                s.set(Some((a.map_type, a.value_size, a.max_entries, a.map_flags)));
                Ok(fake::new_fd())
            },
            || {
                let attr = MapCreateAttr {
                    map_type: BPF_MAP_TYPE_ARRAY,
                    key_size: 4,
                    value_size: 12,
                    max_entries: 3,
                    map_flags: BPF_F_MMAPABLE,
                    ..Default::default()
                };
                MapFd::create(&attr).unwrap()
            },
        );
        assert_eq!(
            seen.get(),
            Some((BPF_MAP_TYPE_ARRAY, 12, 3, BPF_F_MMAPABLE))
        );
        assert_eq!(map.cached_info().value_size, 12);
    }

    /// A one-entry u64 array on a fake kernel.
    fn fake_u64_array() -> MapFd {
        fake::with(
            |_, _| Ok(fake::new_fd()),
            || {
                MapFd::create(&MapCreateAttr {
                    map_type: BPF_MAP_TYPE_ARRAY,
                    key_size: 4,
                    value_size: 8,
                    max_entries: 1,
                    ..Default::default()
                })
                .unwrap()
            },
        )
    }

    #[test]
    fn element_commands_check_buffer_sizes_before_the_kernel() {
        let map = fake_u64_array();
        fake::with(
            |_, _| panic!("no syscall expected"),
            || {
                let mut small = [0u8; 4];
                assert_eq!(
                    map.lookup(&0u32.to_ne_bytes(), &mut small, 0),
                    Err(Errno::EINVAL)
                );
                assert_eq!(map.update(&[0u8; 8], &[0u8; 8], 0), Err(Errno::EINVAL));
                let mut keys = [0u8; 8];
                let mut values = [0u8; 8];
                let mut out = [0u8; 4];
                assert_eq!(
                    map.lookup_batch(None, &mut out, &mut keys, &mut values),
                    Err((0, Errno::EINVAL))
                );
            },
        );
    }

    #[test]
    fn lookup_passes_pointers_to_the_callers_buffers() {
        let map = fake_u64_array();
        let mut value = [0u8; 8];
        let key = 0u32.to_ne_bytes();
        let (kp, vp) = (key.as_ptr() as u64, value.as_mut_ptr() as u64);
        fake::with(
            move |cmd, bytes| {
                assert_eq!(cmd, Cmd::MapLookupElem);
                let a = MapElemAttr::read_from_bytes(bytes).unwrap();
                assert_eq!((a.key, a.value), (kp, vp));
                Ok(0)
            },
            || map.lookup(&key, &mut value, 0).unwrap(),
        );
    }
}
