#!/usr/bin/env bats
# runc's behaviour where callers (containerd, podman, runc's own integration suite) can tell a
# difference: exit codes, words, help layout, hook order and directories, device defaults,
# --no-pivot, --pidfd-socket, the tty's owner, seccomp's ENOSYS stub and NOTIFY rules.

load helpers

@test "exec: a failure of exec itself exits 255 (the process's own status passes through)" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  run ocirt exec "$ID" sh -c 'exit 42'
  [ "$status" -eq 42 ]
  run ocirt exec "$ID" no-such-binary
  [ "$status" -eq 255 ]
  run ocirt exec --pid-file /non-existent/dir/pid "$ID" true
  [ "$status" -eq 255 ]
  run ocirt exec nosuch-$ID true
  [ "$status" -eq 255 ]
  ocirt pause "$ID"
  run ocirt exec "$ID" true
  [ "$status" -eq 255 ]
  [[ "$output" == *"cannot exec in a paused container"* ]]
  ocirt resume "$ID"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "create: a frozen pre-existing cgroup is refused at once; a non-empty one is a warning" {
  [ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer"
  cg=/ocirt-test-$$-$BATS_TEST_NUMBER-frozen
  mkdir /sys/fs/cgroup/freezer$cg
  CLEANUP_DIRS="/sys/fs/cgroup/freezer$cg"
  echo FROZEN > /sys/fs/cgroup/freezer$cg/freezer.state
  cfg --arg p "$cg" '.linux.cgroupsPath = $p'
  args true
  # (a file, not a pipe: a runtime that hangs must not keep the test waiting on its output)
  st=0
  timeout 20 "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1 || st=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$st" -eq 1 ]
  grep -q "container's cgroup unexpectedly frozen" "$BATS_TEST_TMPDIR/out"
  [ "$(cat /sys/fs/cgroup/freezer$cg/freezer.state)" = FROZEN ]  # not ours to thaw
  echo THAWED > /sys/fs/cgroup/freezer$cg/freezer.state
  # a process of someone else's in the cgroup: the container runs, with runc's warning
  # (neither sleep keeps the output pipe of bats or of `run` open: no waiting on them)
  sleep 100 </dev/null >/dev/null 2>&1 &
  KILL_PIDS=$!
  for l in /sys/fs/cgroup/*/; do [ -d "$l$cg" ] && echo $KILL_PIDS > "$l$cg/cgroup.procs"; done
  args sh -c 'exec sleep 100 </dev/null >/dev/null 2>&1'
  run ocirt run -d --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"container's cgroup is not empty: 1 process(es) found"* ]]
  ocirt delete --force "$ID"
}

@test "help: runc's layout (NAME, USAGE, OPTIONS) under the name we were invoked as; No help topic" {
  run "$OCIRT" --help
  [ "${lines[0]}" = NAME: ]
  [[ "${lines[1]}" == *"oci-rt - Open Container Initiative runtime"* ]]
  for c in create run exec delete kill list state pause resume update events spec start checkpoint restore; do
    run "$OCIRT" $c -h
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = NAME: ]
    [[ "${lines[1]}" == *"oci-rt $c - "* ]]
  done
  # installed as runc (a drop-in), the help says runc; the version line always says oci-rt
  ln -s "$OCIRT" "$BATS_TEST_TMPDIR/runc"
  run "$BATS_TEST_TMPDIR/runc" delete -h
  [[ "${lines[1]}" == *"runc delete - "* ]]
  run "$BATS_TEST_TMPDIR/runc" --version
  [[ "${lines[0]}" == "oci-rt version "* ]]
  run "$OCIRT" foo -h
  [ "$status" -ne 0 ]
  [[ "$output" == *"No help topic for 'foo'"* ]]
}

@test "--debug: runc's log format on stderr and its step names, for run and exec" {
  args true
  run "$OCIRT" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *'level=debug msg="nsexec container setup'* ]]
  [[ "$output" == *"child process in init()"* ]]
  [[ "$output" == *"init: closing the pipe to signal completion"* ]]
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  run "$OCIRT" --root "$ROOT" --debug exec "$ID" true
  [ "$status" -eq 0 ]
  [[ "$output" == *"level=debug"*"setns_init: about to exec"* ]]
  ocirt delete --force "$ID"
}

@test "hooks: the runtime's in the bundle dir, createContainer in the rootfs, startContainer under seccomp" {
  cfg --arg b "$BUNDLE" '.root.readonly = false | .hooks = {
      createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "pwd > createRuntime.cwd"]}],
      createContainer: [{path: "/bin/sh", args: ["sh", "-c", "pwd > createContainer.cwd"]}],
      poststop: [{path: "/bin/sh", args: ["sh", "-c", "pwd > poststop.cwd"]}]}'
  args true
  run_ctr
  [ "$status" -eq 0 ]
  [ "$(cat "$BUNDLE/createRuntime.cwd")" = "$BUNDLE" ]
  [ "$(cat "$BUNDLE/rootfs/createContainer.cwd")" = "$BUNDLE/rootfs" ]
  [ "$(cat "$BUNDLE/poststop.cwd")" = "$BUNDLE" ]
  # a startContainer hook runs with the container's seccomp filter loaded
  cfg '.hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "mkdir /tmp/x"]}]} |
       .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL"}]}'
  run_ctr
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"error running hook"*"bad system call"* ]]
  no_leftovers
}

@test "kill: signal 0 checks the init; --all still works once it has stopped" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  ocirt kill "$ID" 0
  [ "$(status_of)" = running ]
  ocirt kill "$ID" KILL
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  ocirt kill --all "$ID" 0
  run ocirt kill "$ID" 0
  [ "$status" -ne 0 ]
  [[ "$output" == *"container not running"* ]]
  ocirt delete "$ID"
  no_leftovers
}

@test "devices: a linux.devices entry is created but allowed only by resources.devices (runc)" {
  cfg '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
  args sh -c 'ls -l /dev/kmsg && echo oci-rt-test > /dev/kmsg && echo WROTE; echo end'
  run_ctr
  echo "$output"
  [[ "$output" == *"/dev/kmsg"* ]]
  [[ "$output" != *WROTE* ]]
  cfg '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  run_ctr
  [[ "$output" == *WROTE* ]]
  no_leftovers
}

@test "mounts: proc and sysfs only on a real directory, never through a planted symlink" {
  rmdir "$BUNDLE/rootfs/proc"
  ln -s /symlink "$BUNDLE/rootfs/proc"
  args true
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"/proc must be mounted on ordinary directory"* ]]
  [ ! -e "$BUNDLE/rootfs/symlink" ]
  no_leftovers
}

@test "--no-pivot: no full procfs of the host stays reachable for a nested mount" {
  cfg '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"]'
  args unshare -mrpf sh -c 'mount -t proc none /proc && echo MOUNTED'
  run ocirt run --no-pivot --bundle "$BUNDLE" "$ID"
  echo "$output"
  [[ "$output" != *MOUNTED* ]]
  [[ "$output" == *"permission denied"* ]]
  no_leftovers
}

@test "--pidfd-socket: one message ('standard' or 'setns') with a pidfd of the process" {
  recv() {
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 64, 4)
# a pidfd: /proc/self/fdinfo names the pid it refers to
pid = [l.split()[1] for l in open("/proc/self/fdinfo/%d" % fds[0]) if l.startswith("Pid:")][0]
open(sys.argv[2], "w").write("%s %d %s\n" % (msg.decode(), len(fds), pid))' "$1" "$2" &
    for i in $(seq 100); do [ -e "$1.ready" ] && break; sleep 0.05; done
  }
  args sleep 100
  recv "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/r1"
  ocirt create --pidfd-socket "$BATS_TEST_TMPDIR/s1" --bundle "$BUNDLE" "$ID"
  wait
  [ "$(cat "$BATS_TEST_TMPDIR/r1")" = "standard 1 $(ocirt state "$ID" | jq .pid)" ]
  ocirt start "$ID"
  recv "$BATS_TEST_TMPDIR/s2" "$BATS_TEST_TMPDIR/r2"
  ocirt exec -d --pid-file "$BATS_TEST_TMPDIR/p" --pidfd-socket "$BATS_TEST_TMPDIR/s2" "$ID" sleep 50
  wait
  [ "$(cat "$BATS_TEST_TMPDIR/r2")" = "setns 1 $(cat "$BATS_TEST_TMPDIR/p")" ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "terminal: the pty belongs to the process's user (group tty), and is the container's /dev/console" {
  out=$BATS_TEST_TMPDIR/console
  mkdir -p "$out"
  "$BATS_TEST_DIRNAME/console-receiver.py" "$out/sock" "$out" &
  for i in $(seq 100); do [ -e "$out/listening" ] && break; sleep 0.05; done
  cfg '.process.terminal = true | .process.user.uid = 1000 | .process.user.gid = 100'
  args sh -c 'stat -c "%u:%g" $(tty); stat -c "%t:%T" /dev/console $(tty)'
  ocirt run -d --console-socket "$out/sock" --bundle "$BUNDLE" "$ID"
  wait
  cat "$out/output"
  grep -q '^1000:5' "$out/output"
  # /dev/console is the same pty device as the process's terminal
  devs=$(tr -d '\r' < "$out/output" | tail -n 2)
  grep -qE '^88:[0-9a-f]+$' <<<"$devs"  # 136 (0x88): a pts
  [ "$(sed -n 1p <<<"$devs")" = "$(sed -n 2p <<<"$devs")" ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "seccomp: a syscall newer than every one the profile names gets ENOSYS, not the default action" {
  command -v cc >/dev/null || skip "no C compiler"
  printf '#include <errno.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void){long r = syscall(1000); printf("%%ld %%d\\n", r, errno); return 0;}\n' > "$BATS_TEST_TMPDIR/sc.c"
  cc -static -o "$BUNDLE/rootfs/bin/sc" "$BATS_TEST_TMPDIR/sc.c"
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
       syscalls: [{names: ["read", "write", "exit", "exit_group", "execve", "brk", "arch_prctl", "set_tid_address",
                  "set_robust_list", "rseq", "prlimit64", "readlinkat", "mprotect", "uname", "getrandom",
                  "newfstatat", "fstat", "ioctl", "close", "mmap", "munmap"], action: "SCMP_ACT_ALLOW"}]}'
  args /bin/sc
  run_ctr
  echo "$output"
  [ "$output" = "-1 38" ]
  no_leftovers
}

@test "seccomp: NOTIFY is refused for write and as the default action; an unused listenerPath is fine" {
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/x.sock", syscalls: [{names: ["write"], action: "SCMP_ACT_NOTIFY"}]}'
  args true
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"SCMP_ACT_NOTIFY cannot be used for the write syscall"* ]]
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/run/x.sock"}'
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"SCMP_ACT_NOTIFY cannot be used as default action"* ]]
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/x.sock", listenerMetadata: "bar"}'
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  no_leftovers
}

@test "user namespace: bind sources the container's root cannot reach are opened by the runtime first" {
  src=$BATS_TEST_TMPDIR/private
  mkdir -p "$src/dir"
  echo secret-ok > "$src/dir/f"
  chmod 700 "$src"
  # the rootfs itself must be reachable by the container's root (as with runc)
  d=$BUNDLE
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  chown -R 100000:100000 "$BUNDLE/rootfs"
  cfg --arg s "$src/dir" '.linux.namespaces += [{type: "user"}] |
       .linux.uidMappings = [{hostID: 100000, containerID: 0, size: 65536}] |
       .linux.gidMappings = [{hostID: 100000, containerID: 0, size: 65536}] |
       .mounts += [{destination: "/mnt", source: $s, options: ["bind"]}]'
  args cat /mnt/f
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = secret-ok ]
  no_leftovers
}

@test "cpuset (v1): a caller's pod cgroup with empty cpus and mems is filled from its parent" {
  [ -d /sys/fs/cgroup/cpuset ] || skip "no v1 cpuset"
  pod=/ocirt-test-$$-$BATS_TEST_NUMBER-pod
  mkdir /sys/fs/cgroup/cpuset$pod
  CLEANUP_DIRS="/sys/fs/cgroup/cpuset$pod"
  [ -z "$(cat /sys/fs/cgroup/cpuset$pod/cpuset.cpus)" ]
  cfg --arg p "$pod/ctr" '.linux.cgroupsPath = $p'
  args true
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat /sys/fs/cgroup/cpuset$pod/cpuset.cpus)" = "$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)" ]
  no_leftovers
}

@test "NOTIFY_SOCKET: the container's READY=1 reaches the caller's socket with MAINPID (runc's relay)" {
  command -v cc >/dev/null || skip "no C compiler"
  # a static sd_notify sender for the busybox rootfs: one datagram to $NOTIFY_SOCKET
  printf '%s\n' '#include <stdlib.h>' '#include <string.h>' '#include <sys/socket.h>' '#include <sys/un.h>' \
    'int main(int c, char **v) { struct sockaddr_un a = {AF_UNIX}; strncpy(a.sun_path, getenv("NOTIFY_SOCKET"), sizeof a.sun_path - 1);' \
    '  int s = socket(AF_UNIX, SOCK_DGRAM, 0); return sendto(s, v[1], strlen(v[1]), 0, (void *)&a, sizeof a) < 0; }' \
    > "$BATS_TEST_TMPDIR/notify.c"
  cc -static -o "$BUNDLE/rootfs/bin/notify" "$BATS_TEST_TMPDIR/notify.c"
  sock=$BATS_TEST_TMPDIR/ns.sock
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
open(sys.argv[1] + ".ready", "w").close()
out = open(sys.argv[2], "w")
while True:
    d = s.recv(4096).decode(); out.write(d); out.flush()
    if "READY=" in d: break' "$sock" "$BATS_TEST_TMPDIR/got" &
  for i in $(seq 100); do [ -e "$sock.ready" ] && break; sleep 0.05; done
  args sh -c 'echo "$NOTIFY_SOCKET" > /dev/stderr; sleep 0.3; notify READY=1 && sleep 100'
  NOTIFY_SOCKET=$sock ocirt run -d --bundle "$BUNDLE" "$ID"
  wait
  pid=$(ocirt state "$ID" | jq .pid)
  [ "$(cat "$BATS_TEST_TMPDIR/got")" = "$(printf 'MAINPID=%s\nREADY=1\n' "$pid")" ]
  [ "$(status_of)" = running ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "stdio: the caller's pipes become the process's user's (runc), so /dev/stdout can be reopened" {
  cfg '.process.user.uid = 1000 | .process.user.gid = 1000'
  args sh -c 'echo via-proc > /proc/self/fd/1 && echo reopened'
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *via-proc*reopened* ]]
  # the same for exec
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  run ocirt exec --user 1000 "$ID" sh -c 'echo via-proc > /proc/self/fd/1 && echo reopened'
  [[ "$output" == *via-proc*reopened* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "a new network namespace has lo up (runc's loopback network); one joined by path is left as it is" {
  # IFF_UP|IFF_LOOPBACK = 0x9; a TCP connection over 127.0.0.1 inside
  args sh -c 'cat /sys/class/net/lo/flags; nc -l -p 5000 & sleep 0.2; echo over-lo | nc 127.0.0.1 5000; kill $! 2>/dev/null; true'
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0x9 ]
  [[ "$output" == *over-lo* ]]
  # a namespace the caller made (lo down) is the caller's: not touched
  local ns=ocirt-test-$$-$BATS_TEST_NUMBER
  ip netns add "$ns"
  UMOUNTS="${UMOUNTS:-} /run/netns/$ns"
  cfg --arg p "/run/netns/$ns" '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $p else . end]'
  args cat /sys/class/net/lo/flags
  run_ctr
  ip netns del "$ns"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 0x8 ]
  no_leftovers
}
