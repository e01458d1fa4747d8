//! `mmbpf run OBJ [--set NAME=VALUE]... [--test-run PROG[=HEX]]... [--json] [--exec CMD...]`:
//! load, attach, trigger, then show every user map's non-zero elements and every global.

use std::process::{Command, Stdio};

use mmbpf::elf::ProgramKind;
use mmbpf::map::{MapOrigin, MapSpec};
use mmbpf::object::{Object, OpenObject};
use mmbpf::program::TestRun;

use crate::args::{RunArgs, SetArg, TestRunArg};
use crate::bytes_view::BytesView;
use crate::inspect::{self, table};
use crate::json::Json;
use crate::maps::{self, Entries, ReadVia};
use crate::{output, values, CmdResult, Failure};

/// Input used by `--test-run PROG` without `=HEX`: 64 zero bytes (for a socket filter, an
/// Ethernet frame with ethertype 0, so the kernel does not parse an IP header).
pub const DEFAULT_TEST_INPUT: usize = 64;

/// What one `--test-run` returned.
struct TestRunReport {
    program: String,
    retval: u32,
    /// The context after the run (syscall programs write it back); empty for packet programs.
    ctx: Vec<u8>,
}

/// What `--exec` ran.
struct ExecReport {
    command: String,
    /// Exit code, or `None` when killed by a signal.
    code: Option<i32>,
    signal: Option<i32>,
}

/// Run `run`.
pub fn run(a: &RunArgs) -> CmdResult {
    let bytes = inspect::read_object(&a.object)?;
    let in_file =
        |e: mmbpf::Error| Failure::from(e.context(format_args!("{}", a.object.display())));
    let mut open = OpenObject::parse(&bytes).map_err(in_file)?;
    let mut log = Vec::new();
    for s in &a.sets {
        apply_set(&mut open, s)?;
        let g = open
            .spec()
            .global(&s.name)
            .map(|g| g.section.clone())
            .unwrap_or_default();
        log.push(format!("set {} ({g}) = {}", s.name, s.value));
    }
    let obj = open.load().map_err(in_file)?;
    log.push(format!(
        "loaded {}: {} program{}, {} map{}",
        a.object.display(),
        obj.programs().count(),
        plural(obj.programs().count()),
        obj.maps().count(),
        plural(obj.maps().count())
    ));

    let report = obj.report();
    if let Some(why) = &report.btf_rejected {
        log.push(format!(
            "note: BTF not loaded ({why}); maps and programs have no type information"
        ));
    }
    if !report.not_mmapable.is_empty() {
        log.push(format!(
            "note: the kernel cannot mmap global data ({}): globals are read with syscalls",
            report.not_mmapable.join(", ")
        ));
    }

    let links = obj.attach_all()?;
    for l in &links {
        log.push(format!("attached {} to {}", l.program(), l.target()));
    }

    let mut test_runs = Vec::new();
    for t in &a.test_runs {
        let r = test_run(&obj, t)?;
        log.push(match r.ctx.is_empty() {
            true => format!("test run {}: retval {}", r.program, r.retval),
            false => format!(
                "test run {}: retval {}, ctx {}",
                r.program,
                r.retval,
                values::hex(&r.ctx)
            ),
        });
        test_runs.push(r);
    }

    let exec = match &a.exec {
        Some(cmd) => {
            // In text mode, what happened so far comes before the command's own output.
            if !a.json {
                let mut t = std::mem::take(&mut log).join("\n");
                t.push('\n');
                output::print(&t)?;
            }
            let r = exec(cmd, a.json)?;
            log.push(match (r.code, r.signal) {
                (Some(c), _) => format!("exec {}: exit status {c}", r.command),
                (None, Some(s)) => format!("exec {}: killed by signal {s}", r.command),
                (None, None) => format!("exec {}: ended", r.command),
            });
            Some(r)
        }
        None => None,
    };

    // Detach before reading, so that the values shown are one consistent state.
    let detached = links.len();
    drop(links);
    if detached > 0 {
        log.push(format!("detached {detached} program{}", plural(detached)));
    }

    let user_maps = read_user_maps(&obj)?;
    let globals = read_globals(&obj)?;

    let text = if a.json {
        let mut m = Json::object();
        for (spec, info, entries, _) in &user_maps {
            m.insert(spec.name.clone(), maps::to_json(info, entries.as_ref()));
        }
        let mut g = Json::object();
        for (name, _, v) in &globals {
            g.insert(name.clone(), values::to_json(v));
        }
        let mut j = Json::object().with("maps", m).with("globals", g);
        if !test_runs.is_empty() {
            let runs = test_runs
                .iter()
                .map(|r| {
                    let mut o = Json::object()
                        .with("program", r.program.as_str())
                        .with("retval", r.retval);
                    if !r.ctx.is_empty() {
                        o.insert("ctx", values::hex(&r.ctx));
                    }
                    o
                })
                .collect::<Vec<_>>();
            j.insert("test_runs", runs);
        }
        if let Some(e) = &exec {
            j.insert(
                "exec",
                Json::object()
                    .with("command", e.command.as_str())
                    .with("status", e.code)
                    .with("signal", e.signal),
            );
        }
        let mut t = j.to_text();
        t.push('\n');
        t
    } else {
        let mut t = String::new();
        for l in &log {
            t.push_str(l);
            t.push('\n');
        }
        for (spec, info, entries, via) in &user_maps {
            maps::to_text(&spec.name, info, entries.as_ref(), *via, &mut t);
        }
        t.push_str(&format!("globals ({}):\n", globals.len()));
        let rows: Vec<Vec<String>> = globals
            .iter()
            .map(|(n, s, v)| vec![n.clone(), s.clone(), values::to_text(v)])
            .collect();
        table(&mut t, &["NAME", "SECTION", "VALUE"], &rows);
        t
    };
    output::print(&text)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `--set NAME=VALUE`: the variable must be 1, 2, 4 or 8 bytes and the value must fit.
fn apply_set(open: &mut OpenObject, s: &SetArg) -> CmdResult {
    let size = match open.spec().global(&s.name) {
        Some(g) => g.size as usize,
        None => {
            let names: Vec<&str> = open
                .spec()
                .globals
                .iter()
                .map(|g| g.name.as_str())
                .collect();
            return Err(Failure::new(format!(
                "--set {}: no global variable of that name (globals: {})",
                s.name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
    };
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(Failure::new(format!(
            "--set {}: the variable is {size} bytes; --set takes integers for 1-, 2-, 4- or 8-byte variables",
            s.name
        )));
    }
    let bytes = s.value.to_le_bytes(size).ok_or_else(|| {
        Failure::new(format!(
            "--set {}={}: the value does not fit the {size}-byte variable",
            s.name, s.value
        ))
    })?;
    open.set_global_bytes(&s.name, &bytes)?;
    Ok(())
}

/// `--test-run PROG[=HEX]`: the input is the context for syscall programs and the packet
/// for the others.
fn test_run(obj: &Object, t: &TestRunArg) -> Result<TestRunReport, Failure> {
    let prog = obj.program(&t.program)?;
    let input = t
        .input
        .clone()
        .unwrap_or_else(|| vec![0u8; DEFAULT_TEST_INPUT]);
    let is_syscall = matches!(prog.kind(), ProgramKind::Syscall);
    let req = if is_syscall {
        TestRun {
            ctx: input,
            ..TestRun::default()
        }
    } else {
        TestRun {
            data: input,
            ..TestRun::default()
        }
    };
    let r = prog.test_run(&req)?;
    Ok(TestRunReport {
        program: t.program.clone(),
        retval: r.retval,
        ctx: if is_syscall { r.ctx } else { Vec::new() },
    })
}

/// Run CMD and wait. With `--json` its stdout goes to our stderr, so that stdout holds only
/// the JSON object.
fn exec(cmd: &[std::ffi::OsString], json: bool) -> Result<ExecReport, Failure> {
    let shown = cmd
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let (program, args) = cmd
        .split_first()
        .ok_or_else(|| Failure::new("--exec: no command"))?;
    let mut c = Command::new(program);
    c.args(args);
    if json {
        c.stdout(Stdio::from(std::io::stderr()));
    }
    let status = c
        .status()
        .map_err(|e| Failure::new(format!("--exec {shown}: cannot run it: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(ExecReport {
        command: shown,
        code: status.code(),
        signal: status.signal(),
    })
}

type UserMap<'a> = (
    &'a MapSpec,
    mmbpf::map::MapInfo,
    Option<Entries>,
    Option<ReadVia>,
);

/// The user-defined maps (not global data), with their non-zero elements for arrays.
fn read_user_maps(obj: &Object) -> Result<Vec<UserMap<'_>>, Failure> {
    let mut out = Vec::new();
    for (spec, map) in obj.maps() {
        if spec.origin != MapOrigin::User {
            continue;
        }
        let info = map.info().clone();
        if !maps::listable(&info) {
            out.push((spec, info, None, None));
            continue;
        }
        let view = if info.is_mmapable() {
            Some(BytesView::map_ro(map)?)
        } else {
            None
        };
        let (entries, via) = match view {
            Some(v) => (maps::entries_from_view(&v)?, ReadVia::Mmap),
            None => (maps::entries_by_syscalls(map)?, ReadVia::Syscalls),
        };
        out.push((spec, info, Some(entries), Some(via)));
    }
    Ok(out)
}

/// Every global variable: `(name, section, bytes)`, read through the section's mapping.
fn read_globals(obj: &Object) -> Result<Vec<(String, String, Vec<u8>)>, Failure> {
    let mut out = Vec::new();
    for g in &obj.spec().globals {
        let v = obj.global_bytes(&g.name)?;
        out.push((g.name.clone(), g.section.clone(), v));
    }
    Ok(out)
}
