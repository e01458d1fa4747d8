#!/usr/bin/env bash
# Runs mmbpf's test binaries on the kernel it is started on and marks the output for
# vm-tests/run. Inside a virtme-ng guest: `vm-tests/guest.sh PLAN`; on the host itself:
# `vm-tests/guest.sh PLAN --host` (no mounts, the caller's environment).
#
# PLAN is a bash file written by vm-tests/run that sets REPO, BIN_TIMEOUT, the arrays TESTS
# ("label=path" per test binary), VM_EXCLUDE (labels not run in a guest), VM_SKIP (libtest
# --skip filters in a guest) and TEST_ARGS (extra libtest arguments).
set -u
plan=${1:?usage: guest.sh PLAN [--host]}
mode=${2:-guest}
# shellcheck source=/dev/null
. "$plan"

if [ "$mode" != --host ]; then
    # virtme-ng gives a clean environment; tests must fail, not skip, for lack of privileges.
    # MMBPF_VM=1: tests may shrink CPU-heavy, kernel-independent loops (TCG is slow).
    export CI=1 MMBPF_VM=1 HOME=/root LANG=C.UTF-8
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf ||
        echo "mmbpf-vm: warning: could not mount bpffs"
    mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
    mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing ||
        echo "mmbpf-vm: warning: could not mount tracefs"
fi
# What cargo would set at run time for `cargo test`.
export CARGO_MANIFEST_DIR="$REPO" RUST_BACKTRACE=1

echo "mmbpf-vm: proc-version $(cat /proc/version)"
echo "mmbpf-vm: up $(cut -d' ' -f1 /proc/uptime)s memlock $(ulimit -l) nproc $(nproc)"
cd "$REPO" || exit 2

skip_args=()
if [ "$mode" != --host ]; then
    for s in "${VM_SKIP[@]}"; do
        echo "mmbpf-vm: skipping $s"
        skip_args+=(--skip "$s")
    done
fi

status=0
for t in "${TESTS[@]}"; do
    label=${t%%=*} path=${t#*=}
    if [ "$mode" != --host ] && [[ " ${VM_EXCLUDE[*]} " == *" $label "* ]]; then
        echo "mmbpf-vm: excluded $label"
        continue
    fi
    echo "mmbpf-vm: begin $label"
    # --nocapture: skip lines are written to stderr by passing tests, which libtest would
    # otherwise swallow.
    timeout -k 5 "$BIN_TIMEOUT" "$path" --test-threads=1 --nocapture "${skip_args[@]}" "${TEST_ARGS[@]}" 2>&1
    rc=$?
    echo "mmbpf-vm: end $label rc=$rc"
    [ "$rc" -eq 0 ] || status=1
done
echo "mmbpf-vm: done"
exit "$status"
