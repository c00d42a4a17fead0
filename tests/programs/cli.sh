#!/usr/bin/env bash
# `cella user` on the command line: error messages and exit statuses for programs that cannot
# run, usage errors, and the tracing options.
# Usage: cli.sh CELLA ASM_DIR ELF_CORPUS_DIR
set -u
cella=$1 asm=$2 corpus=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/cella-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

# expect STATUS TEXT -- ARGS...: `cella ARGS` exits with STATUS and prints TEXT (stdout or
# stderr; "" = anything).
expect() {
  local status=$1 text=$2
  shift 3
  local output actual
  output=$("$cella" "$@" 2>&1)
  actual=$?
  if [[ $actual != "$status" || $output != *"$text"* ]]; then
    echo "FAIL: cella $*: exit $actual (expected $status), output:"
    echo "$output" | head -n 10
    echo "(expected to contain: $text)"
    failures=$((failures + 1))
  else
    echo "ok: cella $* -> $status"
  fi
}

printf 'plain text\n' >"$work/text"
chmod +x "$work/text"
cp "$corpus/aarch64" "$corpus/class32" "$corpus/truncated" "$work/"
chmod +x "$work/aarch64" "$work/class32" "$work/truncated"
cp "$work/text" "$work/unexecutable"
chmod -x "$work/unexecutable"
printf '#!/nonexistent/interpreter\n' >"$work/script"
chmod +x "$work/script"
gcc -nostdlib -static -no-pie -I"$asm" -o "$work/hello" "$asm/hello.S" || exit 1
gcc -nostdlib -static -no-pie -I"$asm" -o "$work/cat" "$asm/cat.S" || exit 1

expect 127 "No such file or directory" -- user "$work/missing"
expect 126 "Permission denied" -- user "$work"
expect 126 "Permission denied" -- user "$work/unexecutable"
expect 126 "not an ELF file" -- user "$work/text"
expect 126 "ELF for AArch64 (e_machine 183), not x86-64" -- user "$work/aarch64"
expect 126 "32-bit ELF" -- user "$work/class32"
expect 126 "truncated" -- user "$work/truncated"
expect 127 "/nonexistent/interpreter: No such file or directory" -- user "$work/script"
expect 1 "no PROGRAM given" -- user
expect 1 "unknown option '--frobnicate'" -- user --frobnicate "$work/hello"
expect 1 "--trace needs a count" -- user --trace many "$work/hello"
expect 0 "Usage: cella user" -- user --help
expect 42 "hello from assembly" -- user "$work/hello"
expect 42 "cella: trace:" -- user --trace 3 "$work/hello"
expect 42 "exit_group(42)" -- user --strace "$work/hello"
expect 42 "instructions in" -- user --stats "$work/hello"
expect 42 "hello from assembly" -- user --argv0 other -- "$work/hello"
# The guest's own /proc files: its memory areas and arguments, not the emulator's.
expect 0 "[stack]" -- user "$work/cat" /proc/self/maps
expect 0 "r-xp 00001000" -- user "$work/cat" /proc/self/maps
expect 0 "$work/cat" -- user "$work/cat" /proc/self/maps
if "$cella" user "$work/cat" /proc/self/maps | grep -q "$(realpath "$cella")"; then
  echo "FAIL: /proc/self/maps shows the emulator"
  failures=$((failures + 1))
fi
cmdline=$("$cella" user "$work/cat" /proc/self/cmdline | tr '\0' '|')
if [[ $cmdline != "$work/cat|/proc/self/cmdline|" ]]; then
  echo "FAIL: /proc/self/cmdline is '$cmdline'"
  failures=$((failures + 1))
fi
traced=$("$cella" user --trace 4 "$work/hello" 2>&1 >/dev/null | grep -c "cella: trace:")
if [[ $traced != 4 ]]; then
  echo "FAIL: --trace 4 logged $traced instructions"
  failures=$((failures + 1))
fi
exit $((failures > 0))
