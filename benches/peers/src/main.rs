//! mmbpf side by side with aya, libbpf-rs and C libbpf (issue 6).
//!
//! One process runs mmbpf, aya and libbpf-rs in-process, contender after contender,
//! round-robin (interleaved samples), and runs the C libbpf program (benches/c) once per
//! case, right after the Rust contenders of that case. Each sample times a batch of
//! operations; the reported number is the median sample. Nothing here asserts timing:
//! targets are evaluated and printed, never enforced.
//!
//! Usage (normally through `benches/run`):
//!   mmbpf-peers --obj bpf-obj/counter.bpf.o [--quick] [--c-peer PATH] [--agents PATH]
//!               [--json-out target/bench/peers.json] [--cases 1,2,3,4,5]

use std::error::Error;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use libbpf_rs::MapCore as _;
use serde_json::{json, Value};

type Res<T> = std::result::Result<T, Box<dyn Error>>;

const SMALL: u32 = 1024;
const BIG: u32 = 1 << 20;
const INDEX_TABLE: usize = 4096;

/// Same xorshift64 sequence as benches/c/peer_libbpf.c.
fn index_table() -> Vec<u32> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..INDEX_TABLE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % SMALL as u64) as u32
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Better {
    Lower,
    Higher,
}

#[derive(Clone)]
struct Row {
    case: &'static str,
    contender: String,
    library: &'static str,
    median: Option<f64>,
    unit: &'static str,
    better: Better,
    samples: usize,
    reference: bool,
    note: String,
}

impl Row {
    fn missing(case: &'static str, contender: &str, library: &'static str, unit: &'static str, better: Better, why: String) -> Row {
        Row { case, contender: contender.into(), library, median: None, unit, better, samples: 0, reference: false, note: why }
    }
}

/// A contender: one call = one sample; returns the sample's value in `unit`.
struct Contender<'a> {
    name: String,
    library: &'static str,
    reference: bool,
    f: Box<dyn FnMut() -> Res<f64> + 'a>,
    samples: Vec<f64>,
    spent: Duration,
    error: Option<String>,
}

impl<'a> Contender<'a> {
    fn new(name: &str, library: &'static str, f: impl FnMut() -> Res<f64> + 'a) -> Self {
        Contender { name: name.into(), library, reference: false, f: Box::new(f), samples: Vec::new(), spent: Duration::ZERO, error: None }
    }
    fn reference(mut self) -> Self {
        self.reference = true;
        self
    }
}

#[derive(Clone, Copy)]
struct Budget {
    max_samples: usize,
    /// Per contender, after warm-up; at least 3 samples are always taken.
    time: Duration,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Round-robin: every round gives each still-running contender one sample.
fn run_interleaved(case: &'static str, unit: &'static str, better: Better, mut cs: Vec<Contender<'_>>, b: Budget) -> Vec<Row> {
    for c in cs.iter_mut() {
        // warm-up (page faults, feature probes, caches)
        if let Err(e) = (c.f)() {
            c.error = Some(e.to_string());
        }
    }
    loop {
        let mut ran = false;
        for c in cs.iter_mut() {
            if c.error.is_some() || c.samples.len() >= b.max_samples || (c.samples.len() >= 3 && c.spent >= b.time) {
                continue;
            }
            ran = true;
            let t0 = Instant::now();
            match (c.f)() {
                Ok(v) => c.samples.push(v),
                Err(e) => c.error = Some(e.to_string()),
            }
            c.spent += t0.elapsed();
        }
        if !ran {
            break;
        }
    }
    cs.into_iter()
        .map(|mut c| {
            let n = c.samples.len();
            let note = c.error.clone().map(|e| format!("failed: {e}")).unwrap_or_default();
            Row { case, contender: c.name, library: c.library, median: if c.error.is_some() { None } else { median(&mut c.samples) }, unit, better, samples: n, reference: c.reference, note }
        })
        .collect()
}

// ---------------------------------------------------------------- C peer

struct CPeer {
    exe: Option<PathBuf>,
    obj: PathBuf,
}

impl CPeer {
    fn run(&self, case: &'static str, c_case: &str, contender: &str, unit: &'static str, better: Better, b: Budget) -> Row {
        let Some(exe) = &self.exe else {
            return Row::missing(case, contender, "C libbpf", unit, better, "C peer not built (no --c-peer)".into());
        };
        let out = Command::new(exe)
            .arg(&self.obj)
            .arg(c_case)
            .arg(b.max_samples.to_string())
            .arg(b.time.as_millis().to_string())
            .output();
        let out = match out {
            Ok(o) if o.status.success() => o,
            Ok(o) => return Row::missing(case, contender, "C libbpf", unit, better, format!("C peer failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
            Err(e) => return Row::missing(case, contender, "C libbpf", unit, better, format!("C peer: {e}")),
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
            if v["case"] == c_case {
                return Row {
                    case,
                    contender: v["contender"].as_str().unwrap_or(contender).to_string(),
                    library: "C libbpf",
                    median: v["median"].as_f64(),
                    unit,
                    better,
                    samples: v["samples"].as_u64().unwrap_or(0) as usize,
                    reference: false,
                    note: String::new(),
                };
            }
        }
        Row::missing(case, contender, "C libbpf", unit, better, "C peer printed no result".into())
    }
}

// ---------------------------------------------------------------- peers' setup

fn pid() -> u32 {
    std::process::id()
}

fn aya_load(obj: &[u8], entries: u32) -> Res<aya::Ebpf> {
    let pid = pid();
    Ok(aya::EbpfLoader::new().override_global("target_tgid", &pid, true).map_max_entries("counts", entries).load(obj)?)
}

fn libbpf_open(obj: &[u8], entries: u32) -> Res<libbpf_rs::Object> {
    let mut builder = libbpf_rs::ObjectBuilder::default();
    let mut open = builder.open_memory(obj)?;
    let mut found = false;
    for mut m in open.maps_mut() {
        let name = m.name().to_string_lossy().into_owned();
        if name == "counts" {
            m.set_max_entries(entries)?;
        } else if name.ends_with(".rodata") {
            let init = m.initial_value_mut().ok_or("no .rodata initial value")?;
            init[..4].copy_from_slice(&pid().to_ne_bytes());
            found = true;
        }
    }
    if !found {
        return Err("libbpf-rs: .rodata map not found".into());
    }
    Ok(open.load()?)
}

fn libbpf_map<'o>(obj: &'o libbpf_rs::Object, name: &str) -> Res<libbpf_rs::Map<'o>> {
    obj.maps().find(|m| m.name() == name).ok_or_else(|| format!("libbpf-rs: map {name} not found").into())
}

// ---------------------------------------------------------------- cases

struct Ctx {
    quick: bool,
    obj: Vec<u8>,
    cpeer: CPeer,
    idx: Vec<u32>,
}

impl Ctx {
    fn budget(&self, full_samples: usize, full_ms: u64, quick_samples: usize, quick_ms: u64) -> Budget {
        if self.quick {
            Budget { max_samples: quick_samples, time: Duration::from_millis(quick_ms) }
        } else {
            Budget { max_samples: full_samples, time: Duration::from_millis(full_ms) }
        }
    }
}

/// Case 1: read one u64 at a random index of a 1024-entry map. ns/op.
fn case_read(ctx: &Ctx) -> Res<Vec<Row>> {
    const MMAP_ITERS: usize = 1_000_000;
    const SYSCALL_ITERS: usize = 10_000;
    let idx = &ctx.idx;
    let mask = INDEX_TABLE - 1;

    let map = mmbpf::map::ArrayMap::<u64>::create_mmapable("bench_read", SMALL)?;
    let view = map.mmap()?;
    for i in 0..SMALL {
        view.store(i as usize, &(i as u64))?;
    }
    let ebpf = aya_load(&ctx.obj, SMALL)?;
    let aya_arr: aya::maps::Array<&aya::maps::MapData, u64> = aya::maps::Array::try_from(ebpf.map("counts").ok_or("aya: counts")?)?;
    let lobj = libbpf_open(&ctx.obj, SMALL)?;
    let lmap = libbpf_map(&lobj, "counts")?;

    let mut cs = Vec::new();
    let mut pos = 0usize;
    cs.push(
        Contender::new("mmbpf ArrayView::load (mmap)", "mmbpf", || {
            let t0 = Instant::now();
            let mut acc = 0u64;
            for _ in 0..MMAP_ITERS {
                let i = idx[pos & mask] as usize;
                pos = pos.wrapping_add(1);
                acc = acc.wrapping_add(view.load(black_box(i))?);
            }
            let dt = t0.elapsed();
            black_box(acc);
            Ok(dt.as_nanos() as f64 / MMAP_ITERS as f64)
        })
        .reference(),
    );
    let base = view.as_ptr() as *const u64;
    let mut pos2 = 0usize;
    cs.push(Contender::new("raw volatile read of the mapping (baseline, unchecked)", "baseline", move || {
        let t0 = Instant::now();
        let mut acc = 0u64;
        for _ in 0..MMAP_ITERS {
            let i = idx[pos2 & mask] as usize;
            pos2 = pos2.wrapping_add(1);
            // SAFETY: i < 1024 and the mapping holds 1024 u64 (stride 8); it outlives this closure.
            acc = acc.wrapping_add(unsafe { std::ptr::read_volatile(base.add(black_box(i))) });
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(dt.as_nanos() as f64 / MMAP_ITERS as f64)
    }));
    let mut pos1 = 0usize;
    cs.push(Contender::new("mmbpf ArrayView::atomic_u64(i).load (mmap)", "mmbpf", || {
        let t0 = Instant::now();
        let mut acc = 0u64;
        for _ in 0..MMAP_ITERS {
            let i = idx[pos1 & mask] as usize;
            pos1 = pos1.wrapping_add(1);
            acc = acc.wrapping_add(view.atomic_u64(black_box(i))?.load(std::sync::atomic::Ordering::Relaxed));
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(dt.as_nanos() as f64 / MMAP_ITERS as f64)
    }));
    let mut pos3 = 0usize;
    cs.push(Contender::new("mmbpf ArrayMap::get (syscall)", "mmbpf", || {
        let t0 = Instant::now();
        let mut acc = 0u64;
        for _ in 0..SYSCALL_ITERS {
            let i = idx[pos3 & mask];
            pos3 = pos3.wrapping_add(1);
            acc = acc.wrapping_add(map.get(black_box(i))?);
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(dt.as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let mut pos4 = 0usize;
    cs.push(Contender::new("aya Array::get", "aya", || {
        let t0 = Instant::now();
        let mut acc = 0u64;
        for _ in 0..SYSCALL_ITERS {
            let i = idx[pos4 & mask];
            pos4 = pos4.wrapping_add(1);
            acc = acc.wrapping_add(aya_arr.get(&black_box(i), 0)?);
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(dt.as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let mut pos5 = 0usize;
    cs.push(Contender::new("libbpf-rs Map::lookup_into", "libbpf-rs", || {
        use libbpf_rs::MapCore as _;
        let t0 = Instant::now();
        let mut acc = 0u64;
        let mut v = [0u8; 8];
        for _ in 0..SYSCALL_ITERS {
            let i = idx[pos5 & mask];
            pos5 = pos5.wrapping_add(1);
            if !lmap.lookup_into(&black_box(i).to_ne_bytes(), &mut v, libbpf_rs::MapFlags::ANY)? {
                return Err("libbpf-rs lookup: no element".into());
            }
            acc = acc.wrapping_add(u64::from_ne_bytes(v));
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(dt.as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let b = ctx.budget(201, 2000, 21, 250);
    let mut rows = run_interleaved("1", "ns/op", Better::Lower, cs, b);
    rows.push(ctx.cpeer.run("1", "read", "C libbpf bpf_map_lookup_elem", "ns/op", Better::Lower, b));
    Ok(rows)
}

/// Case 2: read a whole 1M-entry u64 array. GB/s.
fn case_bulk(ctx: &Ctx) -> Res<Vec<Row>> {
    let bytes = BIG as f64 * 8.0;
    let gbps = |d: Duration| bytes / d.as_nanos() as f64; // bytes per ns == GB/s

    let map = mmbpf::map::ArrayMap::<u64>::create_mmapable("bench_bulk", BIG)?;
    let view = map.mmap()?;
    for i in 0..BIG as usize {
        view.store(i, &(i as u64))?;
    }
    let ebpf = aya_load(&ctx.obj, BIG)?;
    let aya_arr: aya::maps::Array<&aya::maps::MapData, u64> = aya::maps::Array::try_from(ebpf.map("counts").ok_or("aya: counts")?)?;
    let lobj = libbpf_open(&ctx.obj, BIG)?;
    let lmap = libbpf_map(&lobj, "counts")?;

    let mut buf1 = vec![1u64; BIG as usize];
    let mut buf2 = vec![1u64; BIG as usize];
    let mut buf3 = vec![1u64; BIG as usize];
    let mut cs = Vec::new();
    cs.push(
        Contender::new("mmbpf ArrayView::copy_to (mmap, into a reused buffer)", "mmbpf", || {
            let t0 = Instant::now();
            view.copy_to(&mut buf1)?;
            let dt = t0.elapsed();
            black_box(&buf1);
            Ok(gbps(dt))
        })
        .reference(),
    );
    cs.push(Contender::new("mmbpf ArrayView::snapshot (mmap, allocates a new Vec)", "mmbpf", || {
        let t0 = Instant::now();
        let v = view.snapshot();
        let v = black_box(v);
        let dt = t0.elapsed();
        drop(v);
        Ok(gbps(dt))
    }));
    let src = view.as_ptr() as *const u64;
    cs.push(Contender::new("memcpy of the mapping (baseline)", "baseline", move || {
        let t0 = Instant::now();
        // SAFETY: the mapping holds BIG u64 (stride 8); buf2 has BIG elements; no overlap.
        unsafe { std::ptr::copy_nonoverlapping(black_box(src), buf2.as_mut_ptr(), BIG as usize) };
        let dt = t0.elapsed();
        black_box(&buf2);
        Ok(gbps(dt))
    }));
    cs.push(Contender::new("mmbpf ArrayMap::read_batch_into (BPF_MAP_LOOKUP_BATCH)", "mmbpf", || {
        let t0 = Instant::now();
        map.read_batch_into(0, &mut buf3)?;
        let dt = t0.elapsed();
        black_box(&buf3);
        Ok(gbps(dt))
    }));
    cs.push(Contender::new("aya Array::iter (one lookup per element)", "aya", || {
        let t0 = Instant::now();
        let mut acc = 0u64;
        for v in aya_arr.iter() {
            acc = acc.wrapping_add(v?);
        }
        let dt = t0.elapsed();
        black_box(acc);
        Ok(gbps(dt))
    }));
    cs.push(Contender::new("libbpf-rs Map::lookup_batch", "libbpf-rs", || {
        use libbpf_rs::MapCore as _;
        let t0 = Instant::now();
        let mut acc = 0u64;
        let mut n = 0u32;
        for (_k, v) in lmap.lookup_batch(BIG, libbpf_rs::MapFlags::ANY, libbpf_rs::MapFlags::ANY)? {
            acc = acc.wrapping_add(u64::from_ne_bytes(v[..8].try_into()?));
            n += 1;
        }
        let dt = t0.elapsed();
        if n != BIG {
            return Err(format!("libbpf-rs lookup_batch returned {n} of {BIG} elements").into());
        }
        black_box(acc);
        Ok(gbps(dt))
    }));
    let b = ctx.budget(51, 3000, 11, 300);
    let mut rows = run_interleaved("2", "GB/s", Better::Higher, cs, b);
    rows.push(ctx.cpeer.run("2", "bulk", "C libbpf bpf_map_lookup_batch", "GB/s", Better::Higher, b));
    Ok(rows)
}

/// Case 3: write one u64 at a random index. ns/op.
fn case_write(ctx: &Ctx) -> Res<Vec<Row>> {
    const MMAP_ITERS: usize = 1_000_000;
    const SYSCALL_ITERS: usize = 10_000;
    let idx = &ctx.idx;
    let mask = INDEX_TABLE - 1;

    let map = mmbpf::map::ArrayMap::<u64>::create_mmapable("bench_write", SMALL)?;
    let view = map.mmap()?;
    let mut ebpf = aya_load(&ctx.obj, SMALL)?;
    let mut aya_arr: aya::maps::Array<&mut aya::maps::MapData, u64> = aya::maps::Array::try_from(ebpf.map_mut("counts").ok_or("aya: counts")?)?;
    let lobj = libbpf_open(&ctx.obj, SMALL)?;
    let lmap = libbpf_map(&lobj, "counts")?;

    let mut cs = Vec::new();
    let mut pos = 0usize;
    cs.push(
        Contender::new("mmbpf ArrayView::store (mmap)", "mmbpf", || {
            let t0 = Instant::now();
            for n in 0..MMAP_ITERS {
                let i = idx[pos & mask] as usize;
                pos = pos.wrapping_add(1);
                view.store(black_box(i), &(n as u64))?;
            }
            Ok(t0.elapsed().as_nanos() as f64 / MMAP_ITERS as f64)
        })
        .reference(),
    );
    let mut pos1 = 0usize;
    cs.push(Contender::new("mmbpf ArrayView::atomic_u64 fetch_add (mmap)", "mmbpf", || {
        let t0 = Instant::now();
        for _ in 0..MMAP_ITERS {
            let i = idx[pos1 & mask] as usize;
            pos1 = pos1.wrapping_add(1);
            view.atomic_u64(black_box(i))?.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(t0.elapsed().as_nanos() as f64 / MMAP_ITERS as f64)
    }));
    let mut pos2 = 0usize;
    cs.push(Contender::new("mmbpf ArrayMap::set (syscall)", "mmbpf", || {
        let t0 = Instant::now();
        for n in 0..SYSCALL_ITERS {
            let i = idx[pos2 & mask];
            pos2 = pos2.wrapping_add(1);
            map.set(black_box(i), &(n as u64))?;
        }
        Ok(t0.elapsed().as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let mut pos3 = 0usize;
    cs.push(Contender::new("aya Array::set", "aya", move || {
        let t0 = Instant::now();
        for n in 0..SYSCALL_ITERS {
            let i = idx[pos3 & mask];
            pos3 = pos3.wrapping_add(1);
            aya_arr.set(black_box(i), n as u64, 0)?;
        }
        Ok(t0.elapsed().as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let mut pos4 = 0usize;
    cs.push(Contender::new("libbpf-rs Map::update", "libbpf-rs", || {
        use libbpf_rs::MapCore as _;
        let t0 = Instant::now();
        for n in 0..SYSCALL_ITERS {
            let i = idx[pos4 & mask];
            pos4 = pos4.wrapping_add(1);
            lmap.update(&black_box(i).to_ne_bytes(), &(n as u64).to_ne_bytes(), libbpf_rs::MapFlags::ANY)?;
        }
        Ok(t0.elapsed().as_nanos() as f64 / SYSCALL_ITERS as f64)
    }));
    let b = ctx.budget(201, 2000, 21, 250);
    let mut rows = run_interleaved("3", "ns/op", Better::Lower, cs, b);
    rows.push(ctx.cpeer.run("3", "write", "C libbpf bpf_map_update_elem", "ns/op", Better::Lower, b));
    Ok(rows)
}

#[cfg(feature = "loader")]
fn mmbpf_load_attach_close(obj: &[u8]) -> Res<f64> {
    let t0 = Instant::now();
    let mut open = mmbpf::object::OpenObject::parse(obj)?;
    open.set_global("target_tgid", &pid())?;
    let loaded = open.load()?;
    let link = loaded.program("count_syscalls")?.attach()?;
    drop(link);
    drop(loaded);
    Ok(t0.elapsed().as_secs_f64() * 1e3)
}

/// Case 4: open + load + attach the counter object, then detach and close. ms.
fn case_load(ctx: &Ctx) -> Res<Vec<Row>> {
    let obj = &ctx.obj[..];
    let mut cs = Vec::new();
    #[cfg(feature = "loader")]
    cs.push(Contender::new("mmbpf OpenObject::parse+load+attach, drop", "mmbpf", || mmbpf_load_attach_close(obj)).reference());
    cs.push(Contender::new("aya EbpfLoader::load+TracePoint::load+attach, drop", "aya", || {
        let t0 = Instant::now();
        let mut ebpf = aya_load(obj, SMALL)?;
        let tp: &mut aya::programs::TracePoint = ebpf.program_mut("count_syscalls").ok_or("aya: program")?.try_into()?;
        tp.load()?;
        tp.attach("raw_syscalls", "sys_enter")?;
        drop(ebpf);
        Ok(t0.elapsed().as_secs_f64() * 1e3)
    }));
    cs.push(Contender::new("libbpf-rs ObjectBuilder::open_memory+load+attach, drop", "libbpf-rs", || {
        let t0 = Instant::now();
        let lobj = libbpf_open(obj, SMALL)?;
        let prog = lobj.progs_mut().find(|p| p.name() == "count_syscalls").ok_or("libbpf-rs: program")?;
        let link = prog.attach()?;
        drop(link);
        drop(lobj);
        Ok(t0.elapsed().as_secs_f64() * 1e3)
    }));
    let b = ctx.budget(41, 4000, 7, 400);
    let mut rows = run_interleaved("4", "ms", Better::Lower, cs, b);
    #[cfg(not(feature = "loader"))]
    rows.insert(0, {
        let mut r = Row::missing("4", "mmbpf OpenObject::parse+load+attach, drop", "mmbpf", "ms", Better::Lower, "mmbpf loader not available in this build (feature `loader` off)".into());
        r.reference = true;
        r
    });
    rows.push(ctx.cpeer.run("4", "load", "C libbpf open+load+attach+close", "ms", Better::Lower, b));
    Ok(rows)
}

#[cfg(feature = "loader")]
fn mmbpf_load_close(obj: &[u8]) -> Res<f64> {
    let t0 = Instant::now();
    let mut open = mmbpf::object::OpenObject::parse(obj)?;
    open.set_global("target_tgid", &pid())?;
    let loaded = open.load()?;
    drop(loaded);
    Ok(t0.elapsed().as_secs_f64() * 1e3)
}

/// Case 4b: open + load the counter object, then close, without attaching: the loaders'
/// own cost, without the kernel's attach/detach waits that dominate case 4.
fn case_load_only(ctx: &Ctx) -> Res<Vec<Row>> {
    let obj = &ctx.obj[..];
    let mut cs = Vec::new();
    #[cfg(feature = "loader")]
    cs.push(Contender::new("mmbpf OpenObject::parse+load, drop", "mmbpf", || mmbpf_load_close(obj)).reference());
    cs.push(Contender::new("aya EbpfLoader::load+TracePoint::load, drop", "aya", || {
        let t0 = Instant::now();
        let mut ebpf = aya_load(obj, SMALL)?;
        let tp: &mut aya::programs::TracePoint = ebpf.program_mut("count_syscalls").ok_or("aya: program")?.try_into()?;
        tp.load()?;
        drop(ebpf);
        Ok(t0.elapsed().as_secs_f64() * 1e3)
    }));
    cs.push(Contender::new("libbpf-rs ObjectBuilder::open_memory+load, drop", "libbpf-rs", || {
        let t0 = Instant::now();
        let lobj = libbpf_open(obj, SMALL)?;
        drop(lobj);
        Ok(t0.elapsed().as_secs_f64() * 1e3)
    }));
    let b = ctx.budget(101, 2000, 11, 300);
    let mut rows = run_interleaved("4b", "ms", Better::Lower, cs, b);
    #[cfg(not(feature = "loader"))]
    rows.insert(0, {
        let mut r = Row::missing("4b", "mmbpf OpenObject::parse+load, drop", "mmbpf", "ms", Better::Lower, "mmbpf loader not available in this build (feature `loader` off)".into());
        r.reference = true;
        r
    });
    rows.push(ctx.cpeer.run("4b", "loadonly", "C libbpf bpf_object__open_mem+load, close", "ms", Better::Lower, b));
    Ok(rows)
}

/// Case 5: the static agents, measured by benches/run (sizes, build times, crates, RSS).
fn case_agents(path: &std::path::Path) -> Res<Vec<Row>> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut rows = Vec::new();
    let metrics: [(&'static str, &'static str, &'static str, &'static str); 6] = [
        ("5a", "size_bytes", "KiB", "binary size"),
        ("5b", "size_small_bytes", "KiB", "binary size, size profile"),
        ("5c", "build_secs", "s", "clean build time"),
        ("5d", "crates", "crates", "crates in the dependency tree"),
        ("5e", "max_rss_kb", "KiB", "peak RSS"),
        ("5f", "run_ms", "ms", "run time"),
    ];
    for (case, key, unit, what) in metrics {
        // mmbpf (a std program, like the peers' agents) stays the reference; mmbpf-nostd is
        // the same agent on mmbpf's no_std + alloc core, without std's runtime.
        for lib in ["mmbpf", "mmbpf-nostd", "aya", "libbpf-rs", "floor", "floor-gnu"] {
            let a = &v["agents"][lib];
            if a.is_null() {
                continue;
            }
            let library: &'static str = match lib {
                "mmbpf" | "mmbpf-nostd" => "mmbpf",
                "aya" => "aya",
                "libbpf-rs" => "libbpf-rs",
                _ => "baseline",
            };
            let name = match lib {
                "floor" => format!("empty std program, musl (floor): {what}"),
                "floor-gnu" => format!("empty std program, static glibc (floor for libbpf-rs): {what}"),
                "mmbpf-nostd" => format!("mmbpf agent, no_std core (no std runtime): {what}"),
                _ => format!("{lib} agent: {what}"),
            };
            let mut median = a[key].as_f64();
            if key.starts_with("size") {
                median = median.map(|b| b / 1024.0);
            }
            let target = a["target"].as_str().unwrap_or("");
            let mut notes: Vec<String> = Vec::new();
            if let Some(n) = a["note"].as_str() {
                notes.push(n.to_string());
            }
            if !target.is_empty() && !target.contains("musl") && lib != "floor-gnu" {
                notes.push(target.to_string());
            }
            if key == "build_secs" {
                if let Some(n) = a["build_note"].as_str() {
                    notes.push(n.to_string());
                }
            }
            let samples = if matches!(key, "max_rss_kb" | "run_ms") { a["samples"].as_u64().unwrap_or(0) as usize } else { usize::from(median.is_some()) };
            rows.push(Row { case, contender: name, library, median, unit, better: Better::Lower, samples, reference: lib == "mmbpf", note: notes.join("; ") });
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------- output

fn case_title(case: &str) -> &'static str {
    match case {
        "1" => "1. read one u64 at a random index (1024 entries)",
        "2" => "2. read a whole 1M-entry u64 array (8 MiB)",
        "3" => "3. write one u64 at a random index (1024 entries)",
        "4" => "4. open + load + attach counter.bpf.o, then detach + close",
        "4b" => "4b. open + load counter.bpf.o, then close (no attach)",
        "5a" => "5a. static agent (musl, --release, stripped): binary size",
        "5b" => "5b. static agent, size profile (opt-level=z, lto, codegen-units=1, panic=abort): binary size",
        "5c" => "5c. static agent: clean build time",
        "5d" => "5d. static agent: crates in the dependency tree",
        "5e" => "5e. static agent: peak RSS",
        "5f" => "5f. static agent: run time (incl. exit and detach)",
        _ => "?",
    }
}

/// How many times more time (or bytes, ...) the contender costs than mmbpf's reference.
fn cost_factor(r: &Row, reference: Option<f64>) -> Option<f64> {
    let (m, rf) = (r.median?, reference?);
    if m <= 0.0 || rf <= 0.0 {
        return None;
    }
    Some(match r.better {
        Better::Lower => m / rf,
        Better::Higher => rf / m,
    })
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

fn fmt_factor(f: f64, case: &str) -> String {
    let (worse, better) = if matches!(case, "5a" | "5b" | "5e") {
        ("larger", "smaller")
    } else if case == "5d" {
        ("more", "fewer")
    } else {
        ("slower", "faster")
    };
    if (f - 1.0).abs() < 0.005 {
        "same".into()
    } else if f >= 1.0 {
        format!("{} {worse}", fmt_x(f))
    } else {
        format!("{} {better}", fmt_x(1.0 / f))
    }
}

fn fmt_x(f: f64) -> String {
    if f >= 100.0 {
        format!("{f:.0}x")
    } else if f >= 10.0 {
        format!("{f:.1}x")
    } else {
        format!("{f:.2}x")
    }
}

fn reference_of(rows: &[Row], case: &str) -> Option<f64> {
    rows.iter().find(|r| r.case == case && r.reference).and_then(|r| r.median)
}

fn cases_in(rows: &[Row]) -> Vec<&'static str> {
    let mut cs: Vec<&'static str> = Vec::new();
    for r in rows {
        if !cs.contains(&r.case) {
            cs.push(r.case);
        }
    }
    cs
}

/// Targets from issue 6, evaluated on the measured medians (shown, never asserted).
fn targets(rows: &[Row]) -> Vec<String> {
    let mut out = Vec::new();
    let get = |case: &str, pred: &dyn Fn(&Row) -> bool| -> Vec<Row> { rows.iter().filter(|r| r.case == case && pred(r) && r.median.is_some()).cloned().collect() };
    // Case 1: mmap read >= 500x faster than every syscall path.
    if let Some(rf) = reference_of(rows, "1") {
        let sys = get("1", &|r| !r.reference && r.library != "baseline" && !r.contender.contains("(mmap)"));
        if let Some(worst) = sys.iter().min_by(|a, b| a.median.partial_cmp(&b.median).unwrap_or(std::cmp::Ordering::Equal)) {
            let f = worst.median.unwrap_or(0.0) / rf;
            out.push(format!("Case 1, mmap read >= 500x faster than every syscall path: {} (fastest syscall path, {}, is {} slower)", yes(f >= 500.0), worst.contender, fmt_x(f)));
        }
    }
    if let Some(rf) = reference_of(rows, "2") {
        if let Some(mc) = get("2", &|r| r.library == "baseline").first() {
            let f = mc.median.unwrap_or(0.0) / rf;
            out.push(format!("Case 2, mmap copy within 1.25x of memcpy: {} (memcpy is {} the speed)", yes(f <= 1.25), fmt_x(f)));
        }
        let peers = get("2", &|r| matches!(r.library, "aya" | "libbpf-rs" | "C libbpf"));
        if let Some(best) = peers.iter().max_by(|a, b| a.median.partial_cmp(&b.median).unwrap_or(std::cmp::Ordering::Equal)) {
            let f = rf / best.median.unwrap_or(f64::INFINITY);
            out.push(format!("Case 2, mmap copy >= 100x faster than the best peer: {} (best peer, {}, is {} slower)", yes(f >= 100.0), best.contender, fmt_x(f)));
        }
    }
    for case in ["4", "4b"] {
        match reference_of(rows, case) {
            Some(rf) => {
                for lib in ["aya", "C libbpf"] {
                    if let Some(p) = get(case, &|r| r.library == lib).first() {
                        let pm = p.median.unwrap_or(0.0);
                        out.push(format!("Case {case}, no slower than {lib}: {} (mmbpf {} ms, {lib} {} ms)", yes(rf <= pm), fmt_num(rf), fmt_num(pm)));
                    }
                }
            }
            None if rows.iter().any(|r| r.case == case) => out.push(format!("Case {case}: not evaluated (mmbpf loader result missing)")),
            None => {}
        }
    }
    if let Some(rf) = reference_of(rows, "5a") {
        // Each agent's size above the empty program of its own target (musl, or static glibc
        // for libbpf-rs): what the library itself adds.
        let floor_musl = get("5a", &|r| r.library == "baseline" && r.contender.contains("musl")).first().and_then(|r| r.median);
        let floor_gnu = get("5a", &|r| r.library == "baseline" && r.contender.contains("glibc")).first().and_then(|r| r.median);
        let is_nostd = |r: &Row| r.library == "mmbpf" && !r.reference && r.contender.contains("no_std");
        let nostd = get("5a", &is_nostd).first().and_then(|r| r.median);
        let nostd_small = get("5b", &is_nostd).first().and_then(|r| r.median);
        for (lib, limit) in [("aya", 3.0), ("libbpf-rs", 5.0)] {
            if let Some(p) = get("5a", &|r| r.library == lib).first() {
                let pm = p.median.unwrap_or(0.0);
                let f = pm / rf;
                let own_floor = if p.note.contains("linux-gnu") { floor_gnu } else { floor_musl };
                let beyond = match (floor_musl, own_floor) {
                    (Some(fm), Some(fo)) if rf > fm && pm > fo => format!(
                        "; above the empty program of the same target: mmbpf +{} KiB, {lib} +{} KiB = {}",
                        fmt_num(rf - fm),
                        fmt_num(pm - fo),
                        fmt_x((pm - fo) / (rf - fm))
                    ),
                    _ => String::new(),
                };
                let head = format!("Case 5, agent at most 1/{limit:.0} of {lib}'s size:");
                let std_agent = format!("{} ({lib}'s is {}{beyond})", yes(f >= limit), fmt_x(f));
                // The no_std agent (mmbpf's no_std + alloc core) does not carry std's runtime,
                // so it can meet the target where no std agent on musl can.
                match nostd.filter(|n| *n > 0.0) {
                    Some(n) => {
                        let fns = pm / n;
                        let small = match (get("5b", &|r| r.library == lib).first().and_then(|r| r.median), nostd_small) {
                            (Some(ps), Some(ns)) if ns > 0.0 => format!("; {} with the size profile", fmt_x(ps / ns)),
                            _ => String::new(),
                        };
                        out.push(format!(
                            "{head} no_std agent {} ({lib}'s is {} its {} KiB{small}); std agent {}",
                            yes(fns >= limit),
                            fmt_x(fns),
                            fmt_num(n),
                            std_agent
                        ));
                    }
                    None => out.push(format!("{head} {std_agent}")),
                }
            }
        }
    } else if rows.iter().any(|r| r.case == "5a") {
        out.push("Case 5: size target not evaluated (mmbpf agent missing)".into());
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b {
        "**met**"
    } else {
        "**not met**"
    }
}

fn markdown(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| case | contender | median | unit | vs mmbpf | samples |");
    let _ = writeln!(s, "|---|---|---:|---|---|---:|");
    for case in cases_in(rows) {
        let rf = reference_of(rows, case);
        for (k, r) in rows.iter().filter(|r| r.case == case).enumerate() {
            let med = r.median.map(fmt_num).unwrap_or_else(|| "—".into());
            let vs = if r.reference {
                "reference".to_string()
            } else {
                cost_factor(r, rf).map(|f| fmt_factor(f, case)).unwrap_or_else(|| "—".into())
            };
            let name = if r.reference { format!("**{}**", r.contender) } else { r.contender.clone() };
            let name = if r.note.is_empty() { name } else { format!("{name} ({})", r.note.replace('|', "/")) };
            let title = if k == 0 { case_title(case) } else { "" };
            let _ = writeln!(s, "| {} | {} | {} | {} | {} | {} |", title, name, med, r.unit, vs, r.samples);
        }
    }
    s
}

fn machine() -> Value {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    json!({ "cpu": model, "cpus": cpus, "kernel": kernel })
}

fn main() -> Res<()> {
    let mut quick = false;
    let mut obj = PathBuf::from("bpf-obj/counter.bpf.o");
    let mut c_peer = None;
    let mut agents = None;
    let mut json_out = PathBuf::from("target/bench/peers.json");
    let mut md_out = None;
    let mut cases = String::from("1,2,3,4,5");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--obj" => obj = args.next().ok_or("--obj PATH")?.into(),
            "--c-peer" => c_peer = Some(PathBuf::from(args.next().ok_or("--c-peer PATH")?)),
            "--agents" => agents = Some(PathBuf::from(args.next().ok_or("--agents PATH")?)),
            "--json-out" => json_out = args.next().ok_or("--json-out PATH")?.into(),
            "--md-out" => md_out = Some(PathBuf::from(args.next().ok_or("--md-out PATH")?)),
            "--cases" => cases = args.next().ok_or("--cases LIST")?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    libbpf_rs::set_print(None);
    let bytes = std::fs::read(&obj).map_err(|e| format!("{}: {e}", obj.display()))?;
    let ctx = Ctx { quick, obj: bytes, cpeer: CPeer { exe: c_peer, obj: obj.clone() }, idx: index_table() };

    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let want: Vec<&str> = cases.split(',').map(str::trim).collect();
    type CaseFn = fn(&Ctx) -> Res<Vec<Row>>;
    let table: [(&str, CaseFn, &'static str, &'static str, Better); 5] = [
        ("1", case_read, "ns/op", "mmbpf ArrayView::load (mmap)", Better::Lower),
        ("2", case_bulk, "GB/s", "mmbpf ArrayView::copy_to (mmap)", Better::Higher),
        ("3", case_write, "ns/op", "mmbpf ArrayView::store (mmap)", Better::Lower),
        ("4", case_load, "ms", "mmbpf load+attach", Better::Lower),
        ("4b", case_load_only, "ms", "mmbpf load", Better::Lower),
    ];
    for (id, f, unit, name, better) in table {
        if !want.contains(&id) && !(id == "4b" && want.contains(&"4")) {
            continue;
        }
        eprintln!("[peers] case {id} ...");
        let case: &'static str = match id {
            "1" => "1",
            "2" => "2",
            "3" => "3",
            "4" => "4",
            _ => "4b",
        };
        match f(&ctx) {
            Ok(r) => rows.extend(r),
            Err(e) => {
                eprintln!("[peers] case {id} failed: {e}");
                let mut r = Row::missing(case, name, "mmbpf", unit, better, format!("case setup failed: {e}"));
                r.reference = true;
                rows.push(r);
            }
        }
    }
    if want.contains(&"5") {
        match &agents {
            Some(p) => match case_agents(p) {
                Ok(r) => rows.extend(r),
                Err(e) => eprintln!("[peers] case 5: cannot read {}: {e}", p.display()),
            },
            None => eprintln!("[peers] case 5 skipped (no --agents file)"),
        }
    }

    let mut md = markdown(&rows);
    let tg = targets(&rows);
    if !tg.is_empty() {
        md.push_str("\nTargets (issue 6; informational, never asserted):\n\n");
        for t in &tg {
            let _ = writeln!(md, "- {t}");
        }
    }
    let m = machine();
    let _ = writeln!(md, "\nMachine: {} ({} CPUs), Linux {}; mode: {}; harness time {:.1} s.", m["cpu"].as_str().unwrap_or("?"), m["cpus"], m["kernel"].as_str().unwrap_or("?"), if quick { "--quick" } else { "full" }, started.elapsed().as_secs_f64());
    println!("{md}");

    let cases_json: Vec<Value> = cases_in(&rows)
        .into_iter()
        .map(|case| {
            let rf = reference_of(&rows, case);
            let contenders: Vec<Value> = rows
                .iter()
                .filter(|r| r.case == case)
                .map(|r| {
                    json!({
                        "contender": r.contender,
                        "library": r.library,
                        "median": r.median,
                        "samples": r.samples,
                        "reference": r.reference,
                        // median / mmbpf's median, as measured (for GB/s, < 1 means slower than mmbpf)
                        "ratio_to_mmbpf": match (r.median, rf) { (Some(m), Some(f)) if f != 0.0 => Some(m / f), _ => None },
                        // how many times the cost (time, bytes, ...) of mmbpf's reference; > 1 = worse
                        "cost_vs_mmbpf": cost_factor(r, rf),
                        "note": r.note,
                    })
                })
                .collect();
            let first = rows.iter().find(|r| r.case == case);
            json!({
                "case": case,
                "title": case_title(case),
                "unit": first.map(|r| r.unit),
                "better": first.map(|r| if r.better == Better::Lower { "lower" } else { "higher" }),
                "mmbpf_median": rf,
                "contenders": contenders,
            })
        })
        .collect();
    let doc = json!({
        "mode": if quick { "quick" } else { "full" },
        "machine": m,
        "unix_time": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "cases": cases_json,
        "targets": tg,
    });
    if let Some(parent) = json_out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_out, serde_json::to_string_pretty(&doc)? + "\n")?;
    if let Some(p) = md_out {
        std::fs::write(p, &md)?;
    }
    eprintln!("[peers] wrote {}", json_out.display());
    Ok(())
}
