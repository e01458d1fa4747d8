//! The one access pattern every view uses: relaxed atomic loads and stores of the widest
//! naturally aligned words (8, 4, 2 or 1 bytes) that tile a span.
//!
//! For a span `[start, start + len)` the pattern is greedy: at each position take the widest
//! width `w` in 8, 4, 2, 1 whose address is a multiple of `w` and that fits. An array element
//! starts 8-aligned, so it is `len / 8` `u64` words followed by a `u32`/`u16`/`u8` tail
//! (a 12-byte value: one `u64` and one `u32`). Because the pattern depends only on the span,
//! two views of the same layout never access the same byte with different widths (Rust's
//! memory model leaves racing mixed-size atomic accesses undefined), and the atomic
//! accessors only hand out words that are part of the pattern.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// The width of the access that covers position `pos` of the span `[addr, addr + len)`, if
/// an access of the pattern starts exactly at `pos`.
pub(crate) fn width_at(addr: usize, len: usize, pos: usize) -> Option<usize> {
    let head_end = len.min(addr.wrapping_neg() % 8);
    let body_end = head_end + (len - head_end) / 8 * 8;
    let mut p = if pos < head_end {
        0
    } else if pos < body_end {
        return ((pos - head_end) % 8 == 0).then_some(8);
    } else {
        body_end
    };
    while p < len {
        let w = width(addr + p, len - p);
        if p == pos {
            return Some(w);
        }
        if p > pos {
            return None;
        }
        p += w;
    }
    None
}

/// The widest of 8, 4, 2, 1 that is aligned at `addr` and at most `left`.
#[inline(always)]
fn width(addr: usize, left: usize) -> usize {
    if addr % 8 == 0 && left >= 8 {
        8
    } else if addr % 4 == 0 && left >= 4 {
        4
    } else if addr % 2 == 0 && left >= 2 {
        2
    } else {
        1
    }
}

/// Copy `len` bytes out of shared memory at `src` into ordinary memory at `dst`, with the
/// pattern's relaxed atomic loads.
///
/// # Safety
/// `src..src + len` lies in a live [`Region`](super::Region) (readable; every Rust access to
/// it is atomic), and `dst..dst + len` is valid for writes, does not overlap the region, and
/// nothing else accesses it during the call. `dst` needs no alignment.
#[inline]
pub(crate) unsafe fn copy_out(src: *const u8, len: usize, dst: *mut u8) {
    let addr = src as usize;
    let head_end = len.min(addr.wrapping_neg() % 8);
    let mut pos = 0;
    while pos < head_end {
        // SAFETY: within the span, per the caller's contract.
        pos += unsafe { copy_small_out(src.add(pos), head_end - pos, dst.add(pos)) };
    }
    let words = (len - pos) / 8;
    // SAFETY: `src + pos` is 8-aligned (the head ends at an 8-aligned address) and the
    // `words` words lie in the span; `dst` is valid for the same range.
    unsafe { copy_words_out(src.add(pos), words, dst.add(pos)) };
    pos += words * 8;
    while pos < len {
        // SAFETY: within the span, per the caller's contract.
        pos += unsafe { copy_small_out(src.add(pos), len - pos, dst.add(pos)) };
    }
}

/// The hot loop: `words` aligned `u64` relaxed loads, unaligned plain stores.
///
/// # Safety
/// As [`copy_out`], and `src` is 8-aligned.
#[inline(always)]
unsafe fn copy_words_out(src: *const u8, words: usize, dst: *mut u8) {
    let src = src.cast::<u64>().cast_mut();
    let dst = dst.cast::<u64>();
    let mut k = 0;
    while k + 8 <= words {
        // Eight independent loads per iteration keep the load ports busy (the atomic loads
        // are not merged into vector loads).
        // SAFETY: words k..k+8 are in the span (k + 8 <= words): each `src.add(k + j)` is
        // 8-aligned, in the live region and only accessed atomically (see the loop below);
        // the destination has room for the eight words and needs no alignment.
        unsafe {
            let l = |j: usize| AtomicU64::from_ptr(src.add(k + j)).load(Ordering::Relaxed);
            let v = [l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7)];
            dst.add(k).cast::<[u64; 8]>().write_unaligned(v);
        }
        k += 8;
    }
    for k in k..words {
        // SAFETY: `src.add(k)` is 8-aligned, in the live region, and only accessed
        // atomically; a relaxed load does not write, so it is fine on a PROT_READ mapping on
        // the 64-bit targets mmbpf supports (a plain `mov`/`ldr`).
        let v = unsafe { AtomicU64::from_ptr(src.add(k)) }.load(Ordering::Relaxed);
        // SAFETY: `dst.add(k)` is in the destination range, which needs no alignment.
        unsafe { dst.add(k).write_unaligned(v) };
    }
}

/// One load of width `width(src, left)`; returns the width.
///
/// # Safety
/// `src..src + left` is in the region and `dst..dst + left` is writable, as for [`copy_out`].
#[inline(always)]
unsafe fn copy_small_out(src: *const u8, left: usize, dst: *mut u8) -> usize {
    let w = width(src as usize, left);
    // SAFETY (all arms): `src` is aligned to `w` (by `width`), `w <= left` so the access is
    // in the region and every Rust access there is atomic; `dst` has room for `w` bytes.
    unsafe {
        match w {
            8 => dst.cast::<u64>().write_unaligned(
                AtomicU64::from_ptr(src.cast::<u64>().cast_mut()).load(Ordering::Relaxed),
            ),
            4 => dst.cast::<u32>().write_unaligned(
                AtomicU32::from_ptr(src.cast::<u32>().cast_mut()).load(Ordering::Relaxed),
            ),
            2 => dst.cast::<u16>().write_unaligned(
                AtomicU16::from_ptr(src.cast::<u16>().cast_mut()).load(Ordering::Relaxed),
            ),
            _ => dst.write(AtomicU8::from_ptr(src.cast_mut()).load(Ordering::Relaxed)),
        }
    }
    w
}

/// Copy `len` bytes from ordinary memory at `src` into shared memory at `dst`, with the
/// pattern's relaxed atomic stores.
///
/// # Safety
/// `dst..dst + len` lies in a live, writable (`PROT_WRITE`) region whose Rust accesses are all
/// atomic; `src..src + len` is valid for reads and does not overlap it. `src` needs no
/// alignment.
#[inline]
pub(crate) unsafe fn copy_in(src: *const u8, len: usize, dst: *mut u8) {
    let addr = dst as usize;
    let head_end = len.min(addr.wrapping_neg() % 8);
    let mut pos = 0;
    while pos < head_end {
        // SAFETY: within the span, per the caller's contract.
        pos += unsafe { copy_small_in(src.add(pos), head_end - pos, dst.add(pos)) };
    }
    let words = (len - pos) / 8;
    let s = src.cast::<u64>();
    let d = dst.cast::<u64>();
    for k in 0..words {
        // SAFETY: `src + pos + 8k` is readable (no alignment needed); `dst + pos` is 8-aligned
        // (end of the head) and the word lies in the writable region, accessed only
        // atomically.
        unsafe {
            let v = s.byte_add(pos).add(k).read_unaligned();
            AtomicU64::from_ptr(d.byte_add(pos).add(k)).store(v, Ordering::Relaxed);
        }
    }
    pos += words * 8;
    while pos < len {
        // SAFETY: within the span, per the caller's contract.
        pos += unsafe { copy_small_in(src.add(pos), len - pos, dst.add(pos)) };
    }
}

/// One store of width `width(dst, left)`; returns the width.
///
/// # Safety
/// As [`copy_in`] for `left` bytes.
#[inline(always)]
unsafe fn copy_small_in(src: *const u8, left: usize, dst: *mut u8) -> usize {
    let w = width(dst as usize, left);
    // SAFETY (all arms): `dst` is aligned to `w`, `w <= left` keeps the store in the writable
    // region, which Rust only accesses atomically; `src` has `w` readable bytes.
    unsafe {
        match w {
            8 => AtomicU64::from_ptr(dst.cast())
                .store(src.cast::<u64>().read_unaligned(), Ordering::Relaxed),
            4 => AtomicU32::from_ptr(dst.cast())
                .store(src.cast::<u32>().read_unaligned(), Ordering::Relaxed),
            2 => AtomicU16::from_ptr(dst.cast())
                .store(src.cast::<u16>().read_unaligned(), Ordering::Relaxed),
            _ => AtomicU8::from_ptr(dst).store(src.read(), Ordering::Relaxed),
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn pattern(addr: usize, len: usize) -> Vec<(usize, usize)> {
        (0..len)
            .filter_map(|p| width_at(addr, len, p).map(|w| (p, w)))
            .collect()
    }

    #[test]
    fn pattern_is_words_then_tail() {
        assert_eq!(pattern(0, 8), [(0, 8)]);
        assert_eq!(pattern(16, 12), [(0, 8), (8, 4)]);
        assert_eq!(pattern(0, 15), [(0, 8), (8, 4), (12, 2), (14, 1)]);
        assert_eq!(pattern(0, 4), [(0, 4)]);
        // A variable at an odd offset: head bytes up to the next 8-aligned address.
        assert_eq!(pattern(3, 14), [(0, 1), (1, 4), (5, 8), (13, 1)]);
        assert_eq!(pattern(4, 4), [(0, 4)]);
        assert_eq!(pattern(6, 2), [(0, 2)]);
        assert_eq!(width_at(0, 16, 4), None);
        assert_eq!(width_at(0, 16, 16), None);
    }

    #[test]
    fn copies_round_trip_at_every_alignment() {
        let src: Vec<u8> = (1..=40).collect();
        for start in 0..8 {
            for len in 0..=40 - start {
                // A fresh buffer each time: each (start, len) has its own access pattern, and
                // Miri's weak-memory model does not support differently sized atomic accesses
                // to the same bytes even when they do not race.
                let mut shared = [0u64; 8];
                let base = shared.as_mut_ptr().cast::<u8>();
                let mut out = [0u8; 40];
                // SAFETY: both spans are inside `shared` (64 bytes) and `src`/`out`, which do
                // not overlap it; nothing else accesses them.
                unsafe {
                    copy_in(src.as_ptr(), len, base.add(start));
                    copy_out(base.add(start), len, out.as_mut_ptr());
                }
                assert_eq!(&out[..len], &src[..len], "start {start} len {len}");
            }
        }
    }
}
