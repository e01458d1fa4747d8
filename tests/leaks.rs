//! Resource leaks: cycles of create/load/attach/mmap/drop leave the process's descriptors and
//! mappings as they were. This binary holds only leak tests, serialised by a lock, because
//! descriptor and mapping counts are process-wide and other tests would disturb them.

mod common;

use std::sync::Mutex;

use mmbpf::map::ArrayMap;
use mmbpf::object::OpenObject;

static SERIAL: Mutex<()> = Mutex::new(());

const COUNTER: &[u8] = include_bytes!("../bpf-obj/counter.bpf.o");

#[test]
fn no_leaks_over_thousands_of_cycles() {
    require_bpf!("no_leaks_over_thousands_of_cycles");
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Warm up allocations and caches once.
    {
        let m = ArrayMap::<u64>::create_mmapable("warm", 1024).unwrap();
        let v = m.mmap().unwrap();
        v.store(0, &1).unwrap();
    }
    let fds = common::open_fds();
    let maps = common::mappings();
    let n: u64 = if std::env::var_os("MMBPF_VM").is_some() {
        300
    } else {
        3000
    };
    for i in 0..n {
        let m = ArrayMap::<u64>::create_mmapable("cycle", 1024).unwrap();
        let v = m.mmap().unwrap();
        v.store((i % 1024) as usize, &i).unwrap();
        let ro = m.mmap_ro().unwrap();
        if i == 0 {
            assert_eq!(
                common::mappings(),
                maps + 2,
                "the count sees live BPF mappings"
            );
        }
        assert_eq!(ro.load((i % 1024) as usize).unwrap(), i);
        drop(m);
        drop(v);
    }
    assert_eq!(common::open_fds(), fds, "file descriptors leaked");
    assert_eq!(common::mappings(), maps, "mappings leaked");
}

/// `MMBPF_LEAK_CYCLES` (default 10,000) cycles of parse + load + mmap + drop, and a fiftieth as
/// many that also attach and detach the tracepoint. Detaching a tracepoint waits for RCU
/// grace periods in the kernel (tens of milliseconds each), which is why the attach cycles
/// are fewer; `MMBPF_LEAK_CYCLES=10000 MMBPF_LEAK_ATTACH_CYCLES=10000` runs the full set.
#[test]
fn no_leaks_over_ten_thousand_load_cycles() {
    require_bpf!("no_leaks_over_ten_thousand_load_cycles");
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    common::tracefs();
    let env = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    // Under TCG in vm-tests (MMBPF_VM set) a tenth: the leak check is the same, the time is not.
    let default = if std::env::var_os("MMBPF_VM").is_some() {
        1_000
    } else {
        10_000
    };
    let cycles = env("MMBPF_LEAK_CYCLES", default);
    let attach_cycles = env("MMBPF_LEAK_ATTACH_CYCLES", cycles / 50);
    let cycle = |i: u32, attach: bool| {
        let mut open = OpenObject::parse(COUNTER).unwrap();
        open.set_global("target_tgid", &i).unwrap();
        let obj = open.load().unwrap();
        let link = attach.then(|| obj.program("count_syscalls").unwrap().attach().unwrap());
        let view = obj.array_map::<u64>("counts").unwrap().mmap().unwrap();
        let total = obj.global::<u64>("total").unwrap();
        assert_eq!(
            view.load(0).unwrap() + total.load(),
            0,
            "target_tgid {i} never runs here"
        );
        drop(link);
    };
    cycle(u32::MAX, true);
    let fds = common::open_fds();
    let maps = common::mappings();
    for i in 0..cycles {
        cycle(u32::MAX - 1 - i, i < attach_cycles);
    }
    assert_eq!(
        common::open_fds(),
        fds,
        "file descriptors leaked over {cycles} cycles"
    );
    assert_eq!(
        common::mappings(),
        maps,
        "mappings leaked over {cycles} cycles"
    );
}
