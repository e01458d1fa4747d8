//! Reading an array map's values as bytes through `mmap`, whatever their size.
//!
//! The library's array views are typed (`ArrayViewRo<T>` with `size_of::<T>() ==
//! value_size`); a command that opens maps it knows nothing about reads the mapping with
//! [`Region::read_bytes`] instead: element `i` is `value_size` bytes at `i * stride`.

use mmbpf::map::{mmap_len, value_stride, Map};
use mmbpf::mmap::{Protection, Region};
use mmbpf::sys::page_size;

/// A read-only mapping of an array map, read as bytes.
pub struct BytesView {
    region: Region,
    value_size: usize,
    stride: usize,
    len: usize,
}

impl BytesView {
    /// Map `map` read-only (`mmap(2)`, `PROT_READ`, `MAP_SHARED`). The map must be an
    /// mmapable array; the mapping stays valid after the map's descriptor is closed.
    pub fn map_ro(map: &Map) -> mmbpf::Result<BytesView> {
        let info = map.info();
        let too_big = || {
            mmbpf::Error::invalid_argument(format!("map \"{}\": mmap length overflows", info.name))
        };
        let len = mmap_len(info.value_size, info.max_entries, page_size()).ok_or_else(too_big)?;
        let stride = usize::try_from(value_stride(info.value_size)).map_err(|_| too_big())?;
        let region = Region::map(map.fd(), len, Protection::ReadOnly)
            .map_err(|e| e.context(format_args!("map \"{}\"", info.name)))?;
        Ok(BytesView {
            region,
            value_size: info.value_size as usize,
            stride,
            len: info.max_entries as usize,
        })
    }

    /// Bytes per value (not the stride).
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    /// All values, `len * value_size` bytes (the padding up to the stride removed), copied
    /// out of the mapping with memory loads only: no system call.
    pub fn snapshot(&self) -> mmbpf::Result<Vec<u8>> {
        let mut raw = vec![0u8; self.len * self.stride];
        self.region.read_bytes(0, &mut raw)?;
        if self.stride == self.value_size {
            return Ok(raw);
        }
        Ok(raw
            .chunks(self.stride)
            .flat_map(|c| &c[..self.value_size])
            .copied()
            .collect())
    }
}
