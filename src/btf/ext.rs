//! `.BTF.ext`: per-section `func_info` and `line_info` records (and the CO-RE relocation
//! sub-section, which is only detected so that it can be refused).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{read_u16, read_u32, Btf, BTF_MAGIC};
use crate::error::{Error, Result};

/// Minimum `func_info` record size (`struct bpf_func_info`: insn_off, type_id).
pub const FUNC_INFO_MIN_REC_SIZE: u32 = 8;
/// Minimum `line_info` record size (`struct bpf_line_info`: insn_off, file_name_off,
/// line_off, line_col).
pub const LINE_INFO_MIN_REC_SIZE: u32 = 16;
/// Minimum CO-RE relocation record size (`struct bpf_core_relo`).
pub const CORE_RELO_MIN_REC_SIZE: u32 = 16;

/// The records of one ELF section in a `.BTF.ext` sub-section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfExtSection {
    /// The ELF section name (e.g. `tracepoint/syscalls/sys_enter_getpid`, `.text`).
    pub name: String,
    /// `count` records of the sub-section's `rec_size` bytes each. The first `u32` of each
    /// record is `insn_off`, a byte offset inside the ELF section.
    pub records: Vec<u8>,
    /// Number of records.
    pub count: u32,
}

/// One `.BTF.ext` sub-section (`func_info`, `line_info` or `core_relo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExtInfo {
    /// Size of each record (0 if the sub-section is empty).
    pub rec_size: u32,
    /// Records grouped by ELF section.
    pub sections: Vec<BtfExtSection>,
}

impl BtfExtInfo {
    /// The records of ELF section `name`, if any.
    pub fn section(&self, name: &str) -> Option<&BtfExtSection> {
        self.sections.iter().find(|s| s.name == name)
    }
}

/// Decoded `.BTF.ext`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExt {
    /// `func_info`: one record per function (insn_off, FUNC type id).
    pub func_info: BtfExtInfo,
    /// `line_info`: source line records.
    pub line_info: BtfExtInfo,
    /// CO-RE relocations (`bpf_core_relo` records); mmbpf does not apply them.
    pub core_relo: BtfExtInfo,
}

impl BtfExt {
    /// Decode `.BTF.ext`; section names are looked up in `btf`'s strings.
    pub fn parse(bytes: &[u8], btf: &Btf) -> Result<BtfExt> {
        let short = || {
            Error::malformed(format!(
                "section .BTF.ext: {} bytes, too short for its header",
                bytes.len()
            ))
        };
        let magic = read_u16(bytes, 0).ok_or_else(short)?;
        if magic == BTF_MAGIC.swap_bytes() {
            return Err(Error::unsupported(
                "section .BTF.ext: big-endian BTF is not supported",
            ));
        }
        if magic != BTF_MAGIC {
            return Err(Error::malformed(format!(
                "section .BTF.ext: bad magic {magic:#06x} at offset 0"
            )));
        }
        if bytes.get(2) != Some(&1) {
            return Err(Error::unsupported(format!(
                "section .BTF.ext: version {} at offset 2 is not supported",
                bytes.get(2).copied().unwrap_or(0)
            )));
        }
        let hdr_len = read_u32(bytes, 4).ok_or_else(short)? as usize;
        if !(24..=bytes.len()).contains(&hdr_len) {
            return Err(Error::malformed(format!(
                "section .BTF.ext: header length {hdr_len} at offset 4 is invalid (section is {} bytes)",
                bytes.len()
            )));
        }
        let body = &bytes[hdr_len..];
        let word = |off: usize| read_u32(bytes, off).unwrap_or(0);
        let func_info = parse_info(
            body,
            hdr_len,
            word(8),
            word(12),
            FUNC_INFO_MIN_REC_SIZE,
            "func_info",
            btf,
        )?;
        let line_info = parse_info(
            body,
            hdr_len,
            word(16),
            word(20),
            LINE_INFO_MIN_REC_SIZE,
            "line_info",
            btf,
        )?;
        let core_relo = if hdr_len >= 32 {
            parse_info(
                body,
                hdr_len,
                word(24),
                word(28),
                CORE_RELO_MIN_REC_SIZE,
                "core_relo",
                btf,
            )?
        } else {
            BtfExtInfo::default()
        };
        Ok(BtfExt {
            func_info,
            line_info,
            core_relo,
        })
    }
}

fn parse_info(
    body: &[u8],
    hdr_len: usize,
    off: u32,
    len: u32,
    min_rec: u32,
    what: &str,
    btf: &Btf,
) -> Result<BtfExtInfo> {
    if len == 0 {
        return Ok(BtfExtInfo::default());
    }
    let (off, len) = (off as usize, len as usize);
    let abs = hdr_len.saturating_add(off);
    let data = off.checked_add(len).and_then(|end| body.get(off..end)).ok_or_else(|| {
        Error::malformed(format!(
            "section .BTF.ext: {what} (offset {abs:#x}, length {len}) extends past the end of the section"
        ))
    })?;
    let rec_size = read_u32(data, 0).ok_or_else(|| {
        Error::malformed(format!(
            "section .BTF.ext: {what} at offset {abs:#x} is too short for its record size"
        ))
    })?;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return Err(Error::malformed(format!(
            "section .BTF.ext: {what} record size {rec_size} at offset {abs:#x} is invalid (at least {min_rec}, multiple of 4)"
        )));
    }
    let mut sections = Vec::new();
    let mut pos = 4usize;
    while pos < data.len() {
        let at = abs + pos;
        let (name_off, count) = match (read_u32(data, pos), read_u32(data, pos + 4)) {
            (Some(a), Some(b)) => (a, b),
            _ => {
                return Err(Error::malformed(format!(
                    "section .BTF.ext: {what} section header at offset {at:#x} is truncated"
                )))
            }
        };
        let name = btf
            .string(name_off)
            .map_err(|e| e.context(format_args!("section .BTF.ext: {what} at offset {at:#x}")))?
            .to_string();
        let start = pos + 8;
        let bytes = (count as usize)
            .checked_mul(rec_size as usize)
            .filter(|n| *n <= data.len() - start)
            .ok_or_else(|| {
                Error::malformed(format!(
                    "section .BTF.ext: {what} for section {name:?} at offset {at:#x}: {count} records of {rec_size} bytes extend past the end"
                ))
            })?;
        if count == 0 {
            return Err(Error::malformed(format!(
                "section .BTF.ext: {what} for section {name:?} at offset {at:#x} has no records"
            )));
        }
        sections.push(BtfExtSection {
            name,
            records: data[start..start + bytes].to_vec(),
            count,
        });
        pos = start + bytes;
    }
    Ok(BtfExtInfo { rec_size, sections })
}
