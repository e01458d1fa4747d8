//! mmbpf: load eBPF objects and share memory with them through `mmap`, without libbpf,
//! aya or C.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod btf;
pub mod elf;
pub mod error;
pub mod fd;
pub mod map;
pub mod mmap;
pub mod object;
pub mod probe;
pub mod program;
pub mod sys;

pub use error::{Errno, Error, ErrorKind, KernelVersion, Result};
