//! `BPF_PROG_TEST_RUN`: run a program once (or `repeat` times) on given input.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::Program;
use crate::error::{Errno, Error, ErrorKind, KernelVersion, Result};
use crate::sys;

/// Input for [`Program::test_run`].
#[derive(Clone, Debug, Default)]
pub struct TestRun {
    /// Packet data for packet programs (socket filters need at least an Ethernet header,
    /// 14 bytes).
    pub data: Vec<u8>,
    /// Room for output data (0: none requested).
    pub data_out_len: usize,
    /// The context, e.g. a syscall program's argument struct. Syscall programs may write it;
    /// the result comes back in [`TestRunResult::ctx`].
    pub ctx: Vec<u8>,
    /// Repetitions (0 and 1 both mean once).
    pub repeat: u32,
}

/// What [`Program::test_run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value.
    pub retval: u32,
    /// Average duration per run in nanoseconds, as measured by the kernel.
    pub duration_ns: u32,
    /// Output data (packet programs), cut to what the kernel produced.
    pub data: Vec<u8>,
    /// The context after the run (syscall programs write it back).
    pub ctx: Vec<u8>,
}

/// `BPF_PROG_TEST_RUN` arrived in 4.12; syscall programs (which only run this way) in 5.14.
pub const TEST_RUN_SINCE: KernelVersion = KernelVersion::new(4, 12);

impl Program {
    /// Run the program with `BPF_PROG_TEST_RUN`
    /// ([docs](https://docs.kernel.org/bpf/bpf_prog_run.html); 4.12, per program type:
    /// socket filters 4.12, syscall programs 5.14). Program types the kernel cannot test-run
    /// (tracepoints) fail with `ENOTSUPP`/`EINVAL`, explained in the error.
    pub fn test_run(&self, input: &TestRun) -> Result<TestRunResult> {
        let mut ctx = input.ctx.clone();
        let mut data_out = vec![0u8; input.data_out_len];
        let out = sys::prog_test_run(
            self.fd(),
            &input.data,
            if data_out.is_empty() {
                None
            } else {
                Some(&mut data_out)
            },
            &mut ctx,
            None,
            input.repeat,
        )
        .map_err(|e| {
            let err = Error::syscall(
                format!(
                    "BPF_PROG_TEST_RUN of program \"{}\" ({})",
                    self.name(),
                    self.kind().type_name()
                ),
                e,
            );
            match e {
                Errno::ENOTSUPP | Errno::EOPNOTSUPP => {
                    err.with_kind(ErrorKind::Unsupported).with_hint(format!(
                        "the kernel cannot test-run {} programs",
                        self.kind().type_name()
                    ))
                }
                Errno::EINVAL if self.kind().needs_packet_data() && input.data.len() < 14 => err
                    .with_hint(
                        "packet programs need input data of at least an Ethernet header (14 bytes)",
                    ),
                _ => err,
            }
        })?;
        data_out.truncate(out.data_size_out as usize);
        Ok(TestRunResult {
            retval: out.retval,
            duration_ns: out.duration_ns,
            data: data_out,
            ctx,
        })
    }
}
