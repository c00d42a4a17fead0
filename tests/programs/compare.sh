#!/usr/bin/env bash
# Runs a program natively and under `cella user` and fails unless both runs produce the
# same standard output, standard error and exit status (a signal death included).
#
# Usage: compare.sh CELLA KIND PROGRAM [ARGS...]
#   KIND asm: PROGRAM is an assembly source, built with gcc -nostdlib -static
#   KIND c:   PROGRAM is a C source, built with gcc -static -O2 (and libm)
#   KIND run: PROGRAM is an executable
# STDIN=FILE feeds FILE to both runs (default: /dev/null). Each run starts in its own empty
# directory, so programs may create files.
set -u
cella=$1 kind=$2 program=$3
shift 3

work=$(mktemp -d "${TMPDIR:-/tmp}/cella-programs.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/native" "$work/cella"

case $kind in
  asm)
    gcc -nostdlib -static -no-pie -I"$(dirname "$program")" -o "$work/program" "$program" || exit 1
    program=$work/program ;;
  c)
    gcc -static -O2 -o "$work/program" "$program" -lm || exit 1
    program=$work/program ;;
  run) ;;
  *) echo "compare.sh: unknown kind '$kind'" >&2; exit 2 ;;
esac

# Both runs choose the same glibc function variants: the host's extensions beyond what the
# software CPU advertises are masked for the native run too (glibc.cpu.hwcaps tunable).
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-FMA,-FMA4,-BMI1,-BMI2,-LZCNT,-MOVBE,-F16C,-XSAVE,-XSAVEC,-ERMS,-FSRM,-RTM
stdin=${STDIN:-/dev/null}

# The subshells report a death by signal (as 128 + signal) without the shell's notice.
(cd "$work/native" && "$program" "$@" <"$stdin" >"$work/native.out" 2>"$work/native.err") 2>/dev/null
native_status=$?
(cd "$work/cella" && "$cella" user "$program" "$@" <"$stdin" >"$work/cella.out" 2>"$work/cella.err") 2>/dev/null
cella_status=$?

failed=0
if [[ $native_status != "$cella_status" ]]; then
  echo "exit status: native $native_status, cella $cella_status"
  failed=1
fi
for stream in out err; do
  if ! cmp -s "$work/native.$stream" "$work/cella.$stream"; then
    echo "std$stream differs (native <, cella >):"
    diff -a "$work/native.$stream" "$work/cella.$stream" | head -n 40
    failed=1
  fi
done
if ((failed)); then
  echo "cella's stderr:"
  head -n 20 "$work/cella.err"
  exit 1
fi
echo "identical: $(wc -c <"$work/native.out") bytes of output, exit status $native_status"
