//! A minimal reader for BTF (BPF Type Format), the type information clang emits into the
//! `.BTF` and `.BTF.ext` sections of a BPF object (`clang -g`).
//!
//! Layout reference: the kernel's `Documentation/bpf/btf.rst` and `include/uapi/linux/btf.h`.
//! This module only reads: [`Btf::parse`] decodes the header, the string section and every
//! type (all kinds up to `BTF_KIND_ENUM64`), checks every type id a type refers to, and offers
//! the few queries a loader needs (names, sizes through typedefs/qualifiers/arrays, DATASECs).
//! [`BtfExt::parse`] decodes the `func_info`/`line_info` records of `.BTF.ext`.
//!
//! Everything is bounds-checked: a malformed input gives an [`ErrorKind::Malformed`] error
//! naming the section, type id and byte offset, never a panic. Type chains are followed with a
//! depth limit so that cycles end in an error. Only little-endian BTF is supported
//! (big-endian gives [`ErrorKind::Unsupported`]).
//!
//! [`ErrorKind::Malformed`]: crate::ErrorKind::Malformed
//! [`ErrorKind::Unsupported`]: crate::ErrorKind::Unsupported

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::error::{Error, Result};

mod ext;

pub use ext::{BtfExt, BtfExtInfo, BtfExtSection};

/// `BTF_MAGIC`, as stored little-endian at the start of `.BTF` and `.BTF.ext`.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// The only BTF version there is.
pub const BTF_VERSION: u8 = 1;
/// Size of `struct btf_header`.
pub const BTF_HEADER_LEN: usize = 24;
/// How many links of a type chain (typedef → const → array → ...) are followed before giving
/// up: the same limit as libbpf's `MAX_RESOLVE_DEPTH`.
pub const MAX_RESOLVE_DEPTH: usize = 32;
/// Size of `struct btf_type`.
const TYPE_HEADER_LEN: usize = 12;

/// `BTF_VAR_STATIC`: a `static` variable.
pub const BTF_VAR_STATIC: u32 = 0;
/// `BTF_VAR_GLOBAL_ALLOCATED`: a global variable defined in this object.
pub const BTF_VAR_GLOBAL_ALLOCATED: u32 = 1;
/// `BTF_VAR_GLOBAL_EXTERN`: an `extern` variable (`.kconfig`, `.ksyms`).
pub const BTF_VAR_GLOBAL_EXTERN: u32 = 2;

/// Read a little-endian `u16` at `off`, `None` if out of bounds.
pub(crate) fn read_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Read a little-endian `u32` at `off`, `None` if out of bounds.
pub(crate) fn read_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Write a little-endian `u32` at `off`, `None` if out of bounds.
pub(crate) fn write_u32(b: &mut [u8], off: usize, v: u32) -> Option<()> {
    let s = b.get_mut(off..off.checked_add(4)?)?;
    s.copy_from_slice(&v.to_le_bytes());
    Some(())
}

/// A BTF type kind (`BTF_KIND_*`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BtfKind {
    /// Type id 0: `void`. Never stored in the type section.
    Void,
    /// `BTF_KIND_INT` (1).
    Int,
    /// `BTF_KIND_PTR` (2).
    Ptr,
    /// `BTF_KIND_ARRAY` (3).
    Array,
    /// `BTF_KIND_STRUCT` (4).
    Struct,
    /// `BTF_KIND_UNION` (5).
    Union,
    /// `BTF_KIND_ENUM` (6).
    Enum,
    /// `BTF_KIND_FWD` (7).
    Fwd,
    /// `BTF_KIND_TYPEDEF` (8).
    Typedef,
    /// `BTF_KIND_VOLATILE` (9).
    Volatile,
    /// `BTF_KIND_CONST` (10).
    Const,
    /// `BTF_KIND_RESTRICT` (11).
    Restrict,
    /// `BTF_KIND_FUNC` (12).
    Func,
    /// `BTF_KIND_FUNC_PROTO` (13).
    FuncProto,
    /// `BTF_KIND_VAR` (14).
    Var,
    /// `BTF_KIND_DATASEC` (15).
    Datasec,
    /// `BTF_KIND_FLOAT` (16).
    Float,
    /// `BTF_KIND_DECL_TAG` (17).
    DeclTag,
    /// `BTF_KIND_TYPE_TAG` (18).
    TypeTag,
    /// `BTF_KIND_ENUM64` (19).
    Enum64,
}

impl BtfKind {
    fn from_raw(kind: u32) -> Option<BtfKind> {
        Some(match kind {
            1 => BtfKind::Int,
            2 => BtfKind::Ptr,
            3 => BtfKind::Array,
            4 => BtfKind::Struct,
            5 => BtfKind::Union,
            6 => BtfKind::Enum,
            7 => BtfKind::Fwd,
            8 => BtfKind::Typedef,
            9 => BtfKind::Volatile,
            10 => BtfKind::Const,
            11 => BtfKind::Restrict,
            12 => BtfKind::Func,
            13 => BtfKind::FuncProto,
            14 => BtfKind::Var,
            15 => BtfKind::Datasec,
            16 => BtfKind::Float,
            17 => BtfKind::DeclTag,
            18 => BtfKind::TypeTag,
            19 => BtfKind::Enum64,
            _ => return None,
        })
    }

    /// The uapi name without prefix (`"STRUCT"`), as `bpftool btf dump` prints it.
    pub fn name(self) -> &'static str {
        match self {
            BtfKind::Void => "VOID",
            BtfKind::Int => "INT",
            BtfKind::Ptr => "PTR",
            BtfKind::Array => "ARRAY",
            BtfKind::Struct => "STRUCT",
            BtfKind::Union => "UNION",
            BtfKind::Enum => "ENUM",
            BtfKind::Fwd => "FWD",
            BtfKind::Typedef => "TYPEDEF",
            BtfKind::Volatile => "VOLATILE",
            BtfKind::Const => "CONST",
            BtfKind::Restrict => "RESTRICT",
            BtfKind::Func => "FUNC",
            BtfKind::FuncProto => "FUNC_PROTO",
            BtfKind::Var => "VAR",
            BtfKind::Datasec => "DATASEC",
            BtfKind::Float => "FLOAT",
            BtfKind::DeclTag => "DECL_TAG",
            BtfKind::TypeTag => "TYPE_TAG",
            BtfKind::Enum64 => "ENUM64",
        }
    }
}

/// A member of a STRUCT or UNION (`struct btf_member`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BtfMember {
    /// Name offset in the string section.
    pub name_off: u32,
    /// Member type id.
    pub type_id: u32,
    /// Bit offset (and bitfield size in the high 8 bits when the kind flag is set).
    pub offset: u32,
}

/// The element description of an ARRAY (`struct btf_array`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BtfArray {
    /// Element type id.
    pub elem_type: u32,
    /// Index type id.
    pub index_type: u32,
    /// Number of elements.
    pub nelems: u32,
}

/// A FUNC_PROTO parameter (`struct btf_param`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BtfParam {
    /// Name offset in the string section.
    pub name_off: u32,
    /// Parameter type id (0 for a trailing `...`).
    pub type_id: u32,
}

/// An ENUM or ENUM64 value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BtfEnumValue {
    /// Name offset in the string section.
    pub name_off: u32,
    /// The value's bits (ENUM: sign- or zero-extended 32 bits as stored).
    pub value: u64,
}

/// A variable placed in a DATASEC (`struct btf_var_secinfo`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BtfVarSecinfo {
    /// The VAR's type id.
    pub type_id: u32,
    /// Offset of the variable in its section (clang leaves 0 for global variables; the
    /// ELF parser fixes it from the symbol table).
    pub offset: u32,
    /// Size of the variable.
    pub size: u32,
}

/// The data that follows a `struct btf_type`, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BtfTypeData {
    /// Kinds without trailing data.
    None,
    /// INT: the `BTF_INT_ENCODING`/offset/bits word.
    Int(u32),
    /// ARRAY.
    Array(BtfArray),
    /// STRUCT / UNION members.
    Members(Vec<BtfMember>),
    /// ENUM / ENUM64 values.
    Enum(Vec<BtfEnumValue>),
    /// FUNC_PROTO parameters.
    Params(Vec<BtfParam>),
    /// VAR linkage (`BTF_VAR_*`).
    Var {
        /// `BTF_VAR_STATIC`, `BTF_VAR_GLOBAL_ALLOCATED` or `BTF_VAR_GLOBAL_EXTERN`.
        linkage: u32,
    },
    /// DATASEC variables.
    Datasec(Vec<BtfVarSecinfo>),
    /// DECL_TAG component index (-1 for the whole type).
    DeclTag {
        /// Member or parameter index, or -1.
        component_idx: i32,
    },
}

/// One decoded BTF type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfType {
    /// Name offset in the string section (0: anonymous).
    pub name_off: u32,
    /// Kind.
    pub kind: BtfKind,
    /// The kind flag (bit 31 of `info`).
    pub kind_flag: bool,
    /// `vlen` (bits 0..16 of `info`): number of trailing records.
    pub vlen: u16,
    /// `size` (INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64) or `type` (the others).
    pub size_or_type: u32,
    /// Kind-specific trailing data.
    pub data: BtfTypeData,
    /// Byte offset of this type's `struct btf_type` inside the `.BTF` section (0 for void).
    pub offset: usize,
}

impl BtfType {
    /// The `size` field for kinds that have one.
    pub fn size(&self) -> Option<u32> {
        match self.kind {
            BtfKind::Int
            | BtfKind::Enum
            | BtfKind::Struct
            | BtfKind::Union
            | BtfKind::Datasec
            | BtfKind::Float
            | BtfKind::Enum64 => Some(self.size_or_type),
            _ => None,
        }
    }

    /// The referenced type id for kinds whose third word is a type (PTR, TYPEDEF, VOLATILE,
    /// CONST, RESTRICT, FUNC, FUNC_PROTO (return type), VAR, DECL_TAG, TYPE_TAG).
    pub fn ref_type(&self) -> Option<u32> {
        match self.kind {
            BtfKind::Ptr
            | BtfKind::Typedef
            | BtfKind::Volatile
            | BtfKind::Const
            | BtfKind::Restrict
            | BtfKind::Func
            | BtfKind::FuncProto
            | BtfKind::Var
            | BtfKind::DeclTag
            | BtfKind::TypeTag => Some(self.size_or_type),
            _ => None,
        }
    }

    /// STRUCT/UNION members (empty for other kinds).
    pub fn members(&self) -> &[BtfMember] {
        match &self.data {
            BtfTypeData::Members(m) => m,
            _ => &[],
        }
    }

    /// DATASEC variables (empty for other kinds).
    pub fn secinfos(&self) -> &[BtfVarSecinfo] {
        match &self.data {
            BtfTypeData::Datasec(v) => v,
            _ => &[],
        }
    }

    /// The ARRAY description, for arrays.
    pub fn array(&self) -> Option<BtfArray> {
        match self.data {
            BtfTypeData::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The VAR linkage, for variables.
    pub fn var_linkage(&self) -> Option<u32> {
        match self.data {
            BtfTypeData::Var { linkage } => Some(linkage),
            _ => None,
        }
    }

    /// Every type id this type refers to (for range checks).
    fn referenced_ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        if let Some(t) = self.ref_type() {
            ids.push(t);
        }
        match &self.data {
            BtfTypeData::Array(a) => {
                ids.push(a.elem_type);
                ids.push(a.index_type);
            }
            BtfTypeData::Members(m) => ids.extend(m.iter().map(|m| m.type_id)),
            BtfTypeData::Params(p) => ids.extend(p.iter().map(|p| p.type_id)),
            BtfTypeData::Datasec(v) => ids.extend(v.iter().map(|v| v.type_id)),
            _ => {}
        }
        ids
    }
}

/// Decoded BTF: the types (indexed by type id, 0 = void) and the string section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Btf {
    types: Vec<BtfType>,
    strings: Vec<u8>,
}

fn malformed_at(id: usize, off: usize, what: impl core::fmt::Display) -> Error {
    Error::malformed(format!(
        "section .BTF: type id {id} at offset {off:#x}: {what}"
    ))
}

impl Btf {
    /// Decode a `.BTF` section.
    ///
    /// Checks the header (magic, version, lengths inside the input), the string section
    /// (starts and ends with NUL), every type's trailing data and that every referenced type
    /// id exists.
    pub fn parse(bytes: &[u8]) -> Result<Btf> {
        let magic = read_u16(bytes, 0).ok_or_else(|| {
            Error::malformed(format!(
                "section .BTF: {} bytes, too short for the BTF header",
                bytes.len()
            ))
        })?;
        if magic == BTF_MAGIC.swap_bytes() {
            return Err(Error::unsupported(
                "section .BTF: big-endian BTF is not supported",
            ));
        }
        if magic != BTF_MAGIC {
            return Err(Error::malformed(format!(
                "section .BTF: bad magic {magic:#06x} at offset 0 (expected {BTF_MAGIC:#06x})"
            )));
        }
        let version = bytes.get(2).copied().unwrap_or(0);
        if version != BTF_VERSION {
            return Err(Error::unsupported(format!(
                "section .BTF: BTF version {version} at offset 2 is not supported (only version 1)"
            )));
        }
        let hdr = |off: usize| {
            read_u32(bytes, off).ok_or_else(|| {
                Error::malformed(format!(
                    "section .BTF: {} bytes, too short for the {BTF_HEADER_LEN}-byte BTF header",
                    bytes.len()
                ))
            })
        };
        let hdr_len = hdr(4)? as usize;
        let type_off = hdr(8)? as usize;
        let type_len = hdr(12)? as usize;
        let str_off = hdr(16)? as usize;
        let str_len = hdr(20)? as usize;
        if hdr_len < BTF_HEADER_LEN || hdr_len > bytes.len() {
            return Err(Error::malformed(format!(
                "section .BTF: header length {hdr_len} at offset 4 is invalid (section is {} bytes)",
                bytes.len()
            )));
        }
        let body = &bytes[hdr_len..];
        let range = |name: &str, off: usize, len: usize| {
            off.checked_add(len).filter(|end| *end <= body.len()).map(|end| (off, end)).ok_or_else(|| {
                Error::malformed(format!(
                    "section .BTF: {name} section (offset {off:#x}, length {len}) extends past the end of the data ({} bytes after the header)",
                    body.len()
                ))
            })
        };
        let (t_start, t_end) = range("type", type_off, type_len)?;
        let (s_start, s_end) = range("string", str_off, str_len)?;
        if t_start % 4 != 0 {
            return Err(Error::malformed(format!(
                "section .BTF: type section offset {type_off:#x} is not 4-byte aligned"
            )));
        }
        if t_start < s_end && s_start < t_end {
            return Err(Error::malformed(
                "section .BTF: the type and string sections overlap",
            ));
        }
        let strings = &body[s_start..s_end];
        if strings.first() != Some(&0) || strings.last() != Some(&0) {
            return Err(Error::malformed(format!(
                "section .BTF: string section at offset {:#x} must start and end with a NUL byte",
                hdr_len + s_start
            )));
        }
        let tsec = &body[t_start..t_end];
        let base = hdr_len + t_start; // offset of the type section inside `bytes`
        let mut types = Vec::new();
        types.push(BtfType {
            name_off: 0,
            kind: BtfKind::Void,
            kind_flag: false,
            vlen: 0,
            size_or_type: 0,
            data: BtfTypeData::None,
            offset: 0,
        });
        let mut pos = 0usize;
        while pos < tsec.len() {
            let id = types.len();
            let at = base + pos;
            let (ty, len) = parse_type(tsec, pos).map_err(|what| malformed_at(id, at, what))?;
            types.push(BtfType { offset: at, ..ty });
            pos += len;
        }
        let btf = Btf {
            types,
            strings: strings.to_vec(),
        };
        // Every referenced id must exist; names must be in the string section.
        for (id, t) in btf.types.iter().enumerate().skip(1) {
            for r in t.referenced_ids() {
                if r as usize >= btf.types.len() {
                    return Err(malformed_at(
                        id,
                        t.offset,
                        format_args!(
                            "{} refers to type id {r}, but the BTF has only {} types",
                            t.kind.name(),
                            btf.types.len() - 1
                        ),
                    ));
                }
            }
            btf.string(t.name_off)
                .map_err(|e| e.context(format_args!("type id {id}")))?;
        }
        Ok(btf)
    }

    /// Number of type ids, including id 0 (void).
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True if the BTF has no types besides void.
    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// The type with id `id`; a bad id is a Malformed error naming it.
    pub fn type_by_id(&self, id: u32) -> Result<&BtfType> {
        self.types.get(id as usize).ok_or_else(|| {
            Error::malformed(format!(
                "section .BTF: type id {id} does not exist (the BTF has {} types)",
                self.types.len() - 1
            ))
        })
    }

    /// All types with their ids, void (id 0) excluded.
    pub fn types(&self) -> impl Iterator<Item = (u32, &BtfType)> {
        self.types
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, t)| (i as u32, t))
    }

    /// The NUL-terminated string at `off` in the string section.
    pub fn string(&self, off: u32) -> Result<&str> {
        let off = off as usize;
        let tail = self
            .strings
            .get(off..)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::malformed(format!(
                    "section .BTF: name offset {off:#x} is outside the string section ({} bytes)",
                    self.strings.len()
                ))
            })?;
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        core::str::from_utf8(&tail[..end]).map_err(|_| {
            Error::malformed(format!(
                "section .BTF: string at offset {off:#x} is not UTF-8"
            ))
        })
    }

    /// The name of type `id` (empty for anonymous types).
    pub fn type_name(&self, id: u32) -> Result<&str> {
        self.string(self.type_by_id(id)?.name_off)
    }

    /// The id of the first type of `kind` named `name`.
    pub fn find_by_name(&self, kind: BtfKind, name: &str) -> Option<u32> {
        self.types()
            .find(|(_, t)| t.kind == kind && self.string(t.name_off).ok() == Some(name))
            .map(|(id, _)| id)
    }

    /// The DATASEC named `name` (a section name such as `.bss`), with its id.
    pub fn datasec(&self, name: &str) -> Option<(u32, &BtfType)> {
        let id = self.find_by_name(BtfKind::Datasec, name)?;
        Some((id, &self.types[id as usize]))
    }

    /// Follow TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG links to the underlying type id.
    pub fn skip_mods_and_typedefs(&self, id: u32) -> Result<u32> {
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(cur)?;
            match t.kind {
                BtfKind::Typedef
                | BtfKind::Volatile
                | BtfKind::Const
                | BtfKind::Restrict
                | BtfKind::TypeTag => cur = t.size_or_type,
                _ => return Ok(cur),
            }
        }
        Err(self.too_deep(id))
    }

    fn too_deep(&self, id: u32) -> Error {
        let off = self.types.get(id as usize).map_or(0, |t| t.offset);
        malformed_at(
            id as usize,
            off,
            format_args!("type chain longer than {MAX_RESOLVE_DEPTH} links (a cycle?)"),
        )
    }

    /// The size in bytes of type `id`, through typedefs, qualifiers, VARs and arrays
    /// (libbpf's `btf__resolve_size`). Pointers are 8 bytes. Errors for types without a size
    /// (void, FUNC, FWD, ...), cycles, and sizes that overflow `u32`.
    pub fn resolve_size(&self, id: u32) -> Result<u32> {
        let mut cur = id;
        let mut nelems: u64 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(cur)?;
            let size: u64 = match t.kind {
                BtfKind::Int
                | BtfKind::Enum
                | BtfKind::Enum64
                | BtfKind::Struct
                | BtfKind::Union
                | BtfKind::Datasec
                | BtfKind::Float => t.size_or_type.into(),
                BtfKind::Ptr => 8,
                BtfKind::Typedef
                | BtfKind::Volatile
                | BtfKind::Const
                | BtfKind::Restrict
                | BtfKind::Var
                | BtfKind::DeclTag
                | BtfKind::TypeTag => {
                    cur = t.size_or_type;
                    continue;
                }
                BtfKind::Array => {
                    let a = t.array().unwrap_or(BtfArray {
                        elem_type: 0,
                        index_type: 0,
                        nelems: 0,
                    });
                    nelems = nelems.saturating_mul(a.nelems.into());
                    if nelems > u32::MAX.into() {
                        return Err(malformed_at(
                            cur as usize,
                            t.offset,
                            "array size overflows 32 bits",
                        ));
                    }
                    cur = a.elem_type;
                    continue;
                }
                BtfKind::Void | BtfKind::Fwd | BtfKind::Func | BtfKind::FuncProto => {
                    return Err(malformed_at(
                        cur as usize,
                        t.offset,
                        format_args!(
                            "{} has no size (resolving the size of type id {id})",
                            t.kind.name()
                        ),
                    ))
                }
            };
            let total = size.saturating_mul(nelems);
            return u32::try_from(total).map_err(|_| {
                malformed_at(
                    id as usize,
                    self.types[id as usize].offset,
                    "size overflows 32 bits",
                )
            });
        }
        Err(self.too_deep(id))
    }

    /// A C-like spelling of type `id` for display: `__u64`, `const volatile __u32`,
    /// `char[28]`, `struct triple`, `void *`.
    pub fn type_display(&self, id: u32) -> Result<String> {
        let mut prefix = String::new();
        let mut suffix = String::new();
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(cur)?;
            let name = self.string(t.name_off)?;
            let named = |kw: &str| {
                if name.is_empty() {
                    format!("{kw} (anon)")
                } else {
                    format!("{kw} {name}")
                }
            };
            let base = match t.kind {
                BtfKind::Void => "void".to_string(),
                BtfKind::Int | BtfKind::Float | BtfKind::Typedef => name.to_string(),
                BtfKind::Struct => named("struct"),
                BtfKind::Union => named("union"),
                BtfKind::Enum | BtfKind::Enum64 => named("enum"),
                BtfKind::Fwd => named(if t.kind_flag { "union" } else { "struct" }),
                BtfKind::Func | BtfKind::FuncProto => "fn".to_string(),
                BtfKind::Datasec => named("datasec"),
                BtfKind::Const | BtfKind::Volatile | BtfKind::Restrict => {
                    let q = match t.kind {
                        BtfKind::Const => "const ",
                        BtfKind::Volatile => "volatile ",
                        _ => "restrict ",
                    };
                    prefix.push_str(q);
                    cur = t.size_or_type;
                    continue;
                }
                BtfKind::Var | BtfKind::TypeTag | BtfKind::DeclTag => {
                    cur = t.size_or_type;
                    continue;
                }
                BtfKind::Ptr => {
                    suffix.insert_str(0, " *");
                    cur = t.size_or_type;
                    continue;
                }
                BtfKind::Array => {
                    let a = t.array().unwrap_or(BtfArray {
                        elem_type: 0,
                        index_type: 0,
                        nelems: 0,
                    });
                    let _ = write!(suffix, "[{}]", a.nelems);
                    cur = a.elem_type;
                    continue;
                }
            };
            return Ok(format!("{prefix}{base}{suffix}"));
        }
        Err(self.too_deep(id))
    }

    /// Replace DATASEC `id`'s size and variables, in the decoded types and in `raw` (the
    /// `.BTF` bytes this `Btf` was parsed from). `secinfos` must have the DATASEC's `vlen`
    /// entries.
    pub fn set_datasec(
        &mut self,
        raw: &mut [u8],
        id: u32,
        size: u32,
        secinfos: Vec<BtfVarSecinfo>,
    ) -> Result<()> {
        let t = self.type_by_id(id)?;
        if t.kind != BtfKind::Datasec || t.secinfos().len() != secinfos.len() {
            return Err(malformed_at(
                id as usize,
                t.offset,
                "not a DATASEC with that many variables",
            ));
        }
        let off = t.offset;
        let fail = || malformed_at(id as usize, off, "DATASEC outside the raw BTF bytes");
        write_u32(raw, off + 8, size).ok_or_else(fail)?;
        for (i, v) in secinfos.iter().enumerate() {
            let at = off + TYPE_HEADER_LEN + i * 12;
            write_u32(raw, at, v.type_id).ok_or_else(fail)?;
            write_u32(raw, at + 4, v.offset).ok_or_else(fail)?;
            write_u32(raw, at + 8, v.size).ok_or_else(fail)?;
        }
        let t = &mut self.types[id as usize];
        t.size_or_type = size;
        t.data = BtfTypeData::Datasec(secinfos);
        Ok(())
    }
}

/// Decode the type at `pos` in the type section `tsec`: the type and its total length.
fn parse_type(tsec: &[u8], pos: usize) -> core::result::Result<(BtfType, usize), String> {
    let word = |off: usize| read_u32(tsec, pos + off);
    let (name_off, info, size_or_type) = match (word(0), word(4), word(8)) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => {
            return Err(format!(
                "truncated type header ({} bytes left)",
                tsec.len() - pos
            ))
        }
    };
    let raw_kind = (info >> 24) & 0x1f;
    let kind = BtfKind::from_raw(raw_kind).ok_or_else(|| format!("unknown kind {raw_kind}"))?;
    let vlen = (info & 0xffff) as u16;
    let kind_flag = info >> 31 == 1;
    let rec = |n: usize| -> core::result::Result<usize, String> {
        let need = n * usize::from(vlen);
        if tsec.len() - pos - TYPE_HEADER_LEN < need {
            return Err(format!(
                "{} with vlen {vlen} needs {need} bytes after its header, only {} left",
                kind.name(),
                tsec.len() - pos - TYPE_HEADER_LEN
            ));
        }
        Ok(need)
    };
    let d = pos + TYPE_HEADER_LEN;
    let r = |off: usize| read_u32(tsec, d + off).unwrap_or(0);
    let (data, extra) = match kind {
        BtfKind::Int => {
            if tsec.len() - d < 4 {
                return Err("INT without its encoding word".into());
            }
            (BtfTypeData::Int(r(0)), 4)
        }
        BtfKind::Array => {
            if tsec.len() - d < 12 {
                return Err("ARRAY without its btf_array".into());
            }
            (
                BtfTypeData::Array(BtfArray {
                    elem_type: r(0),
                    index_type: r(4),
                    nelems: r(8),
                }),
                12,
            )
        }
        BtfKind::Struct | BtfKind::Union => {
            let n = rec(12)?;
            let m = (0..usize::from(vlen))
                .map(|i| BtfMember {
                    name_off: r(i * 12),
                    type_id: r(i * 12 + 4),
                    offset: r(i * 12 + 8),
                })
                .collect();
            (BtfTypeData::Members(m), n)
        }
        BtfKind::Enum => {
            let n = rec(8)?;
            let v = (0..usize::from(vlen))
                .map(|i| BtfEnumValue {
                    name_off: r(i * 8),
                    value: r(i * 8 + 4) as i32 as i64 as u64,
                })
                .collect();
            (BtfTypeData::Enum(v), n)
        }
        BtfKind::Enum64 => {
            let n = rec(12)?;
            let v = (0..usize::from(vlen))
                .map(|i| BtfEnumValue {
                    name_off: r(i * 12),
                    value: u64::from(r(i * 12 + 4)) | (u64::from(r(i * 12 + 8)) << 32),
                })
                .collect();
            (BtfTypeData::Enum(v), n)
        }
        BtfKind::FuncProto => {
            let n = rec(8)?;
            let p = (0..usize::from(vlen))
                .map(|i| BtfParam {
                    name_off: r(i * 8),
                    type_id: r(i * 8 + 4),
                })
                .collect();
            (BtfTypeData::Params(p), n)
        }
        BtfKind::Var => {
            if tsec.len() - d < 4 {
                return Err("VAR without its linkage word".into());
            }
            (BtfTypeData::Var { linkage: r(0) }, 4)
        }
        BtfKind::Datasec => {
            let n = rec(12)?;
            let v = (0..usize::from(vlen))
                .map(|i| BtfVarSecinfo {
                    type_id: r(i * 12),
                    offset: r(i * 12 + 4),
                    size: r(i * 12 + 8),
                })
                .collect();
            (BtfTypeData::Datasec(v), n)
        }
        BtfKind::DeclTag => {
            if tsec.len() - d < 4 {
                return Err("DECL_TAG without its component index".into());
            }
            (
                BtfTypeData::DeclTag {
                    component_idx: r(0) as i32,
                },
                4,
            )
        }
        _ => (BtfTypeData::None, 0),
    };
    Ok((
        BtfType {
            name_off,
            kind,
            kind_flag,
            vlen,
            size_or_type,
            data,
            offset: 0,
        },
        TYPE_HEADER_LEN + extra,
    ))
}

#[cfg(test)]
mod tests;
