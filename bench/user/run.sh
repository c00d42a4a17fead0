#!/usr/bin/env bash
# The `cella user` benchmark, in one run:
#  1. instructions per second of the software CPU on four loops (loops.S: register
#     arithmetic, memory, calls, data-dependent branches), from `cella user --stats`;
#  2. wall time of compute programs natively, under qemu-x86_64 (Debian's qemu-user) and
#     under `cella user`, with the ratios: busybox sha256sum, md5sum and gzip on 4 MiB, and a
#     C kernel (compute.c: hashing, a matrix product, a sort).
# Usage: bench/user/run.sh CELLA      (use a release build: build/release/cella)
# Environment: REPEAT=n takes the best of n runs (default 3); DATA_MIB sets the input size.
set -euo pipefail
cella=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
repeat=${REPEAT:-3}
mib=${DATA_MIB:-4}
busybox=$(command -v busybox)
qemu=$(command -v qemu-x86_64 || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/cella-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -nostdlib -static -no-pie -o "$work/loops" "$here/loops.S"
gcc -static -O2 -o "$work/compute" "$here/compute.c"
# Compressible, deterministic text (hex words from a Lehmer generator).
"$busybox" awk -v bytes=$((mib << 20)) 'BEGIN {
  s = 1
  while (n < bytes) {
    s = (s * 48271) % 2147483647
    line = sprintf("%x %x %d\n", s, s % 65521, s % 1000)
    printf "%s", line
    n += length(line)
  }
}' >"$work/data"

# Best wall time in seconds of `"$@"` over $repeat runs (output discarded).
best_time() {
  local best="" start end t
  for ((i = 0; i < repeat; ++i)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  echo "$best"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }

echo "cella user benchmark: $(uname -m), $(nproc) CPUs, best of $repeat runs"
echo
echo "1. Software CPU speed on loops (retired instructions / time)"
printf "%-10s %14s %9s %10s\n" loop instructions seconds MIPS
for loop in alu memory calls branches; do
  stats=$("$cella" user --stats "$work/loops" "$loop" 2>&1 >/dev/null | tail -1)
  # "cella: N instructions in T s (M MIPS)"
  read -r instructions seconds mips < <(echo "$stats" |
    awk '{ gsub(/[()]/, ""); print $2, $5, $7 }')
  printf "%-10s %14s %9s %10s\n" "$loop" "$instructions" "$seconds" "$mips"
done
echo
echo "2. Wall time (seconds) natively, under qemu-x86_64 and under cella user"
printf "%-22s %9s %9s %9s %14s %12s\n" program native qemu cella "cella/native" "cella/qemu"
run() {
  local name=$1
  shift
  local native qemu_time cella_time
  native=$(best_time "$@")
  if [[ -n $qemu ]]; then qemu_time=$(best_time "$qemu" "$@"); else qemu_time=0; fi
  cella_time=$(best_time "$cella" user "$@")
  printf "%-22s %9s %9s %9s %14s %12s\n" "$name" "$native" "$qemu_time" "$cella_time" \
    "$(ratio "$cella_time" "$native")" "$(ratio "$cella_time" "$qemu_time")"
}
run "sha256sum ${mib} MiB" "$busybox" sha256sum "$work/data"
run "md5sum ${mib} MiB" "$busybox" md5sum "$work/data"
run "gzip -6 ${mib} MiB" "$busybox" gzip -6 -c "$work/data"
run "compute.c" "$work/compute"
run "loops alu" "$work/loops" alu
