//! mmbpf: load eBPF objects and share memory with them through `mmap`, without libbpf,
//! aya or C.
//!
//! ```no_run
//! use mmbpf::object::OpenObject;
//!
//! # fn main() -> mmbpf::Result<()> {
//! // A clang-built object: `clang -O2 -g -target bpf -c counter.bpf.c`.
//! let bytes = std::fs::read("bpf-obj/counter.bpf.o").expect("object file");
//! let mut open = OpenObject::parse(&bytes)?; // pure: no kernel calls
//! open.set_global("target_tgid", &std::process::id())?; // a `const volatile` in .rodata
//! let obj = open.load()?; // maps, BTF, global data (frozen .rodata), programs
//! let _link = obj.program("count_syscalls")?.attach()?; // detaches on drop
//!
//! // `counts` is a BPF_F_MMAPABLE array: reading it is a memory load, not a syscall.
//! let counts = obj.array_map::<u64>("counts")?.mmap()?;
//! let total = obj.global::<u64>("total")?; // a `.bss` variable, mmapped
//! for _ in 0..3 {
//!     std::process::id();
//! }
//! println!("getpid: {} of {}", counts.load(39)?, total.load());
//! let all: Vec<u64> = counts.snapshot(); // bulk copy at memcpy speed
//! assert_eq!(all.len(), 1024);
//! # Ok(())
//! # }
//! ```
//!
//! The layers follow the data: bytes of an ELF file ([`elf`], [`btf`]: pure, `no_std` +
//! `alloc`, fuzzable) become specs ([`elf::ObjectSpec`], [`map::MapSpec`]), which become
//! kernel objects ([`object`], [`map`], [`program`]) through one `bpf(2)` choke point
//! ([`sys`]), whose memory is shared through mapped regions ([`mmap`]). `unsafe` code lives
//! in [`sys`] and [`mmap`] only.
//!
//! Kernel minimums: BPF_F_MMAPABLE arrays 5.5, global data 5.2, `BPF_MAP_FREEZE` 5.2, batch
//! map operations 5.6, BPF links for perf events 5.15 (older kernels attach tracepoints
//! with `PERF_EVENT_IOC_SET_BPF`), syscall programs 5.14. Errors name the version when the
//! running kernel lacks a feature.
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
