#!/usr/bin/env bats
# Faults from the host (issue #15, item 6): a full or read-only state root, too few fds, a
# cgroup write the kernel refuses, a caller out of pids, a hook that hangs, a console socket
# nobody reads. Each gives a non-zero exit and an error naming the step and the errno, and
# leaves nothing behind (state dir, cgroup, process, stray file).

load helpers

# state_root_tmpfs SIZE: the state root is a tmpfs of SIZE (unmounted by teardown)
state_root_tmpfs() {
  mkdir -p "$ROOT"
  mount -t tmpfs -o "size=$1" tmpfs "$ROOT"
  UMOUNTS="${UMOUNTS:-} $ROOT"
  CLEANUP_DIRS="${CLEANUP_DIRS:-} $ROOT"
}

# try ARGS...: the runtime with ARGS, output (stdout and stderr) in $output, exit in $status; a
# file, not a pipe: a created init keeps its stdio, and `run` would wait for the pipe's end
try() {
  status=0
  "$@" > "$BATS_TEST_TMPDIR/try.out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/try.out")
}

# only_fill: the state root holds nothing but the file "fill" (no state dir, no temporary file)
only_fill() {
  local left
  left=$(ls -A "$ROOT" | grep -v '^fill$' || true)
  [ -z "$left" ] || { echo "left in the state root: $left"; return 1; }
}

# silent_listener BACKLOG: a unix socket at $BATS_TEST_TMPDIR/sock that never accepts nor reads
# (killed by teardown); BACKLOG 0: its backlog is then filled (one connection, never accepted)
silent_listener() {
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(int(sys.argv[2]))
if sys.argv[2] == "0":
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.setblocking(False); c.connect(sys.argv[1])
    d = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); d.setblocking(False)
    try:
        d.connect(sys.argv[1]); sys.exit("the backlog is not full")
    except BlockingIOError:
        pass
open(sys.argv[1] + ".ready", "w").close()
time.sleep(1000)' "$BATS_TEST_TMPDIR/sock" "$1" &
  KILL_PIDS="${KILL_PIDS:-} $!"
  for i in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/sock.ready" ] && break; sleep 0.05; done
  [ -e "$BATS_TEST_TMPDIR/sock.ready" ]
}

@test "faults: ENOSPC on the state root at every write of create, nothing left" {
  args sleep 100
  state_root_tmpfs 64k
  # 0..4 pages free: config.json, state.json (creating), state.json (created), the pid file
  local failed=0 ok=0
  for free in 0 1 2 3 4; do
    rm -f "$ROOT/fill"
    dd if=/dev/zero of="$ROOT/fill" bs=4k count=$((16 - free)) 2>/dev/null || true
    try ocirt create --bundle "$BUNDLE" --pid-file "$ROOT/pidfile" "$ID"
    echo "free=$free: $status $output"
    if [ "$status" -eq 0 ]; then
      ok=$((ok + 1))
      ocirt delete --force "$ID"
      rm -f "$ROOT/pidfile"
    else
      failed=$((failed + 1))
      [ "$status" -eq 1 ]
      [[ "$output" == *"No space left on device"* ]]
      # the step: keeping the config, writing the state, or the pid file
      [[ "$output" == *"keep the container's config"* || "$output" == *"state.json"* || "$output" == *"pidfile"* ]]
    fi
    no_leftovers
    only_fill
  done
  [ "$failed" -ge 2 ]  # the sweep met the fault at least twice
  [ "$ok" -ge 1 ]      # and the last step fits
}

@test "faults: ENOSPC on the seccomp cache (state root) is not an error: the filter is still loaded, no partial cache file" {
  args sh -c 'grep Seccomp: /proc/self/status'
  # a filter of about 1,100 instructions (a 33 KB cache file, 9 pages): 400 argument rules
  cfg -c '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
          "syscalls": [range(1; 401) as $i | {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": $i,
                       "args": [{"index": 0, "value": (100000 + $i), "op": "SCMP_CMP_EQ"}]}]}'
  state_root_tmpfs 256k
  local free nocache=0 cached=0 failed=0
  for free in $(seq 10 2 32); do
    rm -f "$ROOT/fill"
    dd if=/dev/zero of="$ROOT/fill" bs=4k count=$((64 - free)) 2>/dev/null || true
    rm -rf "$ROOT/.seccomp-cache"
    try ocirt run --bundle "$BUNDLE" "$ID"
    echo "free=$free: $status $output ($(ls -A "$ROOT/.seccomp-cache" 2>/dev/null | tr '\n' ' '))"
    if [ "$status" -eq 0 ]; then
      [[ "$output" == *"Seccomp:"*"2"* ]]
      if [ -n "$(ls "$ROOT/.seccomp-cache" 2>/dev/null)" ]; then cached=$((cached + 1)); else nocache=$((nocache + 1)); fi
    else
      failed=$((failed + 1))
      [ "$status" -eq 1 ]
      [[ "$output" == *"No space left on device"* ]]
      [[ "$output" == *"keep the container's config"* || "$output" == *"state.json"* ]]
    fi
    # no temporary cache file (".NAME.PID"), nothing of the container
    [ -z "$(ls -A "$ROOT/.seccomp-cache" 2>/dev/null | grep '^\.' || true)" ]
    rm -rf "$ROOT/.seccomp-cache"
    only_fill
    no_leftovers
  done
  [ "$nocache" -ge 1 ]  # the cache did not fit, the container ran with its filter
  [ "$cached" -ge 1 ]   # and with room, the cache is written
  [ "$failed" -ge 1 ]   # the sweep also met the state's own writes
}

@test "faults: EROFS on the state root" {
  state_root_tmpfs 1m
  mount -o remount,ro "$ROOT"
  try ocirt create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"create state dir $ROOT/$ID: Read-only file system"* ]]
  no_leftovers
  # the read-only root still answers the read-only commands
  run ocirt list
  [ "$status" -eq 0 ]
  run ocirt state "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"does not exist"* ]]
}

@test "faults: EMFILE at every fd limit from 4 to 24, each step named, nothing left" {
  cfg 'del(.process.rlimits)'
  args sleep 100
  local failed=0
  for n in 4 5 6 7 8 9 10 11 12 14 16 20 24; do
    try sh -c 'ulimit -n "$1"; shift; exec "$@"' sh "$n" "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" "$ID"
    echo "nofile=$n: $status $output"
    if [ "$status" -eq 0 ]; then
      ocirt delete --force "$ID"
    else
      failed=$((failed + 1))
      [ "$status" -eq 1 ]
      [[ "$output" == *": Too many open files"* ]]
      [[ "$output" == "oci-rt: "?*": Too many open files"* ]]  # a step before the errno
    fi
    no_leftovers
  done
  [ "$failed" -ge 3 ]
}

@test "faults: a cgroup write the kernel refuses at create (v1 cpuset with no such cpu) names the file" {
  [ -d /sys/fs/cgroup/cpuset ] || skip "no v1 cpuset hierarchy"
  cfg '.linux.resources.cpu = {"cpus": "4095"}'
  try ocirt create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cpuset.cpus"* ]]
  [[ "$output" == *"nvalid argument"* || "$output" == *"Numerical result out of range"* ]]
  no_leftovers
}

@test "faults: update below what the container holds in memory (v1: the kernel cannot reclaim) names the field and file, the old limit stays" {
  [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>/dev/null)" = cgroupfs ] || skip "no v1 memory hierarchy (v2 sets memory.max and OOM-kills instead)"
  [ "$(awk '/^SwapTotal:/{print $2}' /proc/meminfo)" = 0 ] || skip "swap present: the kernel could swap the tmpfs pages out instead of refusing"
  # 40 MiB in the container's /dev/shm (tmpfs pages, charged to its cgroup, not reclaimable without swap)
  cfg '.linux.resources.memory.limit = 104857600'
  args sh -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null && echo ready && sleep 1000'
  ocirt run -d --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1
  for i in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.05; done
  grep -q ready "$BATS_TEST_TMPDIR/out"
  local lim
  lim=$(find /sys/fs/cgroup/memory -type d -name "$ID" | head -1)/memory.limit_in_bytes
  try ocirt update --memory 10485760 "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.resources.memory.limit"* ]]
  [[ "$output" == *"memory.limit_in_bytes"* ]]
  [[ "$output" == *"Device or resource busy"* ]]
  [ "$(cat "$lim")" = 104857600 ]
  [ "$(status_of)" = running ]
  ocirt exec "$ID" test -s /dev/shm/fill
  # a limit above what it holds is still taken
  ocirt update --memory 83886080 "$ID"
  [ "$(cat "$lim")" = 83886080 ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "faults: EAGAIN on clone (the caller's v1 pids cgroup is full)" {
  [ -d /sys/fs/cgroup/pids ] || skip "no v1 pids hierarchy"
  local cg=/sys/fs/cgroup/pids/$ID-caller
  mkdir "$cg"
  CLEANUP_DIRS="$cg ${CLEANUP_DIRS:-}"
  echo 1 > "$cg/pids.max"
  args sleep 100
  # the runtime alone fills the caller's cgroup: its clone of the init gets EAGAIN
  try sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"clone"*"Resource temporarily unavailable"* ]]
  no_leftovers
  [ -z "$(cat "$cg/cgroup.procs")" ]
}

@test "faults: the runtime does not use /dev/shm; a full bundle dir fails at the pid file, nothing left" {
  # create opens nothing under /dev/shm (the pid file and the state
  # root are where the runtime writes besides the cgroup files)
  args sleep 100
  local before after
  before=$(ls -A /dev/shm | sort)
  ocirt run -d --bundle "$BUNDLE" "$ID" > /dev/null 2>&1
  ocirt exec "$ID" true
  ocirt delete --force "$ID"
  after=$(ls -A /dev/shm | sort)
  [ "$before" = "$after" ]
  # a full filesystem at the pid file: the last step of create
  local pf=/run/oci-rt-test-$$-$BATS_TEST_NUMBER-pid
  mkdir -p "$pf"
  mount -t tmpfs -o size=4k tmpfs "$pf"
  UMOUNTS="${UMOUNTS:-} $pf"
  CLEANUP_DIRS="${CLEANUP_DIRS:-} $pf"
  dd if=/dev/zero of="$pf/fill" bs=4k count=1 2>/dev/null || true
  try ocirt create --bundle "$BUNDLE" --pid-file "$pf/pid" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"pid: No space left on device"* ]]
  no_leftovers
  [ "$(ls -A "$pf")" = fill ]  # no temporary file of the pid file left
}

@test "faults: a prestart hook that hangs is killed at its timeout, naming the hook, nothing left" {
  printf '#!/bin/sh\nsleep 1000\n' > "$BATS_TEST_TMPDIR/hang.sh"
  chmod +x "$BATS_TEST_TMPDIR/hang.sh"
  cfg --arg p "$BATS_TEST_TMPDIR/hang.sh" '.hooks = {prestart: [{path: $p, timeout: 1}]}'
  try ocirt create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"prestart"*"timed out after 1s"* ]]
  no_leftovers
  run ! pgrep -f "$BATS_TEST_TMPDIR/hang.sh"  # the hook was killed
}

@test "faults: a hook with no timeout that hangs (as runc: waited for), SIGKILL of the runtime, delete --force leaves nothing" {
  printf '#!/bin/sh\necho $$ > %s/hook.pid\nexec sleep 1000\n' "$BATS_TEST_TMPDIR" > "$BATS_TEST_TMPDIR/hang.sh"
  chmod +x "$BATS_TEST_TMPDIR/hang.sh"
  cfg --arg p "$BATS_TEST_TMPDIR/hang.sh" '.hooks = {createRuntime: [{path: $p}]}'
  "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1 &
  local rt=$!
  KILL_PIDS="${KILL_PIDS:-} $rt"
  for i in $(seq 200); do [ -s "$BATS_TEST_TMPDIR/hook.pid" ] && break; sleep 0.05; done
  [ -s "$BATS_TEST_TMPDIR/hook.pid" ]
  local hook
  hook=$(cat "$BATS_TEST_TMPDIR/hook.pid")
  KILL_PIDS="$KILL_PIDS $hook"
  [ "$(status_of)" = creating ]
  kill -9 "$rt"
  wait "$rt" || true
  ocirt delete --force "$ID"
  no_leftovers
  kill -9 "$hook"  # the hook is the caller's (runc leaves it too)
}

@test "faults: a console socket whose listener never accepts nor reads does not block create" {
  cfg '.process.terminal = true'
  args sleep 100
  silent_listener 1
  try timeout 20 "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/sock" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]  # the message waits in the socket's queue: nothing blocks
  [ "$(status_of)" = created ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "faults: a console socket whose listen backlog is full (nothing accepts) fails after a bounded wait, naming it, nothing left" {
  cfg '.process.terminal = true'
  args sleep 100
  # listen(0) and one pending connection nobody accepts: a blocking connect(2) would wait forever
  silent_listener 0
  try timeout 30 "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/sock" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]  # not 124: the runtime gave up by itself
  [[ "$output" == *"--console-socket: connect $BATS_TEST_TMPDIR/sock"* ]]
  [[ "$output" == *"Resource temporarily unavailable"* ]]
  no_leftovers
}

@test "faults: a console socket path with nobody listening fails naming the socket" {
  cfg '.process.terminal = true'
  python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$BATS_TEST_TMPDIR/sock"
  try timeout 20 "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/sock" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$BATS_TEST_TMPDIR/sock: Connection refused"* ]]
  no_leftovers
}
