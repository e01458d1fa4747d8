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

    /// The non-zero values as `(index, bytes)`, copied out of the mapping with memory
    /// loads only (no system call), a bounded chunk at a time.
    pub fn nonzero(&self) -> mmbpf::Result<Vec<(u32, Vec<u8>)>> {
        const CHUNK_BYTES: usize = 1 << 16;
        let per_chunk = (CHUNK_BYTES / self.stride).max(1);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.len {
            let count = per_chunk.min(self.len - start);
            buf.resize(count * self.stride, 0);
            self.region.read_bytes(start * self.stride, &mut buf)?;
            for (k, elem) in buf.chunks(self.stride).enumerate() {
                let value = &elem[..self.value_size];
                if value.iter().any(|&b| b != 0) {
                    // start + k < len = max_entries, a u32.
                    out.push(((start + k) as u32, value.to_vec()));
                }
            }
            start += count;
        }
        Ok(out)
    }
}
