//! Hand-written command-line parsing: `argv` in, a [`Command`] or a [`UsageError`] out.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The usage text printed by `--help` and after a usage error.
pub const USAGE: &str = "\
usage: mmbpf                      run the demo (counter.bpf.o: per-syscall counts read
                                  through mmap and through bpf(2) syscalls)
       mmbpf inspect OBJ [--json]
       mmbpf run OBJ [--set NAME=VALUE]... [--test-run PROG[=HEX]]... [--json]
                     [--exec CMD ARGS...]
       mmbpf dump (PINNED_PATH | --id N) [--json] [--watch SECS]
       mmbpf help | --help | -h

inspect   list the programs, maps and global variables of a BPF object (no privileges)
run       load OBJ (after setting globals with --set; VALUE is decimal, -decimal or 0x-hex),
          attach every program whose section names an attach point, test-run each
          --test-run program once (HEX: input bytes, the packet for socket filters or the
          context for syscall programs; default 64 zero bytes), run CMD and wait for it,
          detach, then print the non-zero elements of every map and every global variable
          (read through mmap where the map allows it, else with syscalls)
dump      print the non-zero elements of an existing array map, pinned on bpffs or by id,
          through mmap; --watch prints again every second for SECS seconds from the same
          mapping (memory reads only: no bpf(2) call per refresh)
--json    print one JSON object on stdout instead of text (dump --watch: one per line and
          refresh; run: CMD's stdout goes to stderr)";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `mmbpf` alone.
    Demo,
    /// `help`, `--help`, `-h`.
    Help,
    /// `inspect OBJ [--json]`.
    Inspect { object: PathBuf, json: bool },
    /// `run OBJ ...`.
    Run(RunArgs),
    /// `dump ...`.
    Dump(DumpArgs),
}

/// Arguments of `run`.
#[derive(Debug, PartialEq, Eq)]
pub struct RunArgs {
    /// The object file.
    pub object: PathBuf,
    /// `--set NAME=VALUE`, in order.
    pub sets: Vec<SetArg>,
    /// `--test-run PROG[=HEX]`, in order.
    pub test_runs: Vec<TestRunArg>,
    /// `--json`.
    pub json: bool,
    /// `--exec CMD ARGS...`: everything after `--exec`.
    pub exec: Option<Vec<OsString>>,
}

/// `--set NAME=VALUE`: an integer for a global variable.
#[derive(Debug, PartialEq, Eq)]
pub struct SetArg {
    /// The variable.
    pub name: String,
    /// The value as written.
    pub value: Int,
}

/// An integer from the command line: decimal, `-`decimal or `0x`-hex.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Int {
    /// Non-negative.
    Unsigned(u64),
    /// Negative (two's complement when stored).
    Negative(i64),
}

impl Int {
    /// The value as `size` little-endian bytes (1, 2, 4 or 8), or `None` if it does not fit
    /// (unsigned range for non-negative values, signed range for negative ones).
    pub fn to_le_bytes(self, size: usize) -> Option<Vec<u8>> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return None;
        }
        let bits = size as u32 * 8;
        let raw = match self {
            Int::Unsigned(v) => {
                if bits < 64 && v >> bits != 0 {
                    return None;
                }
                v
            }
            Int::Negative(v) => {
                if bits < 64 && v < -(1i64 << (bits - 1)) {
                    return None;
                }
                v as u64
            }
        };
        Some(raw.to_le_bytes()[..size].to_vec())
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Int::Unsigned(v) => write!(f, "{v}"),
            Int::Negative(v) => write!(f, "{v}"),
        }
    }
}

/// `--test-run PROG[=HEX]`.
#[derive(Debug, PartialEq, Eq)]
pub struct TestRunArg {
    /// The program name.
    pub program: String,
    /// Input bytes, when given.
    pub input: Option<Vec<u8>>,
}

/// Which map `dump` opens.
#[derive(Debug, PartialEq, Eq)]
pub enum MapSource {
    /// A path on bpffs.
    Pinned(PathBuf),
    /// A kernel map id.
    Id(u32),
}

/// Arguments of `dump`.
#[derive(Debug, PartialEq, Eq)]
pub struct DumpArgs {
    /// The map.
    pub source: MapSource,
    /// `--json`.
    pub json: bool,
    /// `--watch SECS`.
    pub watch: Option<u32>,
}

/// A command line that does not follow the usage; the message says what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = Args::new(args);
    let Some(sub) = args.next() else {
        return Ok(Command::Demo);
    };
    match sub.to_str() {
        Some("help" | "--help" | "-h") => {
            if let Some(extra) = args.next() {
                return usage(format!("unexpected argument {:?} after help", extra));
            }
            Ok(Command::Help)
        }
        Some("inspect") => parse_inspect(&mut args),
        Some("run") => parse_run(&mut args),
        Some("dump") => parse_dump(&mut args),
        Some(s) if s.starts_with('-') => usage(format!(
            "unknown option {s:?} (commands: inspect, run, dump)"
        )),
        _ => usage(format!(
            "unknown command {sub:?} (commands: inspect, run, dump)"
        )),
    }
}

/// The argument list, with `--opt=value` split into `--opt` and a pending value.
struct Args {
    items: std::vec::IntoIter<OsString>,
    /// The value of a `--opt=value` argument just returned as `--opt`.
    pending: Option<OsString>,
}

impl Args {
    fn new(args: impl IntoIterator<Item = OsString>) -> Self {
        Args {
            items: args.into_iter().collect::<Vec<_>>().into_iter(),
            pending: None,
        }
    }

    /// The next raw argument (no `=` splitting), or an error if a `--opt=value` value was
    /// left unused.
    fn next(&mut self) -> Option<OsString> {
        self.items.next()
    }

    /// The next argument; a long option `--opt=value` comes back as `--opt` and its value is
    /// kept for [`Args::value`].
    fn next_arg(&mut self, cmd: &str) -> Result<Option<Arg>, UsageError> {
        if let Some(v) = self.pending.take() {
            return usage(format!("{cmd}: option does not take a value: {v:?}"));
        }
        let Some(a) = self.items.next() else {
            return Ok(None);
        };
        let Some(s) = a.to_str() else {
            return Ok(Some(Arg::Positional(a)));
        };
        if s == "--" {
            return Ok(Some(Arg::DashDash));
        }
        if let Some(long) = s.strip_prefix("--") {
            if let Some((name, value)) = long.split_once('=') {
                self.pending = Some(OsString::from(value));
                return Ok(Some(Arg::Option(format!("--{name}"))));
            }
            return Ok(Some(Arg::Option(s.to_string())));
        }
        if s.starts_with('-') && s.len() > 1 && !is_negative_number(s) {
            return Ok(Some(Arg::Option(s.to_string())));
        }
        Ok(Some(Arg::Positional(a)))
    }

    /// The value of the option just returned by [`Args::next_arg`].
    fn value(&mut self, cmd: &str, opt: &str) -> Result<OsString, UsageError> {
        if let Some(v) = self.pending.take() {
            return Ok(v);
        }
        match self.items.next() {
            Some(v) => Ok(v),
            None => usage(format!("{cmd}: {opt} needs a value")),
        }
    }

    /// The value as UTF-8.
    fn str_value(&mut self, cmd: &str, opt: &str) -> Result<String, UsageError> {
        let v = self.value(cmd, opt)?;
        v.into_string()
            .map_err(|v| UsageError(format!("{cmd}: {opt}: value {v:?} is not UTF-8")))
    }

    /// A flag must not have a `=value`.
    fn no_value(&mut self, cmd: &str, opt: &str) -> Result<(), UsageError> {
        match self.pending.take() {
            Some(v) => usage(format!("{cmd}: {opt} does not take a value (got {v:?})")),
            None => Ok(()),
        }
    }

    /// Everything left, raw.
    fn rest(&mut self) -> Vec<OsString> {
        self.items.by_ref().collect()
    }
}

enum Arg {
    Option(String),
    Positional(OsString),
    DashDash,
}

fn is_negative_number(s: &str) -> bool {
    s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_inspect(args: &mut Args) -> Result<Command, UsageError> {
    const CMD: &str = "inspect";
    let mut object = None;
    let mut json = false;
    let mut only_positional = false;
    while let Some(a) = next(args, CMD, only_positional)? {
        match a {
            Arg::Option(o) if o == "--json" => {
                args.no_value(CMD, &o)?;
                json = true;
            }
            Arg::Option(o) => return usage(format!("{CMD}: unknown option {o:?}")),
            Arg::DashDash => only_positional = true,
            Arg::Positional(p) => set_once(&mut object, p, CMD, "OBJ")?,
        }
    }
    let Some(object) = object else {
        return usage(format!("{CMD}: missing OBJ (the BPF object file)"));
    };
    Ok(Command::Inspect {
        object: PathBuf::from(object),
        json,
    })
}

fn parse_run(args: &mut Args) -> Result<Command, UsageError> {
    const CMD: &str = "run";
    let mut object = None;
    let mut sets = Vec::new();
    let mut test_runs = Vec::new();
    let mut json = false;
    let mut exec = None;
    let mut only_positional = false;
    while let Some(a) = next(args, CMD, only_positional)? {
        match a {
            Arg::Option(o) => match o.as_str() {
                "--json" => {
                    args.no_value(CMD, &o)?;
                    json = true;
                }
                "--set" => {
                    let v = args.str_value(CMD, &o)?;
                    sets.push(parse_set(&v)?);
                }
                "--test-run" => {
                    let v = args.str_value(CMD, &o)?;
                    test_runs.push(parse_test_run(&v)?);
                }
                "--exec" => {
                    if let Some(v) = args.pending.take() {
                        return usage(format!(
                            "{CMD}: --exec takes the rest of the command line, not ={v:?}"
                        ));
                    }
                    let rest = args.rest();
                    if rest.is_empty() {
                        return usage(format!("{CMD}: --exec needs a command"));
                    }
                    exec = Some(rest);
                }
                _ => return usage(format!("{CMD}: unknown option {o:?}")),
            },
            Arg::DashDash => only_positional = true,
            Arg::Positional(p) => set_once(&mut object, p, CMD, "OBJ")?,
        }
    }
    let Some(object) = object else {
        return usage(format!("{CMD}: missing OBJ (the BPF object file)"));
    };
    Ok(Command::Run(RunArgs {
        object: PathBuf::from(object),
        sets,
        test_runs,
        json,
        exec,
    }))
}

fn parse_dump(args: &mut Args) -> Result<Command, UsageError> {
    const CMD: &str = "dump";
    let mut path = None;
    let mut id = None;
    let mut json = false;
    let mut watch = None;
    let mut only_positional = false;
    while let Some(a) = next(args, CMD, only_positional)? {
        match a {
            Arg::Option(o) => match o.as_str() {
                "--json" => {
                    args.no_value(CMD, &o)?;
                    json = true;
                }
                "--id" => {
                    let v = args.str_value(CMD, &o)?;
                    let n = parse_u64(&v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            UsageError(format!(
                                "{CMD}: --id: {v:?} is not a map id (a 32-bit number)"
                            ))
                        })?;
                    set_once(&mut id, n, CMD, "--id")?;
                }
                "--watch" => {
                    let v = args.str_value(CMD, &o)?;
                    let n = parse_u64(&v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            UsageError(format!("{CMD}: --watch: {v:?} is not a number of seconds"))
                        })?;
                    set_once(&mut watch, n, CMD, "--watch")?;
                }
                _ => return usage(format!("{CMD}: unknown option {o:?}")),
            },
            Arg::DashDash => only_positional = true,
            Arg::Positional(p) => set_once(&mut path, p, CMD, "PINNED_PATH")?,
        }
    }
    let source = match (path, id) {
        (Some(p), None) => MapSource::Pinned(PathBuf::from(p)),
        (None, Some(id)) => MapSource::Id(id),
        (Some(_), Some(_)) => return usage(format!("{CMD}: give PINNED_PATH or --id N, not both")),
        (None, None) => return usage(format!("{CMD}: missing PINNED_PATH or --id N")),
    };
    Ok(Command::Dump(DumpArgs {
        source,
        json,
        watch,
    }))
}

fn next(args: &mut Args, cmd: &str, only_positional: bool) -> Result<Option<Arg>, UsageError> {
    if only_positional {
        return Ok(args.next().map(Arg::Positional));
    }
    args.next_arg(cmd)
}

fn set_once<T>(slot: &mut Option<T>, value: T, cmd: &str, what: &str) -> Result<(), UsageError> {
    if slot.is_some() {
        return usage(format!("{cmd}: {what} given twice"));
    }
    *slot = Some(value);
    Ok(())
}

/// `NAME=VALUE`.
fn parse_set(s: &str) -> Result<SetArg, UsageError> {
    let Some((name, value)) = s.split_once('=') else {
        return usage(format!("run: --set {s:?}: expected NAME=VALUE"));
    };
    if name.is_empty() {
        return usage(format!("run: --set {s:?}: the variable name is empty"));
    }
    let value = parse_int(value).ok_or_else(|| {
        UsageError(format!("run: --set {name}: {value:?} is not a number (decimal, -decimal or 0x-hex, up to 64 bits)"))
    })?;
    Ok(SetArg {
        name: name.to_string(),
        value,
    })
}

/// `PROG` or `PROG=HEX`.
fn parse_test_run(s: &str) -> Result<TestRunArg, UsageError> {
    let (program, input) = match s.split_once('=') {
        Some((p, hex)) => {
            let bytes = parse_hex_bytes(hex).ok_or_else(|| {
                UsageError(format!(
                    "run: --test-run {p}: {hex:?} is not an even number of hex digits"
                ))
            })?;
            (p, Some(bytes))
        }
        None => (s, None),
    };
    if program.is_empty() {
        return usage(format!("run: --test-run {s:?}: the program name is empty"));
    }
    Ok(TestRunArg {
        program: program.to_string(),
        input,
    })
}

/// Decimal or `0x`-hex `u64`.
pub fn parse_u64(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok();
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decimal, `-`decimal or `0x`-hex.
pub fn parse_int(s: &str) -> Option<Int> {
    if let Some(neg) = s.strip_prefix('-') {
        if neg.is_empty() || !neg.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: i64 = s.parse().ok()?;
        return Some(if v == 0 {
            Int::Unsigned(0)
        } else {
            Int::Negative(v)
        });
    }
    parse_u64(s).map(Int::Unsigned)
}

/// Hex digits, two per byte; spaces and `:` between bytes are allowed.
pub fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'_'))
        .collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn no_arguments_is_the_demo() {
        assert_eq!(p(&[]), Ok(Command::Demo));
        assert_eq!(p(&["--help"]), Ok(Command::Help));
        assert_eq!(p(&["help"]), Ok(Command::Help));
        assert_eq!(p(&["-h"]), Ok(Command::Help));
    }

    #[test]
    fn inspect() {
        assert_eq!(
            p(&["inspect", "a.o"]),
            Ok(Command::Inspect {
                object: "a.o".into(),
                json: false
            })
        );
        assert_eq!(
            p(&["inspect", "--json", "a.o"]),
            Ok(Command::Inspect {
                object: "a.o".into(),
                json: true
            })
        );
        assert_eq!(
            p(&["inspect", "--", "--json"]),
            Ok(Command::Inspect {
                object: "--json".into(),
                json: false
            })
        );
        assert!(p(&["inspect"]).unwrap_err().0.contains("missing OBJ"));
        assert!(p(&["inspect", "a", "b"]).unwrap_err().0.contains("twice"));
        assert!(p(&["inspect", "a", "--jsn"])
            .unwrap_err()
            .0
            .contains("unknown option \"--jsn\""));
        assert!(p(&["inspect", "a", "--json=1"])
            .unwrap_err()
            .0
            .contains("does not take a value"));
    }

    #[test]
    fn run_collects_sets_test_runs_and_exec() {
        let c = p(&[
            "run",
            "x.o",
            "--set",
            "a=1",
            "--set=b=0x10",
            "--set",
            "c=-1",
            "--test-run",
            "prog",
            "--test-run=q=00ff",
            "--json",
            "--exec",
            "sh",
            "-c",
            "echo --json",
        ])
        .unwrap();
        let Command::Run(r) = c else { panic!("{c:?}") };
        assert_eq!(r.object, PathBuf::from("x.o"));
        assert_eq!(
            r.sets,
            vec![
                SetArg {
                    name: "a".into(),
                    value: Int::Unsigned(1)
                },
                SetArg {
                    name: "b".into(),
                    value: Int::Unsigned(16)
                },
                SetArg {
                    name: "c".into(),
                    value: Int::Negative(-1)
                },
            ]
        );
        assert_eq!(
            r.test_runs,
            vec![
                TestRunArg {
                    program: "prog".into(),
                    input: None
                },
                TestRunArg {
                    program: "q".into(),
                    input: Some(vec![0, 0xff])
                }
            ]
        );
        assert!(r.json);
        assert_eq!(
            r.exec,
            Some(vec!["sh".into(), "-c".into(), "echo --json".into()])
        );
    }

    #[test]
    fn run_errors() {
        assert!(p(&["run"]).unwrap_err().0.contains("missing OBJ"));
        assert!(p(&["run", "x.o", "--set"])
            .unwrap_err()
            .0
            .contains("--set needs a value"));
        assert!(p(&["run", "x.o", "--set", "a"])
            .unwrap_err()
            .0
            .contains("NAME=VALUE"));
        assert!(p(&["run", "x.o", "--set", "=1"])
            .unwrap_err()
            .0
            .contains("empty"));
        assert!(p(&["run", "x.o", "--set", "a=12x"])
            .unwrap_err()
            .0
            .contains("not a number"));
        assert!(p(&["run", "x.o", "--set", "a=0x"])
            .unwrap_err()
            .0
            .contains("not a number"));
        assert!(p(&["run", "x.o", "--set", "a=18446744073709551616"])
            .unwrap_err()
            .0
            .contains("not a number"));
        assert!(p(&["run", "x.o", "--test-run", "p=abc"])
            .unwrap_err()
            .0
            .contains("hex"));
        assert!(p(&["run", "x.o", "--exec"])
            .unwrap_err()
            .0
            .contains("needs a command"));
        assert!(p(&["run", "--exec", "true"])
            .unwrap_err()
            .0
            .contains("missing OBJ"));
    }

    #[test]
    fn dump() {
        assert_eq!(
            p(&["dump", "/sys/fs/bpf/m"]),
            Ok(Command::Dump(DumpArgs {
                source: MapSource::Pinned("/sys/fs/bpf/m".into()),
                json: false,
                watch: None
            }))
        );
        assert_eq!(
            p(&["dump", "--id", "0x10", "--json", "--watch=3"]),
            Ok(Command::Dump(DumpArgs {
                source: MapSource::Id(16),
                json: true,
                watch: Some(3)
            }))
        );
        assert!(p(&["dump"]).unwrap_err().0.contains("missing PINNED_PATH"));
        assert!(p(&["dump", "a", "--id", "1"])
            .unwrap_err()
            .0
            .contains("not both"));
        assert!(p(&["dump", "--id", "-1"])
            .unwrap_err()
            .0
            .contains("not a map id"));
        assert!(p(&["dump", "--id", "4294967296"])
            .unwrap_err()
            .0
            .contains("not a map id"));
        assert!(p(&["dump", "a", "--watch", "x"])
            .unwrap_err()
            .0
            .contains("seconds"));
    }

    #[test]
    fn unknown_commands() {
        assert!(p(&["frob"]).unwrap_err().0.contains("unknown command"));
        assert!(p(&["--frob"]).unwrap_err().0.contains("unknown option"));
        assert!(p(&["help", "x"]).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("0"), Some(Int::Unsigned(0)));
        assert_eq!(parse_int("-0"), Some(Int::Unsigned(0)));
        assert_eq!(
            parse_int("0xFFFFFFFFFFFFFFFF"),
            Some(Int::Unsigned(u64::MAX))
        );
        assert_eq!(
            parse_int("-9223372036854775808"),
            Some(Int::Negative(i64::MIN))
        );
        assert_eq!(parse_int("-9223372036854775809"), None);
        assert_eq!(parse_int("+1"), None);
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(Int::Unsigned(255).to_le_bytes(1), Some(vec![255]));
        assert_eq!(Int::Unsigned(256).to_le_bytes(1), None);
        assert_eq!(Int::Negative(-1).to_le_bytes(2), Some(vec![255, 255]));
        assert_eq!(Int::Negative(-128).to_le_bytes(1), Some(vec![0x80]));
        assert_eq!(Int::Negative(-129).to_le_bytes(1), None);
        assert_eq!(Int::Unsigned(3).to_le_bytes(4), Some(vec![3, 0, 0, 0]));
        assert_eq!(Int::Unsigned(3).to_le_bytes(3), None);
        assert_eq!(Int::Negative(-1).to_le_bytes(8), Some(vec![255; 8]));
    }

    #[test]
    fn hex_bytes() {
        assert_eq!(parse_hex_bytes(""), Some(vec![]));
        assert_eq!(parse_hex_bytes("0aFF"), Some(vec![10, 255]));
        assert_eq!(parse_hex_bytes("0a:ff 01"), Some(vec![10, 255, 1]));
        assert_eq!(parse_hex_bytes("0g"), None);
        assert_eq!(parse_hex_bytes("0"), None);
    }
}
