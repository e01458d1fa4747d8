use super::*;
extern crate std;
use std::println;

const COUNTER: &[u8] = include_bytes!("../../bpf-obj/counter.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../../bpf-obj/globals.bpf.o");
const MULTI: &[u8] = include_bytes!("../../bpf-obj/multi.bpf.o");
const SYSCALL: &[u8] = include_bytes!("../../bpf-obj/syscall.bpf.o");

#[test]
fn dump() {
    for o in [COUNTER, GLOBALS, MULTI, SYSCALL] {
        let s = parse(o).unwrap();
        println!("license {:?} maps:", s.license);
        for m in &s.maps {
            println!("  {m:?}");
        }
        for p in &s.programs {
            println!(
                "  prog {} {} {:?} n={} relocs={:?} subs={:?} fi={} li={}",
                p.name,
                p.section,
                p.kind,
                p.insns.len(),
                p.map_relocs,
                p.subprograms,
                p.func_info_count(),
                p.line_info_count()
            );
        }
        for g in &s.globals {
            println!("  {g:?}");
        }
    }
}
