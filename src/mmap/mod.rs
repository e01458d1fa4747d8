//! Memory-mapped BPF arrays: [`Region`]s and the typed views over them.
//!
//! An array map created with `BPF_F_MMAPABLE` (Linux 5.5+) can be mapped into user space with
//! [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html) (`MAP_SHARED`, offset 0,
//! length `page_align(round_up(value_size, 8) * max_entries)`). Element `i` lives at byte
//! `i * round_up(value_size, 8)`: a 12-byte value has a 16-byte stride, and since the mapping
//! is page aligned every element is 8-aligned. A [`Region`] owns one such mapping and unmaps
//! it on drop; views share it through `Arc<Region>`, so one `.bss` mapping can back many
//! [`Variable`]s. The mapping keeps the map alive after its file descriptor is closed.
//!
//! **Why no `&T` into a live mapping.** BPF programs and the kernel (syscall updates, other
//! mappings, other processes) write this memory at any time. A Rust reference promises that
//! the bytes do not change while it lives (`&T`) or that nobody else touches them (`&mut T`);
//! handing one out over memory someone else writes would be undefined behaviour no matter how
//! careful the caller is. So [`ArrayView`], [`ArrayViewRo`], [`Variable`] and [`VariableRo`]
//! copy values in and out instead, and expose counters as `&AtomicU64` / `&AtomicU32` (an
//! atomic type is *meant* to be shared and mutated; BPF programs update counters with the
//! same atomic instructions, e.g. `__sync_fetch_and_add`).
//!
//! **Why atomic words rather than volatile.** Every access that Rust code makes to a region
//! is a relaxed (or, for the `*_acquire` loads, acquire) atomic load or store of a naturally
//! aligned `u64`, `u32`, `u16` or `u8`: a value is copied as `u64` words plus a
//! `u32`/`u16`/`u8` tail. On x86-64 and aarch64 a relaxed atomic load or store compiles to the
//! same single `mov`/`ldr`/`str` as a volatile access, but unlike volatile it is not a data
//! race when two Rust threads use the same view (`store` takes `&self` and views are
//! `Send + Sync`), so concurrent `load`/`store`/`fetch_add` from safe code are defined, and
//! Miri checks it. A value written concurrently may be torn *between* words (like a
//! `memcpy`), never within one. The word pattern depends only on where the value lies, and
//! the atomic accessors hand out only words of that pattern (no `&AtomicU32` inside a `u64`
//! word), so Rust never mixes access sizes on the same bytes. Atomic loads do not write, so
//! they work on `PROT_READ` mappings on the 64-bit targets mmbpf supports; a read-only view
//! still offers only loads (`load_u64_acquire`), because a store through `&AtomicU64` on a
//! read-only page would fault.
//!
//! **Read-only vs read-write is a type.** Frozen maps and `BPF_F_RDONLY_PROG` maps can only
//! be mapped `PROT_READ` (the kernel answers `EPERM`/`EACCES` to a writable mapping, and
//! [`Region::map`] says why). [`ArrayViewRo`]/[`VariableRo`] have no `store` and no
//! `&AtomicU64`. Only [`FrozenArrayView`]/[`FrozenVariable`] lend `&T`/`&[T]`: they require a
//! map that is frozen (no user-space writer can exist) *and* `BPF_F_RDONLY_PROG` (no program
//! can write). Their constructors take only a region made by [`Region::map_frozen`], which
//! checks both facts on the map handle and maps that map's own descriptor read-only in one
//! step, so the proof cannot be attached to other memory and no `unsafe` is needed outside
//! this module.
//!
//! Bulk copies ([`ArrayView::snapshot`], `copy_to`) run one loop of `u64` loads when
//! `value_size` is a multiple of 8, close to `memcpy` speed; `snapshot` allocates a new
//! `Vec` each call, so loops should reuse a buffer with `copy_to`. Single 8- and 4-byte
//! values take a compile-time fast path: `load`, `store` and the atomics are one bounds
//! check and one `mov`. For callers who can prove that
//! nothing writes the map (programs detached, no other mapping), `as_slice_unchecked` is the
//! `unsafe` escape hatch.

mod access;
mod region;
#[cfg(test)]
mod tests;
mod variable;
mod view;

pub use self::region::Region;
pub use self::variable::{FrozenVariable, Variable, VariableRo};
pub use self::view::{ArrayView, ArrayViewRo, FrozenArrayView, Iter};
pub use crate::sys::Protection;
