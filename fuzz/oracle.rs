// The fuzzing oracle: shared by the `parse` fuzz target (fuzz/fuzz_targets/parse.rs) and the
// regression replay (tests/fuzz_regressions.rs) through `include!`, so that both check the
// same invariants. No kernel calls.

use mmbpf::btf::{Btf, BtfExt};

/// Run the whole pure path on `data`; panics (with a message) if an invariant is broken.
pub fn check(data: &[u8]) {
    // Also fuzz the raw BTF reader on its own: the input as a `.BTF` section.
    exercise_btf(data);

    let Ok(spec) = mmbpf::elf::parse(data) else {
        return;
    };
    let _ = spec.license.len();
    for m in &spec.maps {
        let _ = m.validate();
        let _ = m.stride();
        let _ = m.mmap_len(4096);
        let _ = m.mmap_len(65536);
        let _ = m.kernel_name();
        // What the loader allocates for the initial value must stay within value_size.
        assert!(m.initial_value.len() <= m.value_size as usize, "{m:?}");
    }
    for (i, p) in spec.programs.iter().enumerate() {
        assert!(
            !p.insns.is_empty(),
            "program {} has no instructions",
            p.name
        );
        let _ = p.kind.prog_type();
        let _ = p.kind.attach_point();
        let _ = p.kind.min_kernel();
        for r in &p.map_relocs {
            // The loader indexes insns[r.insn + 1] and maps[r.map]: both must exist.
            assert!(
                r.insn + 1 < p.insns.len(),
                "program {i}: reloc past the end"
            );
            assert!(
                r.map < spec.maps.len(),
                "program {i}: reloc to a missing map"
            );
        }
        for (_, start) in &p.subprograms {
            assert!(*start < p.insns.len());
        }
        let _ = p.func_info_count();
        let _ = p.line_info_count();
        if p.func_info_rec_size != 0 {
            assert_eq!(p.func_info.len() % p.func_info_rec_size as usize, 0);
        }
        if p.line_info_rec_size != 0 {
            assert_eq!(p.line_info.len() % p.line_info_rec_size as usize, 0);
        }
        let _ = spec.program(&p.name);
    }
    for g in &spec.globals {
        assert!(g.map < spec.maps.len());
        let m = &spec.maps[g.map];
        assert!(u64::from(g.offset) + u64::from(g.size) <= u64::from(m.value_size));
        let _ = spec.global_type(g);
        let _ = spec.global(&g.name);
    }
    if let Some(b) = &spec.btf {
        // The fixed-up bytes must decode to the same types.
        let again = Btf::parse(&b.bytes).expect("fixed-up BTF must parse again");
        assert_eq!(again.len(), b.types.len());
        walk_btf(&b.types);
    }
}

fn exercise_btf(data: &[u8]) {
    let Ok(btf) = Btf::parse(data) else {
        return;
    };
    walk_btf(&btf);
    // The same bytes as .BTF.ext against this BTF.
    let _ = BtfExt::parse(data, &btf);
}

fn walk_btf(btf: &Btf) {
    for id in 0..btf.len() as u32 {
        let _ = btf.resolve_size(id);
        let _ = btf.type_display(id);
        let _ = btf.skip_mods_and_typedefs(id);
        let _ = btf.type_name(id);
    }
    let _ = btf.type_by_id(btf.len() as u32);
    let _ = btf.datasec(".maps");
}
