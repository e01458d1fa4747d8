//! Case 5 agent, mmbpf without `std`: the same behaviour as `agents/mmbpf` (load the
//! embedded counter object, set `target_tgid`, attach its tracepoint, make a few getpid()
//! calls, read the counter once from the mmap view, exit), written against mmbpf's
//! `no_std` + `alloc` core. The C library provides what `std` would: the entry point (its
//! crt calls `main`), the heap (`malloc`), output (`write`) and `getpid`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_int, c_void};
use core::fmt::Write;
use mmbpf::object::OpenObject;

// libc itself (musl's libc.a) is linked by build.rs: the `libc` crate only declares it.

static OBJ: &[u8] = include_bytes!("../../../../bpf-obj/counter.bpf.o");
const SYS_GETPID: usize = 39; // x86_64

/// The heap: libc's malloc family. malloc's alignment on x86_64 is 16 bytes; larger
/// alignments go through posix_memalign.
struct Malloc;
const MALLOC_ALIGN: usize = 16;

unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            unsafe { libc::malloc(l.size()) as *mut u8 }
        } else {
            aligned(l)
        }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            unsafe { libc::calloc(1, l.size()) as *mut u8 }
        } else {
            let p = aligned(l);
            if !p.is_null() {
                unsafe { core::ptr::write_bytes(p, 0, l.size()) };
            }
            p
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, _l: Layout) {
        unsafe { libc::free(p as *mut c_void) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            return unsafe { libc::realloc(p as *mut c_void, new_size) as *mut u8 };
        }
        // realloc() would lose the alignment: allocate, copy, free.
        let new = match Layout::from_size_align(new_size, l.align()) {
            Ok(nl) => aligned(nl),
            Err(_) => return core::ptr::null_mut(),
        };
        if !new.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(p, new, l.size().min(new_size));
                libc::free(p as *mut c_void);
            }
        }
        new
    }
}

fn aligned(l: Layout) -> *mut u8 {
    let mut p: *mut c_void = core::ptr::null_mut();
    // align is a power of two and > 16, so a multiple of sizeof(void *) as required
    match unsafe { libc::posix_memalign(&mut p, l.align(), l.size()) } {
        0 => p as *mut u8,
        _ => core::ptr::null_mut(),
    }
}

#[global_allocator]
static HEAP: Malloc = Malloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe { libc::abort() }
}

// Rust's precompiled `core`/`alloc` for this target are built for unwinding, so their
// cleanup paths name these two symbols. With panic = "abort" nothing ever unwinds and they
// are never called; they only have to exist for the link (with LTO the references go away).
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    unsafe { libc::abort() }
}

/// Write all of `s` to file descriptor `fd` (retrying short writes and EINTR).
fn put(fd: c_int, s: &str) {
    let mut b = s.as_bytes();
    while !b.is_empty() {
        let n = unsafe { libc::write(fd, b.as_ptr() as *const c_void, b.len()) };
        if n > 0 {
            b = &b[n as usize..];
        } else if n < 0 && unsafe { *libc::__errno_location() } == libc::EINTR {
            continue;
        } else {
            return;
        }
    }
}

fn run() -> mmbpf::Result<u64> {
    let pid = unsafe { libc::getpid() } as u32;
    let mut open = OpenObject::parse(OBJ)?;
    open.set_global("target_tgid", &pid)?;
    let obj = open.load()?;
    let _link = obj.program("count_syscalls")?.attach()?;
    for _ in 0..10 {
        core::hint::black_box(unsafe { libc::getpid() });
    }
    let counts = obj.array_map::<u64>("counts")?.mmap()?;
    counts.load(SYS_GETPID)
}

#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let mut s = String::new();
    match run() {
        Ok(n) => {
            let _ = writeln!(s, "getpid calls counted: {n}");
            put(1, &s);
            0
        }
        Err(e) => {
            let _ = writeln!(s, "agent-mmbpf-nostd: {e}");
            put(2, &s);
            1
        }
    }
}
