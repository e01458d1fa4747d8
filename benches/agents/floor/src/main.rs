//! Case 5 baseline: what an empty Rust `std` program costs (size, RSS, run time), so that
//! each library's own share of its agent can be read off.
fn main() {
    println!("pid {}", std::process::id());
}
