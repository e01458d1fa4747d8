//! TODO(helper): elf
