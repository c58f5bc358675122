#!/usr/bin/env python3
"""killat.py TARGET N -- COMMAND...: run COMMAND under ptrace and SIGKILL one of its processes
just before its Nth system call (N counted from 1, at syscall entry: the call is not made).

TARGET is "runtime" (the process started, across its execs; its children are not traced) or
"init" (the first child the runtime clones: the container's init, and anything it clones; the
runtime itself is traced but never touched). N = 0 kills nothing: the command runs to its end
and the number of syscalls the target made is written to the file $KILLAT_COUNT (else printed
on stderr), the count a sweep goes up to (not on a pipe: a created init holds the caller's fds
until its exec). The exit status is the command's (128+signal if killed).

Why not strace's -e inject=all:signal=KILL:when=N: strace counts per syscall *and* per tracee
(when=N is "the Nth call of each syscall"), so the Nth call overall needs a (name, k) pair taken
from a first trace; and with -f it cannot hit the init without also hitting the runtime (the
counts are per tracee, the filter is not). Here the count is the target's own, global and
deterministic for a given command; no sleeps, no attach race (the child stops itself before
its exec, the init is traced from its clone, PTRACE_O_TRACECLONE).
"""
import ctypes
import os
import signal
import sys

PTRACE_TRACEME, PTRACE_SYSCALL, PTRACE_SETOPTIONS, PTRACE_GET_SYSCALL_INFO = 0, 24, 0x4200, 0x420E
O_TRACESYSGOOD, O_TRACEFORK, O_TRACEVFORK, O_TRACECLONE, O_TRACEEXEC = 1, 2, 4, 8, 0x10
EV_FORK, EV_VFORK, EV_CLONE = 1, 2, 3
WALL = 0x40000000
OP_ENTRY = 1

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


class SyscallInfo(ctypes.Structure):
    _fields_ = [("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3), ("arch", ctypes.c_uint32),
                ("ip", ctypes.c_uint64), ("sp", ctypes.c_uint64), ("nr", ctypes.c_uint64),
                ("args", ctypes.c_uint64 * 6), ("more", ctypes.c_uint64 * 4)]


def ptrace(req, pid, addr=0, data=0):
    return libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))


def resume(pid, sig=0):
    ptrace(PTRACE_SYSCALL, pid, 0, sig)  # ESRCH (killed meanwhile) is fine


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("runtime", "init") or sys.argv[3] != "--":
        sys.exit("usage: killat.py runtime|init N -- COMMAND...")
    target, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
    child = os.fork()
    if child == 0:
        if ptrace(PTRACE_TRACEME, 0) < 0:
            os._exit(127)
        os.kill(os.getpid(), signal.SIGSTOP)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, st = os.waitpid(child, WALL)
    opts = O_TRACESYSGOOD | O_TRACEEXEC
    if target == "init":
        opts |= O_TRACECLONE | O_TRACEFORK | O_TRACEVFORK
    ptrace(PTRACE_SETOPTIONS, child, 0, opts)
    resume(child)
    init = None  # the target's pid once known (runtime: the child itself)
    if target == "runtime":
        init = child
    count = 0
    killed = False
    info = SyscallInfo()
    status = 0
    while True:
        try:
            pid, st = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if os.WIFEXITED(st) or os.WIFSIGNALED(st):
            if pid == child:
                status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
                break  # the tracer's exit detaches whatever is still traced (the init blocked on its fifo)
            continue
        if not os.WIFSTOPPED(st):
            continue
        sig = os.WSTOPSIG(st)
        event = (st >> 16) & 0xFF
        if event:
            if event in (EV_FORK, EV_VFORK, EV_CLONE) and pid == child and init is None:
                msg = ctypes.c_ulong()
                ptrace(0x4201, pid, 0, ctypes.addressof(msg))  # PTRACE_GETEVENTMSG: the new pid
                init = msg.value
            resume(pid)
            continue
        if sig == (signal.SIGTRAP | 0x80):  # syscall stop
            if pid == init and not killed:
                ptrace(PTRACE_GET_SYSCALL_INFO, pid, ctypes.sizeof(info), ctypes.addressof(info))
                if info.op == OP_ENTRY:
                    count += 1
                    if count == n:
                        os.kill(pid, signal.SIGKILL)
                        killed = True
                        print(f"killat: {target} pid {pid} killed before syscall {n} (nr {info.nr})", file=sys.stderr)
            resume(pid)
            continue
        if sig == signal.SIGSTOP and pid != child:
            resume(pid)  # a new tracee's first stop (or a SIGSTOP we pass on: none expected)
            continue
        resume(pid, 0 if sig == signal.SIGTRAP else sig)  # a signal for the tracee: delivered
    if n == 0:
        if os.environ.get("KILLAT_COUNT"):
            with open(os.environ["KILLAT_COUNT"], "w") as f:
                f.write(f"{count}\n")
        else:
            print(f"killat: {target} made {count} syscalls", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
