//! The demo: lands with the loader (`mmbpf::object`).

use crate::{CmdResult, Failure};

/// Run the demo.
pub fn run() -> CmdResult {
    Err(Failure::new("the demo is not available yet (waiting for the loader, mmbpf::object)"))
}
