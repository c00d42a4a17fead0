#!/usr/bin/env python3
"""`cella run` on a terminal (a pseudo-terminal here): raw mode passes typed lines to the
guest's shell, Ctrl-A h shows the escape keys, Ctrl-A x quits with exit status 4, and the
terminal's settings are restored afterwards.
Usage: terminal_session.py CELLA KERNEL INITRD"""
import os
import pty
import select
import sys
import termios
import time

cella, kernel, initrd = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    # A shell runs cella, then reports its status and the terminal's settings.
    os.execv("/bin/sh", ["sh", "-c", '"$0" run --kernel "$1" --initrd "$2" '
                         '--append "console=ttyS0 panic=-1 quiet"; echo "STATUS=$?"; stty -a',
                         cella, kernel, initrd])

output = b""


def wait_for(pattern, seconds=300):
    global output
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                output += os.read(fd, 4096)
            except OSError:
                return False
            if pattern in output:
                return True
    return False


def fail(message):
    print(f"FAIL: {message}\n---- terminal output (tail) ----", file=sys.stderr)
    print(output[-3000:].decode(errors="replace"), file=sys.stderr)
    os.kill(pid, 9)
    sys.exit(1)


if not wait_for(b"Ctrl-A x quits"):
    fail("no banner naming the escape keys")
if not wait_for(b"/ # "):
    fail("no shell prompt")
if termios.tcgetattr(fd)[3] & termios.ICANON:
    fail("the terminal is not in raw mode while the guest runs")
os.write(fd, b"echo term-$((20+22))\r")
if not wait_for(b"term-42"):
    fail("the typed command did not run in the guest")
os.write(fd, b"\x01h")
if not wait_for(b"Ctrl-A x  quit"):
    fail("Ctrl-A h showed no help")
os.write(fd, b"\x01x")
if not wait_for(b"STATUS=4"):
    fail("Ctrl-A x did not end cella run with exit status 4")
if not wait_for(b"isig") or b" -icanon" in output or b" -echo " in output:
    fail("the terminal's settings were not restored (icanon, echo) after cella run")
os.waitpid(pid, 0)
print("terminal session: raw mode, typed command ran, Ctrl-A h help, Ctrl-A x -> exit 4, "
      "terminal restored")
