//! TODO(helper): btf
