//! Case 5 agent, mmbpf: load the embedded counter object, attach its tracepoint,
//! make a few getpid() calls, read the counter once (from the mmap view), exit.
use mmbpf::object::OpenObject;

static OBJ: &[u8] = include_bytes!("../../../../bpf-obj/counter.bpf.o");
const SYS_GETPID: usize = 39; // x86_64

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pid = std::process::id();
    let mut open = OpenObject::parse(OBJ)?;
    open.set_global("target_tgid", &pid)?;
    let obj = open.load()?;
    let _link = obj.program("count_syscalls")?.attach()?;
    for _ in 0..10 {
        std::hint::black_box(std::process::id());
    }
    let counts = obj.array_map::<u64>("counts")?.mmap()?;
    println!("getpid calls counted: {}", counts.load(SYS_GETPID)?);
    Ok(())
}
