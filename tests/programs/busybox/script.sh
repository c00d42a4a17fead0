# A shell workout for `busybox sh` under the process VM: functions, arithmetic, loops,
# command substitution, pipelines, subshells, redirections, here-documents, background jobs,
# and signals with traps. Every child is a new busybox process (fork and execve).
fib() {
  local a=0 b=1 i=0
  while [ $i -lt "$1" ]; do
    local t=$((a + b)); a=$b; b=$t; i=$((i + 1))
  done
  echo "$a"
}
echo "fib(50) = $(fib 50)"
for word in alpha beta gamma; do
  case $word in
    a*) echo "$word starts with a" ;;
    *) echo "$word: ${#word} letters, upper $(echo "$word" | busybox tr a-z A-Z)" ;;
  esac
done
count=$(busybox seq 1 500 | busybox awk '$1 % 7 == 0' | busybox wc -l)
echo "multiples of 7 up to 500: $count"
(cd / && echo "subshell in $(pwd)")
echo "still in the same directory: $([ "$(pwd)" = "$PWD" ] && echo yes)"
busybox cat <<END | busybox sort -r
first line
second line
third line
END
tmp=out.txt
echo "written through a redirection" >"$tmp"
echo "appended" >>"$tmp"
busybox wc -l <"$tmp"
busybox rm "$tmp"
busybox sleep 0.05 &
job=$!
wait $job
echo "background job exit status $?"
trap 'echo "caught USR1"' USR1
kill -USR1 $$
echo "after the trap"
busybox sh -c 'exit 42'
echo "child exit status $?"
busybox sh -c 'kill -TERM $$'
echo "child killed by signal: $?"
echo "done"
