//! TODO(helper): mmap
