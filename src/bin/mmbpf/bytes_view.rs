//! Reading an array map's values as bytes through `mmap`, whatever their size.
//!
//! The library's views are typed (`ArrayViewRo<T>` with `size_of::<T>() == value_size`). A
//! command that opens maps it knows nothing about picks `[u8; N]` with `N = value_size` at
//! run time from a fixed set of sizes; maps with other value sizes are read with syscalls.

use std::sync::Arc;

use mmbpf::map::{mmap_len, Map};
use mmbpf::mmap::{ArrayViewRo, Protection, Region};
use mmbpf::sys::page_size;

/// A read-only view of an array map's values as bytes.
pub trait BytesView {
    /// Bytes per value (not the stride).
    fn value_size(&self) -> usize;
    /// All values, `len() * value_size()` bytes, copied out of the mapping (memory loads
    /// only: no system call).
    fn snapshot(&self) -> Vec<u8>;
}

impl<const N: usize> BytesView for ArrayViewRo<[u8; N]> {
    fn value_size(&self) -> usize {
        N
    }

    fn snapshot(&self) -> Vec<u8> {
        ArrayViewRo::snapshot(self).into_iter().flatten().collect()
    }
}

/// Map `map` read-only (`mmap(2)`, `PROT_READ`) and view its values as bytes.
///
/// `Ok(None)` when the value size has no view here (read with syscalls instead).
pub fn map_ro(map: &Map) -> mmbpf::Result<Option<Box<dyn BytesView>>> {
    let info = map.info();
    if !supported(info.value_size) {
        return Ok(None);
    }
    let len = mmap_len(info.value_size, info.max_entries, page_size()).ok_or_else(|| {
        mmbpf::Error::invalid_argument(format!("map \"{}\": mmap length overflows", info.name))
    })?;
    let region = Arc::new(
        Region::map(map.fd(), len, Protection::ReadOnly)
            .map_err(|e| e.context(format_args!("map \"{}\"", info.name)))?,
    );
    view(region, info.value_size, info.max_entries)
}

macro_rules! sizes {
    ($region:ident, $value_size:ident, $max:ident; $($n:literal)*) => {
        match $value_size {
            $($n => Ok(Some(Box::new(ArrayViewRo::<[u8; $n]>::new($region, $value_size, $max)?) as Box<dyn BytesView>)),)*
            _ => Ok(None),
        }
    };
}

macro_rules! supported_sizes {
    ($value_size:ident; $($n:literal)*) => {
        matches!($value_size, $($n)|*)
    };
}

/// Value sizes with a byte view: 1..=64, then multiples of 8 up to 512.
fn supported(value_size: u32) -> bool {
    supported_sizes!(value_size;
        1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
        33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64
        72 80 88 96 104 112 120 128 136 144 152 160 168 176 184 192 200 208 216 224 232 240 248 256
        264 272 280 288 296 304 312 320 328 336 344 352 360 368 376 384 392 400 408 416 424 432 440 448
        456 464 472 480 488 496 504 512)
}

/// A byte view of `max_entries` values of `value_size` bytes in `region`.
pub fn view(
    region: Arc<Region>,
    value_size: u32,
    max_entries: u32,
) -> mmbpf::Result<Option<Box<dyn BytesView>>> {
    sizes!(region, value_size, max_entries;
        1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
        33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64
        72 80 88 96 104 112 120 128 136 144 152 160 168 176 184 192 200 208 216 224 232 240 248 256
        264 272 280 288 296 304 312 320 328 336 344 352 360 368 376 384 392 400 408 416 424 432 440 448
        456 464 472 480 488 496 504 512)
}
