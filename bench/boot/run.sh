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
# The bzImage's own decompressor in the guest, as QEMU runs it.
cella_guest_decompress_boot() {
  "$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" --memory 512M --append "$append" \
    --guest-decompress
}
qemu_boot() {
  qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$CELLA_KERNEL" -initrd "$CELLA_INITRD" -append "$append"
}

best() { sort -n | head -n1; }
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

declare -a cella_init cella_total guest_init guest_total qemu_init qemu_total
for ((r = 0; r < rounds; ++r)); do
  read -r i t < <(time_boot cella_boot)
  cella_init+=("$i") cella_total+=("$t")
  read -r i t < <(time_boot cella_guest_decompress_boot)
  guest_init+=("$i") guest_total+=("$t")
  read -r i t < <(time_boot qemu_boot)
  qemu_init+=("$i") qemu_total+=("$t")
  echo "round $((r + 1)): init after cella $(seconds "${cella_init[r]}") s," \
    "cella --guest-decompress $(seconds "${guest_init[r]}") s, qemu-tcg $(seconds "${qemu_init[r]}") s" >&2
done
min() { printf '%s\n' "$@" | best; }
ratio() { awk -v q="$1" -v c="$2" 'BEGIN { printf "%.2f", (c > 0 ? q / c : 0) }'; }
row() {  # label cella-ms qemu-ms
  printf '%-34s %9s s %9s s %8s\n' "$1" "$(seconds "$2")" "$(seconds "$3")" "$(ratio "$3" "$2")"
}
qi=$(min "${qemu_init[@]}")
qt=$(min "${qemu_total[@]}")
echo "boot ($CELLA_KERNEL_VERSION, 512 MiB, best of $rounds)"
printf '%-34s %11s %11s %8s\n' "" "cella" "qemu-tcg" "qemu/cella"
row "launch -> init" "$(min "${cella_init[@]}")" "$qi"
row "launch -> power off" "$(min "${cella_total[@]}")" "$qt"
row "launch -> init, --guest-decompress" "$(min "${guest_init[@]}")" "$qi"
row "launch -> off, --guest-decompress" "$(min "${guest_total[@]}")" "$qt"
