//! Case 5 agent, aya: load the embedded counter object, attach its tracepoint,
//! make a few getpid() calls, read the counter once, exit.
use aya::maps::Array;
use aya::programs::TracePoint;
use aya::EbpfLoader;

static OBJ: &[u8] = include_bytes!("../../../../bpf-obj/counter.bpf.o");
const SYS_GETPID: u32 = 39; // x86_64

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pid = std::process::id();
    let mut ebpf = EbpfLoader::new().override_global("target_tgid", &pid, true).load(OBJ)?;
    let tp: &mut TracePoint = ebpf.program_mut("count_syscalls").ok_or("no program count_syscalls")?.try_into()?;
    tp.load()?;
    tp.attach("raw_syscalls", "sys_enter")?;
    for _ in 0..10 {
        std::hint::black_box(std::process::id());
    }
    let counts: Array<_, u64> = Array::try_from(ebpf.map("counts").ok_or("no map counts")?)?;
    println!("getpid calls counted: {}", counts.get(&SYS_GETPID, 0)?);
    Ok(())
}
