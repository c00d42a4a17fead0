# Column statistics of the numbers file: integer and floating-point arithmetic, arrays,
# printf formats.
{
  n++
  sum += $1
  total += $2
  if (n == 1 || $1 < min) min = $1
  if (n == 1 || $1 > max) max = $1
  bucket[int(($1 + 50000) / 10000)]++
  squares += $2 * $2
}
END {
  printf "count %d sum %d min %d max %d\n", n, sum, min, max
  printf "mean %.6f rms %.6e\n", total / n, sqrt(squares / n)
  for (b = 0; b < 10; b++) printf "bucket %d: %d\n", b, bucket[b]
  printf "%s %s %s\n", substr("abcdefgh", 3, 4), toupper("mixed Case"), length("twelve chars")
  printf "%.3f %.3f %.3f %g\n", sin(1), exp(2.5), log(10), atan2(1, 2)
}
