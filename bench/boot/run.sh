#!/usr/bin/env bash
# Boot-to-init benchmark: the same Debian kernel, initramfs and command line booted under
# `cella run` (software CPU) and under `qemu-system-x86_64 -accel tcg` (QEMU's binary
# translator), in one run. For each it prints the wall time from launch to the guest's first
# init line ("cella-guest: init started") and to power off, and the ratio QEMU / Cella (> 1:
# Cella faster).
# Usage: bench/boot/run.sh CELLA_BINARY [ROUNDS] [FLAVOUR]    (defaults: 3 rounds, amd64)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cella=${1:?usage: run.sh CELLA_BINARY [ROUNDS] [FLAVOUR]}
rounds=${2:-3}
flavour=${3:-amd64}
command -v qemu-system-x86_64 >/dev/null || {
  echo "qemu-system-x86_64 is missing: apt-get install qemu-system-x86" >&2
  exit 1
}
eval "$("$repo/scripts/guest-kit" --flavour "$flavour" --print-env)"
append="console=ttyS0 panic=-1 quiet cella.cmd=\"true\""

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Runs "$@" and prints "<ms to init line> <ms to exit>".
time_boot() {
  local start init_ms=0 line
  start=$(now_ms)
  while IFS= read -r line; do
    if [[ $init_ms -eq 0 && $line == *"cella-guest: init started"* ]]; then
      init_ms=$(($(now_ms) - start))
    fi
  done < <("$@" </dev/null 2>&1)
  echo "$init_ms $(($(now_ms) - start))"
}

cella_boot() {
  "$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" --memory 512M --append "$append"
}
qemu_boot() {
  qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$CELLA_KERNEL" -initrd "$CELLA_INITRD" -append "$append"
}

best() { sort -n | head -n1; }
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

declare -a cella_init cella_total qemu_init qemu_total
for ((r = 0; r < rounds; ++r)); do
  read -r i t < <(time_boot cella_boot)
  cella_init+=("$i") cella_total+=("$t")
  read -r i t < <(time_boot qemu_boot)
  qemu_init+=("$i") qemu_total+=("$t")
  echo "round $((r + 1)): cella init $(seconds "${cella_init[r]}") s, qemu-tcg init $(seconds "${qemu_init[r]}") s" >&2
done
ci=$(printf '%s\n' "${cella_init[@]}" | best)
ct=$(printf '%s\n' "${cella_total[@]}" | best)
qi=$(printf '%s\n' "${qemu_init[@]}" | best)
qt=$(printf '%s\n' "${qemu_total[@]}" | best)
ratio() { awk -v q="$1" -v c="$2" 'BEGIN { printf "%.2f", (c > 0 ? q / c : 0) }'; }
echo "boot ($CELLA_KERNEL_VERSION, 512 MiB, best of $rounds)   cella      qemu-tcg   qemu/cella"
echo "launch -> init                          $(seconds "$ci") s   $(seconds "$qi") s   $(ratio "$qi" "$ci")"
echo "launch -> power off                     $(seconds "$ct") s   $(seconds "$qt") s   $(ratio "$qt" "$ct")"
