//! `mmbpf run`: lands with the loader (`mmbpf::object`).

use crate::args::RunArgs;
use crate::{inspect, CmdResult, Failure};

/// Run `run`.
pub fn run(a: &RunArgs) -> CmdResult {
    inspect::load_spec(&a.object)?;
    Err(Failure::new("run: not available yet (waiting for the loader, mmbpf::object)"))
}
