#!/usr/bin/env bash
# Virtio tests of `cella run` (tests/virtio/CMakeLists.txt, label `virtio`): Debian's stock
# kernels drive the virtio-blk, virtio-console and virtio-rng devices; guest programs
# (tests/guest/virtio/, run as cella.test=virtio/NAME) check them from the inside, and this
# script checks the disk images after power off (qemu-img check and map, checksums).
# Usage: virtio_test.sh CASE CELLA_BINARY        (CELLA_RUN_BINARY overrides CELLA_BINARY)
#   VIRTIO_TEST_VMM=qemu virtio_test.sh CASE CELLA_BINARY
#     runs the same case on QEMU's virtio devices (qemu-system-x86_64 -accel tcg), to show the
#     cases hold on a reference; development only (CTest registers the cella form). The cella
#     binary is still used for `cella img`.
# Cases: fs_roundtrip host_disk read_only two_disks discard rng virtio_console console_session
#        debian_rootfs refused_disks intx
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/tests/support/piped_vm.sh"
case_name=${1:?usage: virtio_test.sh CASE CELLA_BINARY}
cella=${CELLA_RUN_BINARY:-${2:-}}
vmm=${VIRTIO_TEST_VMM:-cella}
[[ -x $cella ]] || { echo "no cella binary at '$cella'" >&2; exit 1; }
case $vmm in
  cella) ;;
  qemu) command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing" >&2; exit 1; } ;;
  *) echo "VIRTIO_TEST_VMM must be cella or qemu, not '$vmm'" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/console.log
fail() {
  echo "FAIL ($vmm): $*" >&2
  if [[ -f $log ]]; then
    echo "---- console (last 60 lines) ----" >&2
    tail -n 60 "$log" >&2
  fi
  exit 1
}

kit() { eval "$("$repo/scripts/guest-kit" --flavour "$1" --print-env)"; }

# The VMM command line, in one place. Options: --disk PATH,format=FMT[,readonly=on]
# (repeatable: vda, vdb, ... in order), --console serial|virtio; then the kernel command line's
# own part (console=, panic=-1 and quiet are added). Fills the array `vmm_command`.
vmm_command=()
make_command() {
  local disks=() console=serial
  while [[ $1 == --* ]]; do
    case $1 in
      --disk) disks+=("$2") ;;
      --console) console=$2 ;;
      *) fail "make_command: unknown option $1" ;;
    esac
    shift 2
  done
  local device=ttyS0
  if [[ $console == virtio ]]; then device=hvc0; fi
  local append="console=$device panic=-1 quiet $1" disk index=0
  case $vmm in
    cella)
      vmm_command=("$cella" run --kernel "$CELLA_KERNEL" --initrd "$CELLA_INITRD" --memory 512M
        --append "$append")
      for disk in "${disks[@]}"; do vmm_command+=(--disk "$disk"); done
      if [[ $console == virtio ]]; then vmm_command+=(--console virtio); fi
      ;;
    qemu)
      vmm_command=(qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -nodefaults
        -kernel "$CELLA_KERNEL" -initrd "$CELLA_INITRD" -append "$append" -device virtio-rng-pci)
      for disk in "${disks[@]}"; do
        vmm_command+=(-drive "file=$disk,if=none,id=disk$index,discard=unmap"
          -device "virtio-blk-pci,drive=disk$index")
        index=$((index + 1))
      done
      if [[ $console == virtio ]]; then
        vmm_command+=(-chardev stdio,id=console0 -device virtio-serial-pci
          -device virtconsole,chardev=console0)
      else
        vmm_command+=(-serial stdio)
      fi
      ;;
  esac
}

# Boots with make_command's arguments, stdin closed, the console in $log; fails unless the
# guest powered off (exit status 0) after its init started with every module loaded.
boot() {
  make_command "$@"
  local status=0
  timeout 600 "${vmm_command[@]}" </dev/null >"$log" 2>&1 || status=$?
  [[ $status -ne 124 ]] || fail "the VM did not power off within 600 s"
  [[ $status -eq 0 ]] || fail "${vmm_command[0]} exited with $status, expected 0 (power off)"
  grep -q "cella-guest: init started" "$log" || fail "the guest's init did not start"
  if grep -q "cella-guest: module\|cella-guest: this initramfs has modules" "$log"; then
    fail "a kernel module did not load"
  fi
}
passed() {
  local name
  for name in "$@"; do
    grep -q "^cella-test: $name: pass" "$log" || fail "guest test $name did not pass"
  done
}
console_text() { tr -d '\r' <"$log"; }
# A guest's "key: value" line.
guest_value() { console_text | sed -n "s/^$1: //p" | tail -n1; }
file_size() { stat -c %s "$1"; }
checksum() { sha256sum "$1" | cut -d' ' -f1; }
# Bytes in [START, END) of an image that `qemu-img map` reports with data (KIND data) or
# backed by host storage (KIND offset).
mapped_bytes() {  # image format kind start end
  qemu-img map -f "$2" --output=json "$1" | python3 -c 'import json, sys
kind, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(sum(max(0, min(end, e["start"] + e["length"]) - max(start, e["start"]))
          for e in json.load(sys.stdin) if (e["data"] if kind == "data" else "offset" in e)))' "$3" "$4" "$5"
}
# Whether LENGTH bytes at OFFSET of an image read as zeros on the host (qemu-io).
reads_zeros() {  # image format offset length
  local output
  output=$(qemu-io -r -f "$2" -c "read -P 0 $3 $4" "$1" 2>&1 || true)
  grep -q "^read " <<<"$output" && ! grep -q "Pattern verification failed" <<<"$output"
}
image_clean() {  # image format
  qemu-img check -q -f "$2" "$1" || fail "qemu-img check finds $1 damaged"
  "$cella" img check -q -f "$2" "$1" || fail "cella img check finds $1 damaged"
}

# Two boots on a qcow2 made by `cella img create`: the first makes ext4 and writes a tree of
# files, the second checks the file system (e2fsck) and every file; both print the same digest.
fs_roundtrip() {
  kit amd64
  local image=$work/disk.qcow2
  "$cella" img create -q -f qcow2 "$image" 64M
  boot --disk "$image,format=qcow2" "cella.test=virtio/fs_write"
  passed virtio/fs_write
  local written
  written=$(guest_value fs-digest)
  [[ -n $written ]] || fail "fs_write printed no digest"
  image_clean "$image" qcow2
  boot --disk "$image,format=qcow2" "cella.test=virtio/fs_verify"
  passed virtio/fs_verify
  [[ $(guest_value fs-digest) == "$written" ]] || fail "the second boot read other files"
  image_clean "$image" qcow2
  echo "fs round trip: 10 files written, verified on a second boot (e2fsck clean), image clean"
}

# An ext4 image made on the host (mkfs.ext4 -d) with files of random contents, nested folders,
# a sparse file and a name with a space, converted to qcow2 by qemu-img: $host_image.
host_tree=$work/tree host_image=$work/host.qcow2
make_host_disk() {
  mkdir -p "$host_tree/nested/deeper" "$host_tree/empty-folder"
  : >"$host_tree/empty"
  head -c 1 /dev/urandom >"$host_tree/one-byte"
  head -c 4097 /dev/urandom >"$host_tree/nested/page-plus-one"
  head -c $((1024 * 1024 + 1)) /dev/urandom >"$host_tree/nested/deeper/one-mib-plus-one"
  head -c $((3 * 1024 * 1024)) /dev/urandom >"$host_tree/with space.bin"
  truncate -s 8M "$host_tree/sparse"
  head -c 5000 /dev/urandom | dd of="$host_tree/sparse" bs=4096 seek=1000 conv=notrunc status=none
  mkfs.ext4 -q -F -L host-files -d "$host_tree" "$work/host.raw" 32M >/dev/null
  qemu-img convert -f raw -O qcow2 "$work/host.raw" "$host_image"
  rm -f "$work/host.raw"
}
host_sums() { (cd "$host_tree" && find . -type f | LC_ALL=C sort | tr '\n' '\0' | xargs -0 sha256sum); }
check_tree_sums() {
  local expected actual
  expected=$(host_sums)
  actual=$(console_text | sed -n 's/^sum //p')
  [[ $actual == "$expected" ]] ||
    fail "the guest's checksums differ from the host's: $(diff <(echo "$expected") <(echo "$actual"))"
}

# The host's files read back in the guest (cloud flavour: ext4 is built into that kernel).
host_disk() {
  kit cloud-amd64
  make_host_disk
  boot --disk "$host_image,format=qcow2" "cella.test=virtio/tree_sums"
  passed virtio/tree_sums
  check_tree_sums
  image_clean "$host_image" qcow2
  echo "host disk: $(guest_value tree-files) files read back with the host's sha256"
}

# The same disk attached read-only: the guest sees a read-only disk of the right size, writes
# fail, the file system still mounts read-only and reads back; the image file is unchanged.
read_only() {
  kit amd64
  local before
  make_host_disk
  before=$(checksum "$host_image")
  boot --disk "$host_image,format=qcow2,readonly=on" \
    "cella.test=virtio/disk_info,virtio/tree_sums cella.disks=vda:$((32 << 20)):ro"
  passed virtio/disk_info virtio/tree_sums
  check_tree_sums
  [[ $(checksum "$host_image") == "$before" ]] || fail "the read-only image changed"
  echo "read-only disk: size and state seen, writes refused, files read, image unchanged"
}

# Two disks in order: vda a writable qcow2 (its last block written, read back, restored), vdb
# a read-only raw image whose bytes do not change.
two_disks() {
  kit amd64
  local first=$work/first.qcow2 second=$work/second.raw before
  "$cella" img create -q -f qcow2 "$first" 48M
  head -c $((16 << 20)) /dev/urandom >"$second"
  before=$(checksum "$second")
  boot --disk "$first,format=qcow2" --disk "$second,format=raw,readonly=on" \
    "cella.test=virtio/disk_info cella.disks=vda:$((48 << 20)):rw,vdb:$((16 << 20)):ro"
  passed virtio/disk_info
  [[ $(checksum "$second") == "$before" ]] || fail "the read-only raw image changed"
  image_clean "$first" qcow2
  truncate -s 48M "$work/zeros.raw"
  "$cella" img compare -q -f qcow2 -F raw "$first" "$work/zeros.raw" ||
    fail "vda does not read as zeros: its last block was not restored"
  echo "two disks: vda rw qcow2 and vdb ro raw, in order, sizes and states as attached"
}

# Discard and write-zeroes on a qcow2 and a raw disk: the guest discards MiB 4-8 and zeroes
# MiB 8-12 after writing MiB 0-12; the host finds no data allocated in MiB 4-8, zeros in
# MiB 8-12 and data in MiB 0-4.
discard() {
  kit amd64
  local qcow2=$work/discard.qcow2 raw=$work/discard.raw
  "$cella" img create -q -f qcow2 "$qcow2" 32M
  truncate -s 32M "$raw"
  boot --disk "$qcow2,format=qcow2" --disk "$raw,format=raw" "cella.test=virtio/discard"
  passed virtio/discard
  local image format mib=$((1 << 20))
  for image in "$qcow2:qcow2" "$raw:raw"; do
    format=${image##*:} image=${image%:*}
    [[ $(mapped_bytes "$image" "$format" data $((4 * mib)) $((8 * mib))) -eq 0 ]] ||
      fail "$format: the discarded MiB 4-8 still hold data"
    [[ $(mapped_bytes "$image" "$format" data 0 $((4 * mib))) -eq $((4 * mib)) ]] ||
      fail "$format: MiB 0-4 lost data"
    reads_zeros "$image" "$format" 8M 4M || fail "$format: MiB 8-12 do not read as zeros on the host"
    if reads_zeros "$image" "$format" 0 4M; then fail "$format: MiB 0-4 read as zeros on the host"; fi
  done
  # qcow2 clusters that only read as zeros but keep their host clusters were not deallocated.
  [[ $(mapped_bytes "$qcow2" qcow2 offset $((4 * mib)) $((8 * mib))) -eq 0 ]] ||
    fail "qcow2: the discarded MiB 4-8 keep host clusters"
  image_clean "$qcow2" qcow2
  echo "discard: qcow2 and raw deallocate discarded ranges; write-zeroes read back as zeros"
}

rng() {
  kit amd64
  boot "cella.test=virtio/rng"
  passed virtio/rng
  echo "rng: $(console_text | grep -m1 '^rng_current')"
}

# The whole session on the virtio console (console=hvc0): the init's lines, the test's result,
# and a line written straight to /dev/hvc0 reach the host.
virtio_console() {
  kit amd64
  local nonce=$RANDOM$RANDOM
  boot --console virtio "cella.test=virtio/console cella.nonce=$nonce"
  passed virtio/console
  grep -q "^hvc0-direct: $nonce" "$log" || fail "the line written to /dev/hvc0 did not arrive"
  echo "virtio console: init output, test result and a direct hvc0 write arrive"
}

# An interactive shell on hvc0 (cloud flavour), driven through a pipe: a command typed on the
# host runs in the guest and its answer comes back; `exit` powers the VM off (status 0).
console_session() {
  kit cloud-amd64
  make_command --console virtio ""
  piped_vm_start "$log" timeout 600 "${vmm_command[@]}"
  stop() { piped_vm_finish; fail "$1"; }
  piped_vm_wait_for "/ # " || stop "no shell prompt on hvc0"
  echo 'echo "answer=$((6 * 7)) on $(tty)"' >&7
  piped_vm_wait_for "^answer=42 on /dev/hvc0" || stop "the typed command did not run on hvc0"
  echo 'exit' >&7
  piped_vm_finish
  [[ $piped_vm_exit == 0 ]] || fail "the VMM exited with $piped_vm_exit after exit, expected 0"
  echo "console session: a command typed on hvc0 ran, exit powered off"
}

# Debian's own userland (scripts/debian-rootfs: minbase bookworm) on a qcow2 overlay over the
# cached image: root=/dev/vda rw, one command chrooted in it; its answers match the image's
# package list, a file it writes lands in the overlay, and the cached image is untouched.
debian_rootfs() {
  kit amd64
  eval "$("$repo/scripts/debian-rootfs" --cella "$cella" --print-env)"
  local overlay=$work/overlay.qcow2 before
  before=$(checksum "$CELLA_ROOTFS")
  "$cella" img create -q -f qcow2 -b "$CELLA_ROOTFS" -F qcow2 "$overlay"
  boot --disk "$overlay,format=qcow2" "root=/dev/vda rw cella.cmd=\"echo debian-version: \$(cat /etc/debian_version); echo packages: \$(dpkg -l | grep -c ^ii); echo written-by-guest >/root/cella-note; echo os: \$(. /etc/os-release; echo \$VERSION_CODENAME)\""
  grep -q "^cella-cmd: exit status 0" "$log" || fail "the command inside Debian failed"
  [[ $(guest_value debian-version) == 12.* ]] || fail "debian_version is '$(guest_value debian-version)', expected 12.x"
  [[ $(guest_value os) == bookworm ]] || fail "os-release names '$(guest_value os)', expected bookworm"
  [[ $(guest_value packages) -eq $CELLA_ROOTFS_PACKAGES ]] ||
    fail "dpkg lists $(guest_value packages) packages, the image holds $CELLA_ROOTFS_PACKAGES"
  image_clean "$overlay" qcow2
  [[ $(checksum "$CELLA_ROOTFS") == "$before" ]] || fail "the cached root file system changed"
  qemu-img compare -q "$overlay" "$CELLA_ROOTFS" && fail "the guest's write did not reach the overlay"
  echo "debian rootfs: Debian $(guest_value debian-version) with $(guest_value packages) packages ran a command, wrote to its overlay"
}

# The INTx fallback: with `pci=nomsi` the guest's drivers cannot enable MSI-X, so the devices
# interrupt through INTA# and the IOAPIC (level-triggered, _PRT routing); a file system is made
# and written, and the rng is read, on those interrupts alone.
intx() {
  kit amd64
  local image=$work/intx.qcow2
  "$cella" img create -q -f qcow2 "$image" 64M
  boot --disk "$image,format=qcow2" \
    'pci=nomsi cella.cmd="/tests/virtio/fs_write && /tests/virtio/rng && grep virtio /proc/interrupts"'
  grep -q "^cella-cmd: exit status 0" "$log" || fail "the disk or rng test failed on INTx"
  [[ -n $(guest_value fs-digest) ]] || fail "fs_write printed no digest"
  console_text | grep -q "IO-APIC.*fasteoi.*virtio" || fail "the virtio devices do not use IOAPIC lines"
  if console_text | grep -q "PCI-MSI.*virtio"; then fail "a virtio device used MSI despite pci=nomsi"; fi
  image_clean "$image" qcow2
  echo "intx: disk and rng work on level-triggered INTx through the IOAPIC"
}

# Bad --disk arguments are refused with exit status 1 and a message naming the problem;
# nothing boots.
refused_disks() {
  kit amd64
  printf 'not a disk image at all' >"$work/garbage.qcow2"
  "$cella" img create -q -f qcow2 "$work/good.qcow2" 16M
  refused() {
    local message=$1 status=0
    shift
    make_command "$@" 'cella.cmd="true"'
    timeout 600 "${vmm_command[@]}" </dev/null >"$log" 2>&1 || status=$?
    [[ $status -eq 1 ]] || fail "--disk $2: exit status $status, expected 1"
    grep -q -- "$message" "$log" || fail "--disk $2: no message naming '$message'"
    if grep -q "cella-guest: init started" "$log"; then fail "--disk $2: the guest booted"; fi
  }
  refused /nonexistent/disk.qcow2 --disk /nonexistent/disk.qcow2,format=qcow2
  refused "$work/garbage.qcow2" --disk "$work/garbage.qcow2,format=qcow2"
  refused no-such-format --disk "$work/good.qcow2,format=no-such-format"
  echo "refused disks: a missing file, a damaged image and an unknown format exit 1 with a message"
}

case $case_name in
  fs_roundtrip | host_disk | read_only | two_disks | discard | rng | virtio_console | \
    console_session | debian_rootfs | refused_disks | intx) "$case_name" ;;
  *) echo "unknown case '$case_name'" >&2; exit 1 ;;
esac
