#!/usr/bin/env bash
# virtio-blk benchmark from inside a guest: the same Debian kernel, initramfs and disk images
# under `cella run` (software CPU) and `qemu-system-x86_64 -accel tcg` (virtio-blk-pci), in one
# run. In the guest, /bench/blk_bench (bench/virtio_blk/blk_bench.c) measures /dev/vda with
# O_DIRECT at queue depth 1: sequential write and read in 1 MiB blocks, random 4 KiB write and
# read, SECONDS each, on a raw and on a qcow2 image (256 MiB, filled with data beforehand so
# both formats read allocated clusters; each VM gets a fresh copy), ROUNDS times alternating
# the two VMMs. Prints the best figure of each side by side with the ratio cella/qemu (> 1:
# Cella faster).
# Usage: bench/virtio_blk/run.sh CELLA_BINARY [SECONDS] [ROUNDS] [DIR]
#   SECONDS per pattern (default 5), ROUNDS (default 2); DIR holds the images (default
#   /var/tmp/cella-bench: put it on the disk to measure, not a tmpfs).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cella=${1:?usage: run.sh CELLA_BINARY [SECONDS] [ROUNDS] [DIR]}
seconds=${2:-5}
rounds=${3:-2}
dir=${4:-/var/tmp/cella-bench}
[[ -x $cella ]] || { echo "no cella binary at '$cella'" >&2; exit 1; }
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "SECONDS must be a positive integer, not '$seconds'" >&2; exit 1; }
[[ $rounds =~ ^[0-9]+$ && $rounds -gt 0 ]] || { echo "ROUNDS must be a positive integer, not '$rounds'" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || {
  echo "qemu-system-x86_64 is missing: apt-get install qemu-system-x86" >&2
  exit 1
}
eval "$("$repo/scripts/guest-kit" --print-env)"
mkdir -p "$dir"
work=$(mktemp -d "$dir/virtio-blk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The images: 256 MiB of pseudo-random data as raw, and the same converted to qcow2.
head -c $((256 << 20)) /dev/urandom >"$work/base.raw"
"$cella" img convert -q -f raw -O qcow2 "$work/base.raw" "$work/base.qcow2"
append="console=ttyS0 panic=-1 quiet cella.cmd=\"/bench/blk_bench /dev/vda $seconds\""

cella_vm() {  # image format
  "$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" --memory 512M \
    --append "$append" --disk "$1,format=$2"
}
qemu_vm() {  # image format
  qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$CELLA_KERNEL" -initrd "$CELLA_INITRD" -append "$append" \
    -drive "file=$1,format=$2,if=none,id=disk0" -device virtio-blk-pci,drive=disk0 \
    -device virtio-rng-pci
}

# Runs one VM on a fresh copy of the format's image; prints its "blk-bench:" lines.
measure() {  # vm format
  local copy=$work/run.$2 output
  cp --sparse=always "$work/base.$2" "$copy"
  output=$("$1" "$copy" "$2" </dev/null 2>&1 | tr -d '\r') || true
  rm -f "$copy"
  if ! grep -q '^cella-cmd: exit status 0' <<<"$output"; then
    echo "$1 on $2 failed; its console:" >&2
    tail -n 30 <<<"$output" >&2
    exit 1
  fi
  grep '^blk-bench: ' <<<"$output"
}

for ((round = 1; round <= rounds; ++round)); do
  for format in raw qcow2; do
    echo "round $round: $format under cella run" >&2
    measure cella_vm "$format" >>"$work/cella.$format"
    echo "round $round: $format under qemu-system-x86_64 -accel tcg" >&2
    measure qemu_vm "$format" >>"$work/qemu.$format"
  done
done

# The best of the rounds for a pattern: "MIB_PER_S IOPS".
best() {  # file pattern
  awk -v p="$2" '$2 == p && $6 > mib { mib = $6; iops = $7 } END { print mib, iops }' "$1"
}
ratio() { awk -v c="$1" -v q="$2" 'BEGIN { printf "%.2f", (q > 0 ? c / q : 0) }'; }
echo "virtio-blk inside the guest ($CELLA_KERNEL_VERSION, O_DIRECT, queue depth 1," \
  "$seconds s per pattern, 256 MiB images, best of $rounds)"
printf '%-7s %-11s %14s %14s %11s\n' format pattern cella qemu-tcg cella/qemu
for format in raw qcow2; do
  for name in seq-write seq-read rand-write rand-read; do
    read -r mib iops < <(best "$work/cella.$format" "$name")
    read -r qemu_mib qemu_iops < <(best "$work/qemu.$format" "$name")
    if [[ $name == seq-* ]]; then
      printf '%-7s %-11s %9s MiB/s %9s MiB/s %11s\n' "$format" "$name" "$mib" "$qemu_mib" \
        "$(ratio "$mib" "$qemu_mib")"
    else
      printf '%-7s %-11s %10s IOPS %10s IOPS %11s\n' "$format" "$name" "$iops" "$qemu_iops" \
        "$(ratio "$iops" "$qemu_iops")"
    fi
  done
done
