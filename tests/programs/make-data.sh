#!/usr/bin/env bash
# Generates the deterministic input files of the busybox tests into DIR, with the host's
# busybox: text (lines of hex words), numbers (integers and decimals), text2 (text with a
# few lines changed, for diff), and text.gz.
# Usage: make-data.sh DIR BUSYBOX
set -eu
dir=$1 bb=$2
mkdir -p "$dir"
# A Lehmer generator (MINSTD) keeps every product exact in awk's doubles.
"$bb" awk 'BEGIN {
  s = 12345
  for (i = 0; i < 800; i++) {
    line = ""
    for (j = 0; j < 3 + i % 7; j++) {
      s = (s * 48271) % 2147483647
      line = line sprintf("%s%x", j ? " " : "", s)
    }
    print line
  }
}' >"$dir/text"
"$bb" awk 'BEGIN {
  s = 7
  for (i = 0; i < 1200; i++) {
    s = (s * 48271) % 2147483647
    printf "%d %.3f\n", s % 100000 - 50000, s / 2147483647 * 1000
  }
}' >"$dir/numbers"
"$bb" sed -e '100s/^/changed /' -e '400,403d' -e '600a\
an added line' "$dir/text" >"$dir/text2"
"$bb" gzip -n -9 -c "$dir/text" >"$dir/text.gz"
