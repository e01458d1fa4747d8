//! `mmbpf`: the command-line face of the mmbpf crate.
//!
//! - `mmbpf`: the demo (counter.bpf.o, bundled): per-syscall counts read through `mmap` next
//!   to the same counts read through `bpf(2)`, with what each way of reading costs.
//! - `mmbpf inspect OBJ [--json]`: programs, maps and globals of an object (pure parsing).
//! - `mmbpf run OBJ [--set NAME=VALUE]... [--test-run PROG[=HEX]]... [--json] [--exec CMD...]`
//! - `mmbpf dump (PINNED_PATH | --id N) [--json] [--watch SECS]`
//!
//! Exit status: 0 on success, 1 on failure (one line on stderr, plus the verifier log when the
//! kernel rejected a program), 2 on a usage error (with the usage text).

mod args;
mod bytes_view;
mod demo;
mod dump;
mod inspect;
mod json;
mod maps;
mod output;
mod run;
mod syscalls;
mod values;

use std::process::ExitCode;

use args::Command;

/// Why a command failed: one line, and the verifier log when there is one.
#[derive(Debug)]
pub struct Failure {
    /// The line printed after `mmbpf: `.
    pub message: String,
    /// The kernel's verifier log, printed after the line.
    pub verifier_log: Option<String>,
}

impl Failure {
    /// A failure with just a message.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            verifier_log: None,
        }
    }
}

impl From<mmbpf::Error> for Failure {
    fn from(e: mmbpf::Error) -> Self {
        Failure {
            message: one_line(&e.to_string()),
            verifier_log: e.verifier_log().map(str::to_string),
        }
    }
}

/// Join the lines of a message so that the failure stays one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What commands return.
pub type CmdResult = Result<(), Failure>;

fn main() -> ExitCode {
    let command = match args::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mmbpf: {e}");
            eprintln!("{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => output::print(&format!("{}\n", args::USAGE)),
        Command::Demo => demo::run(),
        Command::Inspect { object, json } => inspect::run(&object, json),
        Command::Run(a) => run::run(&a),
        Command::Dump(a) => dump::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("mmbpf: {}", f.message);
            if let Some(log) = f.verifier_log.as_deref().filter(|l| !l.trim().is_empty()) {
                eprintln!("verifier log:\n{}", log.trim_end());
            }
            ExitCode::from(1)
        }
    }
}
