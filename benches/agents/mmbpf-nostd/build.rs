// Link musl's libc.a (Rust's self-contained copy for x86_64-unknown-linux-musl). Without
// std nothing asks for it: the `libc` crate only declares the functions. A `#[link]` in
// main.rs would put -lc before mmbpf's rlib, whose memcpy/memcmp references would then go
// unresolved; a link argument comes after every library.
fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
}
