//! BPF maps: descriptions ([`MapSpec`]), owned handles ([`Map`]), and typed arrays
//! ([`ArrayMap`]) with syscall and `mmap` access.

mod array;
mod handle;
mod spec;

pub use array::ArrayMap;
pub use handle::{Access, Map, MapInfo};
pub use spec::{
    check_kernel_name, data_len, mmap_len, sanitize_kernel_name, value_stride, GlobalDataKind,
    MapFlags, MapOrigin, MapSpec, MapType, ARRAY_DATA_LIMIT, MMAPABLE_SINCE,
};
