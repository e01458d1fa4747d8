//! Case 5 agent, libbpf-rs: load the embedded counter object, attach its tracepoint,
//! make a few getpid() calls, read the counter once, exit.
use libbpf_rs::{MapCore, MapFlags, ObjectBuilder};

static OBJ: &[u8] = include_bytes!("../../../../bpf-obj/counter.bpf.o");
const SYS_GETPID: u32 = 39; // x86_64

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pid = std::process::id();
    let mut builder = ObjectBuilder::default();
    let mut open = builder.open_memory(OBJ)?;
    let mut rodata = open.maps_mut().find(|m| m.name().to_string_lossy().ends_with(".rodata")).ok_or("no .rodata")?;
    rodata.initial_value_mut().ok_or("no .rodata value")?[..4].copy_from_slice(&pid.to_ne_bytes());
    let obj = open.load()?;
    let prog = obj.progs_mut().find(|p| p.name() == "count_syscalls").ok_or("no program count_syscalls")?;
    let _link = prog.attach()?;
    for _ in 0..10 {
        std::hint::black_box(std::process::id());
    }
    let counts = obj.maps().find(|m| m.name() == "counts").ok_or("no map counts")?;
    let v = counts.lookup(&SYS_GETPID.to_ne_bytes(), MapFlags::ANY)?.ok_or("no element")?;
    println!("getpid calls counted: {}", u64::from_ne_bytes(v[..8].try_into()?));
    Ok(())
}
