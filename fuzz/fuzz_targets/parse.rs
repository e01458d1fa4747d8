//! Fuzz the whole pure path: ELF + BTF parsing, map specs, relocation and subprogram
//! linking, `.BTF.ext` records. No kernel calls. Any panic, overflow (debug assertions are
//! on under cargo fuzz), out-of-memory (`-rss_limit_mb`/`-malloc_limit_mb`) or timeout is a
//! bug. The checks live in fuzz/oracle.rs, shared with tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../oracle.rs");

fuzz_target!(|data: &[u8]| check(data));
