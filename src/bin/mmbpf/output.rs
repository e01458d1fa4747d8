//! Writing to stdout without panicking (a closed pipe is an error, not a panic).

use std::io::Write;

use crate::{CmdResult, Failure};

/// Write `text` to stdout and flush.
pub fn print(text: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(format!("writing to stdout: {e}")))
}
