//! View tests over heap-backed regions: no syscalls, so they run under Miri.

use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::*;
use crate::error::ErrorKind;

/// A 12-byte value: stride 16 in the map.
#[derive(Copy, Clone, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
struct Triple {
    a: u32,
    b: u32,
    c: u32,
}

/// A type the mapping cannot hold: 16-byte alignment.
#[derive(Copy, Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C, align(16))]
struct Wide {
    x: [u64; 2],
}

fn heap(len: usize) -> Region {
    Region::from_heap(len, Protection::ReadWrite, &[]).unwrap()
}

fn triple(i: u32) -> Triple {
    Triple {
        a: i,
        b: i.wrapping_mul(3),
        c: !i,
    }
}

#[test]
fn u64_load_store_iter_snapshot() {
    let v = ArrayView::<u64>::new(heap(8192), 8, 1024).unwrap();
    assert_eq!(
        (v.len(), v.value_size(), v.stride(), v.is_empty()),
        (1024, 8, 8, false)
    );
    assert_eq!(v.load(1023).unwrap(), 0);
    for i in 0..1024 {
        v.store(i, &(i as u64 * 7)).unwrap();
    }
    assert_eq!(v.load(5).unwrap(), 35);
    assert_eq!(v.iter().len(), 1024);
    assert!(v.iter().enumerate().all(|(i, x)| x == i as u64 * 7));
    assert_eq!(v.iter().next_back(), Some(1023 * 7));
    assert_eq!(v.iter().nth(10), Some(70));
    let snap = v.snapshot();
    assert_eq!(snap.len(), 1024);
    assert!(snap.iter().enumerate().all(|(i, &x)| x == i as u64 * 7));
    let mut buf = vec![0u64; 1024];
    v.copy_to(&mut buf).unwrap();
    assert_eq!(buf, snap);
    let mut part = [0u64; 3];
    v.copy_range_to(1021, &mut part).unwrap();
    assert_eq!(part, [1021 * 7, 1022 * 7, 1023 * 7]);
    let src: Vec<u64> = (0..1024).map(|i| i ^ 0xabcd).collect();
    v.copy_from(&src).unwrap();
    assert_eq!(v.snapshot(), src);
    v.copy_range_from(1000, &[1, 2]).unwrap();
    assert_eq!((v.load(1000).unwrap(), v.load(1001).unwrap()), (1, 2));
    // Every element's bytes land at i * 8.
    // SAFETY: a heap region this test owns; no other thread touches it now.
    let raw = unsafe { *v.as_ptr().add(8 * 1000).cast::<u64>() };
    assert_eq!(raw, 1);
    assert_eq!((&v).into_iter().count(), 1024);
}

#[test]
fn twelve_byte_values_have_stride_16() {
    let region = Arc::new(heap(4096));
    let v = ArrayView::<Triple>::new(region.clone(), 12, 100).unwrap();
    assert_eq!((v.value_size(), v.stride()), (12, 16));
    // Mark the padding so we can see it is never written.
    for i in 0..100 {
        // SAFETY: a heap region only this test uses; bytes 12..16 of element i are in it.
        unsafe {
            region
                .as_mut_ptr()
                .add(i * 16 + 12)
                .cast::<u32>()
                .write(0xdead_beef)
        };
    }
    for i in 0..100u32 {
        v.store(i as usize, &triple(i)).unwrap();
    }
    for i in 0..100u32 {
        assert_eq!(v.load(i as usize).unwrap(), triple(i));
        let base = i as usize * 16;
        // SAFETY: as above; read back the raw layout after the stores.
        let (a, c, pad) = unsafe {
            let p = region.as_ptr().add(base);
            (
                p.cast::<u32>().read(),
                p.add(8).cast::<u32>().read(),
                p.add(12).cast::<u32>().read(),
            )
        };
        assert_eq!((a, c, pad), (i, !i, 0xdead_beef), "element {i}");
    }
    let snap = v.snapshot();
    assert_eq!(snap, (0..100).map(triple).collect::<Vec<_>>());
    assert!(v.iter().eq((0..100).map(triple)));
    let mut buf = [Triple { a: 0, b: 0, c: 0 }; 2];
    v.copy_range_to(98, &mut buf).unwrap();
    assert_eq!(buf, [triple(98), triple(99)]);
    let src: Vec<Triple> = (0..100).map(|i| triple(i + 1000)).collect();
    v.copy_from(&src).unwrap();
    assert_eq!(v.snapshot(), src);
    // The tail u32 of a 12-byte value is an atomic word; the first u32 is half a u64 word.
    assert_eq!(
        v.atomic_u32_at(3, 8)
            .unwrap()
            .load(core::sync::atomic::Ordering::Relaxed),
        !1003
    );
    assert_eq!(
        v.atomic_u32_at(3, 0).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        v.atomic_u64_at(3, 0)
            .unwrap()
            .load(core::sync::atomic::Ordering::Relaxed),
        1003 | (3009 << 32)
    );
    assert_eq!(
        v.atomic_u64_at(3, 8).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(v.atomic_u64(3).unwrap_err().kind(), ErrorKind::TypeMismatch);
    // SAFETY: nothing writes the region while the (error) result is checked.
    let padded = unsafe { v.as_slice_unchecked() }.unwrap_err();
    assert!(padded.to_string().contains("stride"), "{padded}");
}

#[test]
fn out_of_bounds_is_an_error() {
    let v = ArrayView::<u64>::new(heap(4096), 8, 16).unwrap();
    let e = v.load(16).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfBounds);
    assert!(e.to_string().contains("index 16"), "{e}");
    assert_eq!(v.store(16, &1).unwrap_err().kind(), ErrorKind::OutOfBounds);
    assert_eq!(
        v.store(usize::MAX, &1).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(v.atomic_u64(16).unwrap_err().kind(), ErrorKind::OutOfBounds);
    assert_eq!(
        v.load_u64_acquire(99).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    let mut big = [0u64; 17];
    assert_eq!(
        v.copy_to(&mut big).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        v.copy_range_to(15, &mut big[..2]).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        v.copy_range_to(usize::MAX, &mut big[..2])
            .unwrap_err()
            .kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        v.copy_from(&big).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        v.copy_range_from(16, &big[..1]).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert!(v.copy_range_from(16, &[]).is_ok());
    assert_eq!(v.iter().nth(16), None);
    // The region must hold every element.
    let e = ArrayView::<u64>::new(heap(4096), 8, 513).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfBounds);
    assert_eq!(
        ArrayViewRo::<u64>::new(heap(4096), 8, u32::MAX)
            .unwrap_err()
            .kind(),
        ErrorKind::OutOfBounds
    );
}

#[test]
fn size_and_alignment_mismatch_are_errors() {
    let e = ArrayView::<u32>::new(heap(4096), 8, 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    let msg = e.to_string();
    assert!(
        msg.contains("4 bytes") && msg.contains("value_size is 8"),
        "{msg}"
    );
    let e = ArrayViewRo::<Triple>::new(heap(4096), 16, 4).unwrap_err();
    assert!(e.to_string().contains("12 bytes"), "{e}");
    let e = ArrayView::<Wide>::new(heap(4096), 16, 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    assert!(e.to_string().contains("aligned to 16"), "{e}");
    assert_eq!(
        ArrayView::<u64>::new(heap(4096), 0, 4).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let v = ArrayView::<u64>::new(heap(4096), 8, 4).unwrap();
    assert_eq!(v.atomic_u32(0).unwrap_err().kind(), ErrorKind::TypeMismatch);
    assert_eq!(
        v.atomic_u32_at(0, 4).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        v.atomic_u64_at(0, 4).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
}

#[test]
fn protection_is_checked() {
    let ro = Region::from_heap(4096, Protection::ReadOnly, &[]).unwrap();
    let e = ArrayView::<u64>::new(ro, 8, 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    let e = FrozenArrayView::<u64>::new(heap(4096), 8, 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    // A read-only region that is not frozen does not lend references either.
    let ro = Region::from_heap(4096, Protection::ReadOnly, &[]).unwrap();
    assert_eq!(
        FrozenArrayView::<u64>::new(ro, 8, 4).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    let ro = Region::from_heap(4096, Protection::ReadOnly, &[]).unwrap();
    assert_eq!(
        FrozenVariable::<u64>::new(ro, 0, 8).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // A read-only view may read a read-write region.
    assert!(ArrayViewRo::<u64>::new(heap(4096), 8, 4).is_ok());
    let ro = Region::from_heap(4096, Protection::ReadOnly, &[]).unwrap();
    assert_eq!(
        Variable::<u64>::new(ro, 0, 8).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn read_only_view_loads() {
    let init: Vec<u8> = (0..8u64).flat_map(|i| (i * 100).to_ne_bytes()).collect();
    let ro = Region::from_heap(4096, Protection::ReadOnly, &init).unwrap();
    let v = ArrayViewRo::<u64>::new(ro, 8, 8).unwrap();
    assert_eq!(v.load(3).unwrap(), 300);
    assert_eq!(v.load_u64_acquire(7).unwrap(), 700);
    assert_eq!(v.snapshot(), (0..8).map(|i| i * 100).collect::<Vec<u64>>());
    assert_eq!(v.iter().sum::<u64>(), 2800);
    let w = v.clone();
    drop(v);
    assert_eq!(w.load(1).unwrap(), 100);
    assert_eq!(w.region().protection(), Protection::ReadOnly);
}

#[test]
fn frozen_view_lends_references() {
    let init: Vec<u8> = (0..16u64).flat_map(|i| (i + 1).to_ne_bytes()).collect();
    // Nothing writes this heap region after creation (it stands in for a frozen,
    // BPF_F_RDONLY_PROG map).
    let ro = Region::from_heap_frozen(4096, &init).unwrap();
    let v = FrozenArrayView::<u64>::new(ro, 8, 16).unwrap();
    assert_eq!(*v.get(0).unwrap(), 1);
    assert_eq!(v.get(16).unwrap_err().kind(), ErrorKind::OutOfBounds);
    let s = v.as_slice().unwrap();
    assert_eq!(s.len(), 16);
    assert_eq!(s[15], 16);
    assert_eq!(v.load(2).unwrap(), 3);

    let mut init = vec![0u8; 64];
    init[16..28].copy_from_slice(triple(9).as_bytes());
    let ro = Region::from_heap_frozen(4096, &init).unwrap();
    let t = FrozenArrayView::<Triple>::new(ro, 12, 4).unwrap();
    assert_eq!(t.get(1).unwrap(), &triple(9));
    assert_eq!(t.as_slice().unwrap_err().kind(), ErrorKind::TypeMismatch);
}

#[test]
fn region_read_bytes_is_bounds_checked() {
    let init: Vec<u8> = (0..32u8).collect();
    let r = Region::from_heap(4096, Protection::ReadOnly, &init).unwrap();
    let mut out = [0u8; 11];
    r.read_bytes(3, &mut out).unwrap();
    assert_eq!(out, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert_eq!(
        r.read_bytes(4090, &mut out).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        r.read_bytes(usize::MAX, &mut out).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
}

#[test]
fn views_share_one_region() {
    let region = Arc::new(heap(4096));
    let a = ArrayView::<u64>::new(region.clone(), 8, 512).unwrap();
    let b = ArrayViewRo::<u64>::new(region.clone(), 8, 512).unwrap();
    drop(region);
    a.store(7, &77).unwrap();
    drop(a);
    assert_eq!(b.load(7).unwrap(), 77);
    assert_eq!(Arc::strong_count(b.region()), 1);
}

#[cfg(feature = "std")]
#[test]
fn atomics_from_two_threads() {
    use core::sync::atomic::Ordering;
    let v = ArrayView::<u64>::new(heap(4096), 8, 4).unwrap();
    let n = if cfg!(miri) { 100 } else { 100_000 };
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let c = v.atomic_u64(1).unwrap();
                for _ in 0..n {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // Concurrent whole-value loads and stores of other elements are defined too.
        s.spawn(|| {
            for i in 0..n {
                v.store(2, &i).unwrap();
                let _ = v.load(1).unwrap();
            }
        });
    });
    assert_eq!(v.load(1).unwrap(), 2 * n);
    assert_eq!(v.load_u64_acquire(1).unwrap(), 2 * n);
    assert_eq!(v.load(2).unwrap(), n - 1);

    let v32 = ArrayView::<u32>::new(heap(4096), 4, 4).unwrap();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..n {
                    v32.atomic_u32(3).unwrap().fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(v32.load(3).unwrap(), 2 * n as u32);
    assert_eq!(v32.load_u32_acquire(3).unwrap(), 2 * n as u32);
    assert_eq!(v32.stride(), 8);
}

#[test]
fn variables_at_offsets() {
    // A `.bss`-like section: u32 at 0, u64 at 8, [u8; 3] at 16, Triple at 20, u16 at 34.
    let region = Arc::new(heap(4096));
    let a = Variable::<u32>::new(region.clone(), 0, 4).unwrap();
    let b = Variable::<u64>::new(region.clone(), 8, 8).unwrap();
    let c = Variable::<[u8; 3]>::new(region.clone(), 16, 3).unwrap();
    let d = Variable::<Triple>::new(region.clone(), 20, 12).unwrap();
    let e = Variable::<u16>::new(region.clone(), 34, 2).unwrap();
    a.store(&0x1122_3344);
    b.store(&u64::MAX);
    c.store(&[7, 8, 9]);
    d.store(&triple(5));
    e.store(&0xbeef);
    assert_eq!(
        (a.load(), b.load(), c.load(), d.load(), e.load()),
        (0x1122_3344, u64::MAX, [7, 8, 9], triple(5), 0xbeef)
    );
    // SAFETY: a heap region only this thread uses; byte 19 lies between c and d.
    assert_eq!(
        unsafe { region.as_ptr().add(19).read() },
        0,
        "c wrote past its end"
    );
    assert_eq!((d.offset(), d.size()), (20, 12));
    b.atomic_u64()
        .unwrap()
        .fetch_add(2, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(b.load_u64_acquire().unwrap(), 1);
    a.atomic_u32()
        .unwrap()
        .store(5, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(a.load_u32_acquire().unwrap(), 5);
    // Triple at 20: u32 at 20 (head), u64 at 24; so offset 0 is a u32 word, 4 a u64 word.
    assert_eq!(
        d.atomic_u32_at(0)
            .unwrap()
            .load(core::sync::atomic::Ordering::Relaxed),
        5
    );
    assert_eq!(
        d.atomic_u64_at(4)
            .unwrap()
            .load(core::sync::atomic::Ordering::Relaxed),
        15 | (u64::from(!5u32) << 32)
    );
    assert_eq!(
        d.atomic_u32_at(4).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(d.atomic_u64().unwrap_err().kind(), ErrorKind::TypeMismatch);
    assert_eq!(
        c.atomic_u32_at(0).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );

    let ro = VariableRo::<u64>::new(region.clone(), 8, 8).unwrap();
    assert_eq!(ro.load(), 1);
    // Construction checks size, alignment and bounds.
    assert_eq!(
        Variable::<u64>::new(region.clone(), 4, 8)
            .unwrap_err()
            .kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        Variable::<u64>::new(region.clone(), 8, 4)
            .unwrap_err()
            .kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        Variable::<u64>::new(region.clone(), 4092, 8)
            .unwrap_err()
            .kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        VariableRo::<u64>::new(region.clone(), usize::MAX, 8)
            .unwrap_err()
            .kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        VariableRo::<Wide>::new(region, 0, 16).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );

    let mut init = vec![0u8; 24];
    init[12..16].copy_from_slice(&42u32.to_ne_bytes());
    // Nothing writes this heap region (it stands in for a frozen `.rodata` map).
    let ro = Region::from_heap_frozen(4096, &init).unwrap();
    let f = FrozenVariable::<u32>::new(ro, 12, 4).unwrap();
    assert_eq!(*f.get(), 42);
    assert_eq!(f.load(), 42);
}

/// Throughput of `snapshot` and `copy_to` against `copy_nonoverlapping` of the same bytes
/// (best of many interleaved rounds, to resist noise). Run with
/// `cargo test --release --lib mmap::tests::bench_snapshot -- --ignored --nocapture`.
#[cfg(feature = "std")]
#[test]
#[ignore = "benchmark; run in release mode"]
fn bench_snapshot() {
    use std::time::{Duration, Instant};
    const N: usize = 1 << 20;
    let v = ArrayView::<u64>::new(heap(N * 8), 8, N as u32).unwrap();
    let src: Vec<u64> = (0..N as u64).collect();
    v.copy_from(&src).unwrap();
    let mut buf = vec![0u64; N];
    let mut best = [Duration::MAX; 4];
    for _ in 0..300 {
        let t = Instant::now();
        let mut out = Vec::<u64>::with_capacity(N);
        // SAFETY: copies N words from the region (owned here, quiescent) into the spare
        // capacity, then marks them initialised.
        unsafe {
            core::ptr::copy_nonoverlapping(v.as_ptr().cast::<u64>(), out.as_mut_ptr(), N);
            out.set_len(N);
        }
        std::hint::black_box(&out);
        drop(out);
        best[0] = best[0].min(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(v.snapshot());
        best[1] = best[1].min(t.elapsed());
        let t = Instant::now();
        // SAFETY: as above, into an existing buffer.
        unsafe { core::ptr::copy_nonoverlapping(v.as_ptr().cast::<u64>(), buf.as_mut_ptr(), N) };
        std::hint::black_box(&buf);
        best[2] = best[2].min(t.elapsed());
        let t = Instant::now();
        v.copy_to(&mut buf).unwrap();
        std::hint::black_box(&buf);
        best[3] = best[3].min(t.elapsed());
    }
    assert_eq!(v.snapshot(), src);
    let gbps = |t: Duration| (N * 8) as f64 / t.as_secs_f64() / 1e9;
    std::println!(
        "1M x u64 (8 MiB), best of 300: fresh Vec: memcpy {:.1} GB/s, snapshot {:.1} GB/s ({:.2}x memcpy time); \
         existing buffer: memcpy {:.1} GB/s, copy_to {:.1} GB/s ({:.2}x)",
        gbps(best[0]),
        gbps(best[1]),
        best[1].as_secs_f64() / best[0].as_secs_f64(),
        gbps(best[2]),
        gbps(best[3]),
        best[3].as_secs_f64() / best[2].as_secs_f64(),
    );
}
