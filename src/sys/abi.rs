//! The kernel's BPF ABI: `bpf(2)` commands, the per-command parts of `union bpf_attr`,
//! `struct bpf_map_info`, and the uapi constants mmbpf uses.
//!
//! Source of truth: `include/uapi/linux/bpf.h` in the kernel
//! (<https://github.com/torvalds/linux/blob/master/include/uapi/linux/bpf.h>), documented in
//! <https://docs.kernel.org/bpf/> and `bpf(2)` (<https://man7.org/linux/man-pages/man2/bpf.2.html>).
//!
//! Each attribute struct is the anonymous struct of `union bpf_attr` that its command reads,
//! `#[repr(C)]` with explicit padding so that zerocopy can prove it has no uninitialised
//! bytes. The kernel accepts an attribute smaller than its own `union bpf_attr` (it zero-fills
//! the rest) and a larger one if the unknown tail is zero, so a struct that ends at the last
//! field mmbpf sets works on every kernel that knows the command. The tests at the bottom
//! assert sizes and offsets against the uapi header.

#![allow(missing_docs)] // fields and constants carry their uapi names

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::error::KernelVersion;

/// A `bpf(2)` command (`enum bpf_cmd`), with the kernel version that introduced it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Cmd {
    /// `BPF_MAP_CREATE` (3.18).
    MapCreate = 0,
    /// `BPF_MAP_LOOKUP_ELEM` (3.18).
    MapLookupElem = 1,
    /// `BPF_MAP_UPDATE_ELEM` (3.18).
    MapUpdateElem = 2,
    /// `BPF_PROG_LOAD` (3.18).
    ProgLoad = 5,
    /// `BPF_OBJ_PIN` (4.4).
    ObjPin = 6,
    /// `BPF_OBJ_GET` (4.4).
    ObjGet = 7,
    /// `BPF_PROG_TEST_RUN` (4.12).
    ProgTestRun = 10,
    /// `BPF_PROG_GET_FD_BY_ID` (4.13).
    ProgGetFdById = 13,
    /// `BPF_MAP_GET_FD_BY_ID` (4.13).
    MapGetFdById = 14,
    /// `BPF_OBJ_GET_INFO_BY_FD` (4.13).
    ObjGetInfoByFd = 15,
    /// `BPF_RAW_TRACEPOINT_OPEN` (4.17).
    RawTracepointOpen = 17,
    /// `BPF_BTF_LOAD` (4.18).
    BtfLoad = 18,
    /// `BPF_MAP_FREEZE` (5.2).
    MapFreeze = 22,
    /// `BPF_MAP_LOOKUP_BATCH` (5.6).
    MapLookupBatch = 24,
    /// `BPF_MAP_UPDATE_BATCH` (5.6).
    MapUpdateBatch = 26,
    /// `BPF_LINK_CREATE` (5.7).
    LinkCreate = 28,
}

impl Cmd {
    /// The uapi name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Cmd::MapCreate => "BPF_MAP_CREATE",
            Cmd::MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
            Cmd::MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
            Cmd::ProgLoad => "BPF_PROG_LOAD",
            Cmd::ObjPin => "BPF_OBJ_PIN",
            Cmd::ObjGet => "BPF_OBJ_GET",
            Cmd::ProgTestRun => "BPF_PROG_TEST_RUN",
            Cmd::ProgGetFdById => "BPF_PROG_GET_FD_BY_ID",
            Cmd::MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
            Cmd::ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
            Cmd::RawTracepointOpen => "BPF_RAW_TRACEPOINT_OPEN",
            Cmd::BtfLoad => "BPF_BTF_LOAD",
            Cmd::MapFreeze => "BPF_MAP_FREEZE",
            Cmd::MapLookupBatch => "BPF_MAP_LOOKUP_BATCH",
            Cmd::MapUpdateBatch => "BPF_MAP_UPDATE_BATCH",
            Cmd::LinkCreate => "BPF_LINK_CREATE",
        }
    }

    /// The first kernel version that has this command.
    pub fn since(self) -> KernelVersion {
        let (major, minor) = match self {
            Cmd::MapCreate | Cmd::MapLookupElem | Cmd::MapUpdateElem | Cmd::ProgLoad => (3, 18),
            Cmd::ObjPin | Cmd::ObjGet => (4, 4),
            Cmd::ProgTestRun => (4, 12),
            Cmd::ProgGetFdById | Cmd::MapGetFdById | Cmd::ObjGetInfoByFd => (4, 13),
            Cmd::RawTracepointOpen => (4, 17),
            Cmd::BtfLoad => (4, 18),
            Cmd::MapFreeze => (5, 2),
            Cmd::MapLookupBatch | Cmd::MapUpdateBatch => (5, 6),
            Cmd::LinkCreate => (5, 7),
        };
        KernelVersion::new(major, minor)
    }
}

/// A type that is the attribute of some `bpf(2)` command: plain old data the kernel reads
/// (and for some commands writes back).
pub trait BpfAttr: IntoBytes + FromBytes + Immutable + KnownLayout {}

macro_rules! attrs {
    ($($t:ty),* $(,)?) => { $(impl BpfAttr for $t {})* };
}

/// `BPF_MAP_CREATE` attribute (fields up to `map_extra`, 5.16; older kernels accept the
/// zeroed tail).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; BPF_OBJ_NAME_LEN],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// `BPF_MAP_LOOKUP_ELEM` / `BPF_MAP_UPDATE_ELEM` / `BPF_MAP_FREEZE` attribute.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MapElemAttr {
    pub map_fd: u32,
    pub _pad0: u32,
    pub key: u64,
    /// `value` or `next_key`.
    pub value: u64,
    pub flags: u64,
}

/// `BPF_MAP_*_BATCH` attribute (5.6).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MapBatchAttr {
    pub in_batch: u64,
    pub out_batch: u64,
    pub keys: u64,
    pub values: u64,
    pub count: u32,
    pub map_fd: u32,
    pub elem_flags: u64,
    pub flags: u64,
}

/// `BPF_PROG_LOAD` attribute (fields up to `log_true_size`, 6.4; older kernels accept the
/// zeroed tail).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; BPF_OBJ_NAME_LEN],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// `attach_prog_fd` or `attach_btf_obj_fd`.
    pub attach_prog_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    pub log_true_size: u32,
}

/// `BPF_OBJ_PIN` / `BPF_OBJ_GET` attribute.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ObjPinAttr {
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
}

/// `BPF_*_GET_FD_BY_ID` attribute.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct GetFdByIdAttr {
    /// `start_id`, `prog_id`, `map_id`, `btf_id` or `link_id`.
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD` attribute.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ObjGetInfoAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// `BPF_BTF_LOAD` attribute (fields up to `btf_log_true_size`, 6.4).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
}

/// `BPF_RAW_TRACEPOINT_OPEN` attribute.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct RawTracepointOpenAttr {
    pub name: u64,
    pub prog_fd: u32,
    pub _pad0: u32,
}

/// `BPF_PROG_TEST_RUN` attribute (fields up to `batch_size`, 5.18).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ProgTestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub _pad0: u32,
}

/// `BPF_LINK_CREATE` attribute, with the `perf_event.bpf_cookie` member of the target union
/// (5.15).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct LinkCreateAttr {
    pub prog_fd: u32,
    /// `target_fd` or `target_ifindex`.
    pub target_fd: u32,
    pub attach_type: u32,
    pub flags: u32,
    /// `target_btf_id` / `iter_info` / `perf_event.bpf_cookie` ...
    pub target: u64,
}

attrs!(
    MapCreateAttr,
    MapElemAttr,
    MapBatchAttr,
    ProgLoadAttr,
    ObjPinAttr,
    GetFdByIdAttr,
    ObjGetInfoAttr,
    BtfLoadAttr,
    RawTracepointOpenAttr,
    ProgTestRunAttr,
    LinkCreateAttr,
);

/// `struct bpf_map_info`, filled by `BPF_OBJ_GET_INFO_BY_FD` (fields up to `map_extra`).
/// The kernel writes at most `info_len` bytes and zero-fills fields it does not know.
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct BpfMapInfo {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; BPF_OBJ_NAME_LEN],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_id: u32,
    pub map_extra: u64,
}

/// The head of `struct bpf_prog_info` up to `name` (enough for id, type and name).
#[derive(Clone, Copy, Debug, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct BpfProgInfo {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; BPF_OBJ_NAME_LEN],
}

/// A BPF instruction (`struct bpf_insn`): opcode, `dst:4 src:4` registers, offset, immediate.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, IntoBytes, FromBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct BpfInsn {
    pub code: u8,
    /// Low nibble: destination register; high nibble: source register (little endian).
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl BpfInsn {
    /// An instruction from its fields (`regs`: source register << 4 | destination register).
    pub const fn new(code: u8, regs: u8, off: i16, imm: i32) -> Self {
        BpfInsn {
            code,
            regs,
            off,
            imm,
        }
    }

    /// The source register field.
    pub fn src_reg(&self) -> u8 {
        self.regs >> 4
    }

    /// The destination register field.
    pub fn dst_reg(&self) -> u8 {
        self.regs & 0x0f
    }

    /// Set the source register field.
    pub fn set_src_reg(&mut self, src: u8) {
        self.regs = (self.regs & 0x0f) | (src << 4);
    }
}

/// Length of kernel object names, including the NUL (`BPF_OBJ_NAME_LEN`).
pub const BPF_OBJ_NAME_LEN: usize = 16;

// enum bpf_map_type (the ones mmbpf names; others pass through as numbers).
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_MAP_TYPE_PROG_ARRAY: u32 = 3;
pub const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
pub const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;

// enum bpf_prog_type.
pub const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;
pub const BPF_PROG_TYPE_KPROBE: u32 = 2;
pub const BPF_PROG_TYPE_TRACEPOINT: u32 = 5;
pub const BPF_PROG_TYPE_XDP: u32 = 6;
pub const BPF_PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
pub const BPF_PROG_TYPE_SYSCALL: u32 = 31;

// enum bpf_attach_type.
pub const BPF_PERF_EVENT: u32 = 41;

// Map flags (BPF_F_* for BPF_MAP_CREATE).
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
pub const BPF_F_NO_COMMON_LRU: u32 = 1 << 1;
pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
pub const BPF_F_RDONLY: u32 = 1 << 3;
pub const BPF_F_WRONLY: u32 = 1 << 4;
pub const BPF_F_STACK_BUILD_ID: u32 = 1 << 5;
pub const BPF_F_ZERO_SEED: u32 = 1 << 6;
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
pub const BPF_F_CLONE: u32 = 1 << 9;
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
pub const BPF_F_PRESERVE_ELEMS: u32 = 1 << 11;
pub const BPF_F_INNER_MAP: u32 = 1 << 12;

// Element update flags.
pub const BPF_ANY: u64 = 0;
pub const BPF_NOEXIST: u64 = 1;
pub const BPF_EXIST: u64 = 2;

// ld_imm64 source-register markers for map references.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `call` source-register marker for a bpf-to-bpf call.
pub const BPF_PSEUDO_CALL: u8 = 1;

// Instruction encoding.
pub const BPF_LD: u8 = 0x00;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_IMM: u8 = 0x00;
pub const BPF_DW: u8 = 0x18;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;
pub const BPF_K: u8 = 0x00;
/// `ld_imm64`: the opcode of a 16-byte "load 64-bit immediate" (two instruction slots).
pub const BPF_LD_IMM64: u8 = BPF_LD | BPF_IMM | BPF_DW;
/// `call imm`: helper call, or bpf-to-bpf call with `src_reg == BPF_PSEUDO_CALL`.
pub const BPF_CALL_INSN: u8 = BPF_JMP | BPF_CALL | BPF_K;

// prog_flags.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;

// Log levels.
pub const BPF_LOG_LEVEL1: u32 = 1;
pub const BPF_LOG_LEVEL2: u32 = 2;

#[cfg(test)]
mod tests {
    //! Sizes and offsets checked against `include/uapi/linux/bpf.h` (values computed with
    //! `offsetof`/`sizeof` on the uapi header of Linux 6.1 and cross-checked with 6.12).
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn map_create_layout() {
        assert_eq!(offset_of!(MapCreateAttr, map_flags), 16);
        assert_eq!(offset_of!(MapCreateAttr, map_name), 28);
        assert_eq!(offset_of!(MapCreateAttr, map_ifindex), 44);
        assert_eq!(offset_of!(MapCreateAttr, btf_fd), 48);
        assert_eq!(offset_of!(MapCreateAttr, btf_value_type_id), 56);
        assert_eq!(offset_of!(MapCreateAttr, map_extra), 64);
        assert_eq!(size_of::<MapCreateAttr>(), 72);
    }

    #[test]
    fn map_elem_layout() {
        assert_eq!(offset_of!(MapElemAttr, key), 8);
        assert_eq!(offset_of!(MapElemAttr, value), 16);
        assert_eq!(offset_of!(MapElemAttr, flags), 24);
        assert_eq!(size_of::<MapElemAttr>(), 32);
    }

    #[test]
    fn map_batch_layout() {
        assert_eq!(offset_of!(MapBatchAttr, values), 24);
        assert_eq!(offset_of!(MapBatchAttr, count), 32);
        assert_eq!(offset_of!(MapBatchAttr, map_fd), 36);
        assert_eq!(offset_of!(MapBatchAttr, elem_flags), 40);
        assert_eq!(offset_of!(MapBatchAttr, flags), 48);
        assert_eq!(size_of::<MapBatchAttr>(), 56);
    }

    #[test]
    fn prog_load_layout() {
        assert_eq!(offset_of!(ProgLoadAttr, insns), 8);
        assert_eq!(offset_of!(ProgLoadAttr, license), 16);
        assert_eq!(offset_of!(ProgLoadAttr, log_level), 24);
        assert_eq!(offset_of!(ProgLoadAttr, log_buf), 32);
        assert_eq!(offset_of!(ProgLoadAttr, kern_version), 40);
        assert_eq!(offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(offset_of!(ProgLoadAttr, prog_btf_fd), 72);
        assert_eq!(offset_of!(ProgLoadAttr, func_info), 80);
        assert_eq!(offset_of!(ProgLoadAttr, func_info_cnt), 88);
        assert_eq!(offset_of!(ProgLoadAttr, line_info), 96);
        assert_eq!(offset_of!(ProgLoadAttr, line_info_cnt), 104);
        assert_eq!(offset_of!(ProgLoadAttr, attach_btf_id), 108);
        assert_eq!(offset_of!(ProgLoadAttr, attach_prog_fd), 112);
        assert_eq!(offset_of!(ProgLoadAttr, fd_array), 120);
        assert_eq!(offset_of!(ProgLoadAttr, core_relos), 128);
        assert_eq!(offset_of!(ProgLoadAttr, log_true_size), 140);
        assert_eq!(size_of::<ProgLoadAttr>(), 144);
    }

    #[test]
    fn small_attr_layouts() {
        assert_eq!(offset_of!(ObjPinAttr, bpf_fd), 8);
        assert_eq!(offset_of!(ObjPinAttr, file_flags), 12);
        assert_eq!(size_of::<ObjPinAttr>(), 16);
        assert_eq!(offset_of!(GetFdByIdAttr, open_flags), 8);
        assert_eq!(size_of::<GetFdByIdAttr>(), 12);
        assert_eq!(offset_of!(ObjGetInfoAttr, info), 8);
        assert_eq!(size_of::<ObjGetInfoAttr>(), 16);
        assert_eq!(offset_of!(BtfLoadAttr, btf_size), 16);
        assert_eq!(offset_of!(BtfLoadAttr, btf_log_level), 24);
        assert_eq!(size_of::<BtfLoadAttr>(), 32);
        assert_eq!(offset_of!(RawTracepointOpenAttr, prog_fd), 8);
        assert_eq!(size_of::<RawTracepointOpenAttr>(), 16);
        assert_eq!(offset_of!(LinkCreateAttr, attach_type), 8);
        assert_eq!(offset_of!(LinkCreateAttr, target), 16);
    }

    #[test]
    fn test_run_layout() {
        assert_eq!(offset_of!(ProgTestRunAttr, data_in), 16);
        assert_eq!(offset_of!(ProgTestRunAttr, repeat), 32);
        assert_eq!(offset_of!(ProgTestRunAttr, duration), 36);
        assert_eq!(offset_of!(ProgTestRunAttr, ctx_in), 48);
        assert_eq!(offset_of!(ProgTestRunAttr, flags), 64);
        assert_eq!(offset_of!(ProgTestRunAttr, batch_size), 72);
        assert_eq!(size_of::<ProgTestRunAttr>(), 80);
    }

    #[test]
    fn info_layouts() {
        assert_eq!(offset_of!(BpfMapInfo, name), 24);
        assert_eq!(offset_of!(BpfMapInfo, ifindex), 40);
        assert_eq!(offset_of!(BpfMapInfo, netns_dev), 48);
        assert_eq!(offset_of!(BpfMapInfo, btf_id), 64);
        assert_eq!(offset_of!(BpfMapInfo, map_extra), 80);
        assert_eq!(size_of::<BpfMapInfo>(), 88);
        assert_eq!(offset_of!(BpfProgInfo, map_ids), 56);
        assert_eq!(offset_of!(BpfProgInfo, name), 64);
        assert_eq!(size_of::<BpfInsn>(), 8);
    }

    #[test]
    fn insn_register_nibbles() {
        let mut insn = BpfInsn {
            code: BPF_LD_IMM64,
            regs: 0x01,
            off: 0,
            imm: 0,
        };
        assert_eq!(insn.dst_reg(), 1);
        assert_eq!(insn.src_reg(), 0);
        insn.set_src_reg(BPF_PSEUDO_MAP_VALUE);
        assert_eq!(insn.src_reg(), 2);
        assert_eq!(insn.dst_reg(), 1);
        assert_eq!(insn.as_bytes(), &[0x18, 0x21, 0, 0, 0, 0, 0, 0]);
    }
}
