//! The demo (`mmbpf` with no arguments): counter.bpf.o, bundled into the binary, counts this
//! process's system calls per syscall number into `counts`, an `ARRAY` of 1024 `u64` with
//! `BPF_F_MMAPABLE`. After a known workload the counts are read twice — through the mmap
//! view (memory loads) and through `bpf(2)` lookups — and both readings are timed.

use std::time::{Duration, Instant};

use mmbpf::object::OpenObject;

use crate::inspect::table;
use crate::{output, syscalls, CmdResult, Failure};

/// The demo object (see bpf-obj/README.md).
const COUNTER_OBJ: &[u8] = include_bytes!("../../../bpf-obj/counter.bpf.o");

/// The workload: `(syscall name, how many times)`, each made through std.
const WORKLOAD: &[(&str, u32)] = &[("getppid", 1000), ("getpid", 500), ("sched_yield", 250)];

fn call(name: &str) {
    match name {
        "getppid" => {
            std::hint::black_box(std::os::unix::process::parent_id());
        }
        "getpid" => {
            std::hint::black_box(std::process::id());
        }
        _ => std::thread::yield_now(),
    }
}

/// Run the demo.
pub fn run() -> CmdResult {
    let pid = std::process::id();
    let mut open = OpenObject::parse(COUNTER_OBJ)?;
    open.set_global("target_tgid", &pid)?;
    let obj = open.load()?;
    let counts = obj.array_map::<u64>("counts")?;
    // Map once, before counting starts; every read below is a memory load.
    let view = counts.mmap_ro()?;
    let prog = obj.program("count_syscalls")?;

    let links = prog.attach()?;
    for (name, n) in WORKLOAD {
        for _ in 0..*n {
            call(name);
        }
    }
    drop(links);

    // Both readings of the same, now quiet, counters.
    let by_mmap = view.snapshot();
    let mut by_syscall = Vec::with_capacity(by_mmap.len());
    for i in 0..counts.len() {
        by_syscall.push(counts.get(i)?);
    }
    let total = obj.global_ro::<u64>("total")?.load();

    let mut out = String::new();
    out.push_str(&format!(
        "mmbpf demo: counter.bpf.o (bundled), program count_syscalls on tracepoint raw_syscalls/sys_enter\n\
         counts every system call of this process (target_tgid = {pid}) into `counts`:\n\
         ARRAY of {} x u64, BPF_F_MMAPABLE, mapped once into this process ({} bytes)\n\n",
        counts.len(),
        view.len() * view.stride(),
    ));
    let workload: Vec<String> = WORKLOAD.iter().map(|(n, c)| format!("{c} x {n}")).collect();
    out.push_str(&format!(
        "workload while attached: {}; then detached\n\n",
        workload.join(", ")
    ));

    let expected = |slot: usize| {
        WORKLOAD
            .iter()
            .find(|(n, _)| syscalls::nr(n) == Some(slot as u32))
            .map(|(_, c)| c.to_string())
    };
    let rows: Vec<Vec<String>> = (0..by_mmap.len())
        .filter(|&i| by_mmap[i] != 0 || by_syscall.get(i).copied().unwrap_or(0) != 0)
        .map(|i| {
            let sys = by_syscall.get(i).copied().unwrap_or(0);
            vec![
                i.to_string(),
                syscalls::name(i as u32).unwrap_or("?").to_string(),
                by_mmap[i].to_string(),
                sys.to_string(),
                if by_mmap[i] == sys { "yes" } else { "NO" }.to_string(),
                expected(i).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &mut out,
        &["SLOT", "SYSCALL", "MMAP", "BPF_LOOKUP", "SAME", "WORKLOAD"],
        &rows,
    );
    let sum: u64 = by_mmap.iter().sum();
    out.push_str(&format!(
        "\nsum of slots {sum}; global `total` (.bss, read through mmap) {total}\n"
    ));

    let mismatch: Vec<String> = WORKLOAD
        .iter()
        .filter_map(|(n, c)| {
            let nr = syscalls::nr(n)? as usize;
            let got = by_mmap.get(nr).copied().unwrap_or(0);
            (got != u64::from(*c)).then(|| format!("{n}: counted {got}, made {c}"))
        })
        .collect();
    if !mismatch.is_empty() {
        return Err(Failure::new(format!(
            "demo: counts differ from the workload: {}",
            mismatch.join("; ")
        )));
    }

    // What each way of reading all 1024 slots costs (best of several rounds).
    let mut scratch = vec![0u64; view.len()];
    let mmap_time = best_of(200, || {
        view.copy_to(&mut scratch)?;
        std::hint::black_box(&scratch);
        Ok(())
    })?;
    let lookup_time = best_of(5, || {
        for i in 0..counts.len() {
            std::hint::black_box(counts.get(i)?);
        }
        Ok(())
    })?;
    let batch_time = best_of(5, || {
        std::hint::black_box(counts.read_all()?);
        Ok(())
    })?;
    let n = view.len() as f64;
    out.push_str(&format!(
        "\nreading all {} slots (best of several rounds):\n",
        view.len()
    ));
    let per = |d: Duration| format!("{:.1} ns/slot", d.as_nanos() as f64 / n);
    let rows = vec![
        vec![
            "mmap view (memory loads, no syscall)".to_string(),
            fmt_duration(mmap_time),
            per(mmap_time),
        ],
        vec![
            "1024 x BPF_MAP_LOOKUP_ELEM".to_string(),
            fmt_duration(lookup_time),
            per(lookup_time),
        ],
        vec![
            "BPF_MAP_LOOKUP_BATCH".to_string(),
            fmt_duration(batch_time),
            per(batch_time),
        ],
    ];
    table(&mut out, &["HOW", "TIME", "PER SLOT"], &rows);
    let ratio = lookup_time.as_secs_f64() / mmap_time.as_secs_f64().max(1e-9);
    out.push_str(&format!(
        "mmap is {ratio:.0}x faster than one lookup per slot\n"
    ));
    output::print(&out)
}

/// The fastest of `rounds` runs of `f`.
fn best_of(rounds: u32, mut f: impl FnMut() -> mmbpf::Result<()>) -> Result<Duration, Failure> {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}
