#!/usr/bin/env bash
# Boot tests of `cella run` on Debian's stock kernels (tests/boot/CMakeLists.txt).
# Usage: boot_test.sh kit | CASE CELLA_BINARY
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/tests/support/piped_vm.sh"
case_name=$1
cella=${CELLA_RUN_BINARY:-${2:-}}

if [[ $case_name == kit ]]; then
  "$repo/scripts/guest-kit" --flavour amd64 >/dev/null
  "$repo/scripts/guest-kit" --flavour cloud-amd64 >/dev/null
  exit 0
fi
[[ -x $cella ]] || { echo "no cella binary at '$cella'" >&2; exit 1; }

kit() { eval "$("$repo/scripts/guest-kit" --flavour "$1" --print-env)"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "---- console (last 60 lines) ----" >&2
  tail -n 60 "$log" >&2
  exit 1
}

# Boots `flavour` with `memory_mib` and cella.test=all: every guest test passes, and the guest's
# poweroff ends `cella run` with status 0.
all_tests() {
  local flavour=$1 memory_mib=$2 status=0
  kit "$flavour"
  "$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" --memory "$memory_mib" \
    --append "console=ttyS0 panic=-1 quiet cella.test=all cella.memory_mib=$memory_mib cella.host_time=$(date +%s)" \
    </dev/null >"$log" 2>&1 || status=$?
  [[ $status -eq 0 ]] || fail "cella run exited with $status, expected 0 (poweroff)"
  local expected=(clock cpu_features exceptions memory_size processes) name
  for name in "${expected[@]}"; do
    grep -q "^cella-test: $name: pass" "$log" || fail "guest test $name did not pass"
  done
  if grep -q "^cella-test: .*: fail" "$log"; then fail "a guest test failed"; fi
  echo "$flavour: ${#expected[@]} guest tests pass, poweroff exit status 0"
}

# A scripted console session on a pipe, as `expect` would drive it (with the bzImage's own
# decompressor running in the guest, --guest-decompress): wait for the shell's prompt,
# type a command, read its answer, then make the kernel panic; with panic=-1 it reboots, and
# `cella run` reports that with exit status 2. (Like a real UART, the guest's serial driver
# discards what arrives before it is opened, so scripts wait for the prompt.)
console_session_panic() {
  kit amd64
  piped_vm_start "$log" "$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" \
    --guest-decompress --append "console=ttyS0 panic=-1 quiet"
  piped_vm_wait_for "/ # " || { kill "$piped_vm_pid" 2>/dev/null; fail "no shell prompt"; }
  echo 'echo "answer=$((6 * 7))"' >&7
  piped_vm_wait_for "^answer=42" ||
    { kill "$piped_vm_pid" 2>/dev/null; fail "the shell did not run the piped command"; }
  echo 'echo c > /proc/sysrq-trigger' >&7
  piped_vm_finish
  grep -q "Kernel panic" "$log" || fail "the kernel did not panic"
  [[ $piped_vm_exit == 2 ]] || fail "cella run exited with $piped_vm_exit after the panic, expected 2"
  grep -q "cella run: the guest reset the machine" "$log" || fail "no message about the reset"
  echo "console session: piped command ran, panic -> reset -> exit status 2"
}

# Options the machine cannot honour, and bad files, are refused with exit status 1 and a
# message naming the problem; nothing boots.
refused_options() {
  local garbage=$log.garbage
  printf 'not a kernel' >"$garbage"
  kit amd64
  expect_refusal() {
    local message=$1 status=0
    shift
    "$cella" run "$@" </dev/null >"$log" 2>&1 || status=$?
    [[ $status -eq 1 ]] || fail "cella run $* exited with $status, expected 1"
    grep -q -- "$message" "$log" || fail "cella run $*: no message '$message'"
  }
  expect_refusal "runs one vCPU" --kernel "$CELLA_KERNEL" --cpus 4
  expect_refusal "KVM engine is not available" --kernel "$CELLA_KERNEL" --engine kvm
  expect_refusal "expected soft, kvm or auto" --kernel "$CELLA_KERNEL" --engine fast
  expect_refusal "unknown unit" --kernel "$CELLA_KERNEL" --memory 512X
  expect_refusal "outside 16 MiB" --kernel "$CELLA_KERNEL" --memory 8
  expect_refusal "$garbage" --kernel "$garbage"
  expect_refusal "not a Linux kernel" --kernel "$garbage"
  expect_refusal "/nonexistent/vmlinuz" --kernel /nonexistent/vmlinuz
  expect_refusal "/nonexistent/initrd" --kernel "$CELLA_KERNEL" --initrd /nonexistent/initrd
  rm -f "$garbage"
  echo "refused options: 9 cases exit 1 with a message"
}

case $case_name in
  terminal_session)
    kit amd64
    python3 "$repo/tests/boot/terminal_session.py" "$cella" "$CELLA_KERNEL" "$CELLA_INITRD"
    ;;
  refused_options) refused_options ;;
  amd64_all_tests) all_tests amd64 512 ;;
  cloud_all_tests) all_tests cloud-amd64 384 ;;
  console_session_panic) console_session_panic ;;
  *) echo "unknown case '$case_name'" >&2; exit 1 ;;
esac
