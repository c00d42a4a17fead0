# A VM driven through a pipe, as `expect` would drive it; sourced by the boot and virtio test
# scripts. The caller writes the VM's input to file descriptor 7.
#   piped_vm_start LOG COMMAND...  runs COMMAND with its input on a pipe and its output in LOG
#   piped_vm_wait_for PATTERN      0 once LOG has a line matching PATTERN (grep); 1 when the VM
#                                  ended first or 300 s passed
#   piped_vm_finish                closes the pipe, waits for the VM and sets piped_vm_exit to
#                                  its exit status (call it directly, not in $(...): a subshell
#                                  cannot wait for the VM)
piped_vm_start() {
  piped_vm_log=$1
  shift
  piped_vm_fifo=$(mktemp -u)
  piped_vm_status=$(mktemp)
  mkfifo "$piped_vm_fifo"
  { local code=0
    "$@" <"$piped_vm_fifo" >"$piped_vm_log" 2>&1 || code=$?
    echo "$code" >"$piped_vm_status"; } &
  piped_vm_pid=$!
  exec 7>"$piped_vm_fifo"
}

piped_vm_wait_for() {
  local i
  for ((i = 0; i < 600; ++i)); do
    grep -q -- "$1" "$piped_vm_log" && return 0
    kill -0 "$piped_vm_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

piped_vm_finish() {
  exec 7>&-
  wait "$piped_vm_pid" || true
  piped_vm_exit=$(cat "$piped_vm_status")
  [[ -n $piped_vm_exit ]] || piped_vm_exit="(none: the VM had not ended)"
  rm -f "$piped_vm_fifo" "$piped_vm_status"
}
