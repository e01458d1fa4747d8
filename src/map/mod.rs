//! BPF maps: descriptions ([`MapSpec`]), owned handles, and typed array maps.

mod spec;

pub use spec::{
    check_kernel_name, data_len, ARRAY_DATA_LIMIT, mmap_len, sanitize_kernel_name, value_stride, GlobalDataKind, MapFlags, MapOrigin,
    MapSpec, MapType, MMAPABLE_SINCE,
};
