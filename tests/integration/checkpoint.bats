#!/usr/bin/env bats
# checkpoint and restore (criu swrk). The refusals run everywhere; criu's own failure runs where
# `criu check` fails (this project's 6.18 host: vdso); the real checkpoints run where it passes
# (tests/checkpoint-vm.sh: Debian's 6.1 kernel) and skip elsewhere with criu's reason.

load helpers

# criu_reason: empty when criu works here, else why not (criu's last error line)
criu_reason() {
  command -v criu >/dev/null || { echo "criu is not installed"; return; }
  local out
  out=$(criu check 2>&1) && return
  echo "criu check fails: $(echo "$out" | grep -m1 'Error' || echo "$out" | tail -1)"
}

requires_criu() {
  local why
  why=$(criu_reason)
  [ -z "$why" ] || skip "$why"
}

# A counter on stdout, one number per step; stdin and stdout/stderr are pipes (as conmon and
# containerd give), so the restore goes through descriptors.json and criu's inherit-fd.
counter() {
  args sh -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done'
}

# start_piped LOG ARGS...: `oci-rt ARGS` (run -d or restore -d) with stdin an empty pipe and
# stdout/stderr a pipe into LOG (cat exits when the last writer, the container, is gone);
# the command's exit status goes to LOG.rc
start_piped() {
  local log=$1; shift
  { true | "$OCIRT" --root "$ROOT" "$@"; echo $? > "$log.rc"; } 2>&1 | cat > "$log" &
  for i in $(seq 300); do [ -s "$log.rc" ] && break; sleep 0.1; done
  [ "$(cat "$log.rc")" = 0 ] || { echo "oci-rt $* failed: $(cat "$log")"; return 1; }
}

# wait_count LOG N: LOG has at least N numbers
wait_count() {
  for i in $(seq 300); do [ "$(grep -c '^[0-9]*$' "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  echo "$1 never reached $2 lines: $(tail -3 "$1")"; return 1
}

mounts_left() {
  grep -F "$ROOT" /proc/self/mountinfo && return 0
  return 1
}

@test "checkpoint: a created or stopped container is refused with runc's words, and stays as it was" {
  args sleep 100
  ocirt create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ocirt checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Container cannot be checkpointed in created state"* ]]
  [ "$(status_of)" = created ]
  ocirt kill "$ID" KILL
  for i in $(seq 50); do [ "$(status_of)" = stopped ] && break; sleep 0.1; done
  run ocirt checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Container cannot be checkpointed in stopped state"* ]]
  ocirt delete "$ID"
  no_leftovers
  run ocirt checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"container does not exist"* ]]
}

@test "checkpoint: bad options are refused before criu runs; the container keeps running" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pid=$(ocirt state "$ID" | jq .pid)
  img=$BATS_TEST_TMPDIR/img
  run ocirt checkpoint --pre-dump --image-path "$img" --parent-path "$BATS_TEST_TMPDIR/parent" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"--parent-path must be relative"* ]]
  run ocirt checkpoint --pre-dump --image-path "$img" --parent-path ./parent-dir "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid --parent-path"* ]]
  run ocirt checkpoint --image-path "$img" --page-server 127.0.0.1 "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Use --page-server ADDRESS:PORT to specify page server"* ]]
  run ocirt checkpoint --image-path "$img" --page-server 127.0.0.1:x "$ID"
  [[ "$output" == *"Invalid port number"* ]]
  run ocirt checkpoint --image-path "$img" --manage-cgroups-mode bogus "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Invalid manage cgroups mode"* ]]
  run ocirt checkpoint --image-path "$img" --empty-ns ipc "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *'namespace "ipc" is not supported'* ]]
  [ "$(status_of)" = running ]
  [ "$(ocirt state "$ID" | jq .pid)" = "$pid" ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "checkpoint and restore: criu missing is an error naming it; nothing changes, nothing is left" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pid=$(ocirt state "$ID" | jq .pid)
  run "$OCIRT" --root "$ROOT" --criu "$BATS_TEST_TMPDIR/no-criu" checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot run $BATS_TEST_TMPDIR/no-criu: No such file or directory"* ]]
  [ "$(status_of)" = running ]
  [ "$(ocirt state "$ID" | jq .pid)" = "$pid" ]
  # restore: no container is made
  run "$OCIRT" --root "$ROOT" --criu "$BATS_TEST_TMPDIR/no-criu" restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$ID-r"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot run"* ]]
  no_leftovers "$ID-r"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "checkpoint and restore: criu failing (its check fails here) is an error with criu's reason and its log; nothing changes" {
  command -v criu >/dev/null || skip "criu is not installed"
  [ -n "$(criu_reason)" ] || skip "criu works on this kernel (the real checkpoints below run instead)"
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pid=$(ocirt state "$ID" | jq .pid)
  work=$BATS_TEST_TMPDIR/work
  run ocirt checkpoint --image-path "$BATS_TEST_TMPDIR/img" --work-path "$work" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"criu failed: type DUMP"* ]]
  [[ "$output" == *"log file: $work/dump.log"* ]]
  [[ "$output" == *"Error ("* ]]   # criu's own reason, from its log
  [ -s "$work/dump.log" ]
  [ "$(status_of)" = running ]
  [ "$(ocirt state "$ID" | jq .pid)" = "$pid" ]
  run ! pgrep -x criu
  # restore from an image dir as a checkpoint leaves it: the new container is removed again
  echo '["pipe:[1]","pipe:[2]","pipe:[2]"]' > "$BATS_TEST_TMPDIR/img/descriptors.json"
  run ocirt restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" --work-path "$work" "$ID-r"
  [ "$status" -eq 1 ]
  [[ "$output" == *"criu failed: type RESTORE"* ]]
  [[ "$output" == *"log file: $work/restore.log"* ]]
  no_leftovers "$ID-r"
  run ! mounts_left
  run ! pgrep -x criu
  ocirt delete --force "$ID"
  no_leftovers
}

@test "restore: a missing checkpoint (no descriptors.json) fails and leaves nothing" {
  command -v criu >/dev/null || skip "criu is not installed"
  mkdir -p "$BATS_TEST_TMPDIR/empty"
  run ocirt restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/empty" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"descriptors.json"* ]]
  no_leftovers
  run ! mounts_left
}

@test "create records the init's stdio (runc's external descriptors): pipes by name" {
  args sleep 100
  { true | "$OCIRT" --root "$ROOT" run -d --bundle "$BUNDLE" "$ID"; } 2>&1 | cat > /dev/null &
  for i in $(seq 50); do [ -e "$ROOT/$ID/state.json" ] && [ "$(status_of)" = running ] && break; sleep 0.1; done
  pid=$(ocirt state "$ID" | jq .pid)
  rec=$(jq -c .externalDescriptors "$ROOT/$ID/state.json")
  [ "$(echo "$rec" | jq -r '.[0]')" = "$(readlink /proc/$pid/fd/0)" ]
  [ "$(echo "$rec" | jq -r '.[1]')" = "$(readlink /proc/$pid/fd/1)" ]
  [ "$(echo "$rec" | jq -r '.[2]')" = "$(readlink /proc/$pid/fd/2)" ]
  [[ "$(echo "$rec" | jq -r '.[1]')" == "pipe:["* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "stdio on the host's /dev/null is reopened from the container's /dev (runc's reOpenDevNull: criu can dump it)" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pid=$(ocirt state "$ID" | jq .pid)
  dev=$(awk '$5 == "/dev" {print $1}' /proc/$pid/mountinfo | tail -1)
  [ -n "$dev" ]
  for fd in 0 1 2; do
    [ "$(readlink /proc/$pid/fd/$fd)" = /dev/null ]
    [ "$(awk '/^mnt_id:/ {print $2}' /proc/$pid/fdinfo/$fd)" = "$dev" ]
  done
  ocirt delete --force "$ID"
  no_leftovers
}

@test "checkpoint/restore: the callers' probes (podman: --help exits 0; 'flag needs an argument')" {
  run ocirt checkpoint --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--leave-running"* ]]
  run ocirt restore --lsm-mount-context
  [ "$status" -ne 0 ]
  [[ "$output" == *"flag needs an argument"* ]]
  # Go-style single-dash long flags (go-runc: -no-subreaper)
  run ocirt restore -no-subreaper -h
  [ "$status" -eq 0 ]
}

# --- the real thing: where criu works ---

@test "checkpoint and restore: a counter continues where it was, twice; nothing left between" {
  requires_criu
  counter
  T=$BATS_TEST_TMPDIR
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 5
  ocirt checkpoint --image-path "$T/img" --work-path "$T/work" "$ID"
  [ -s "$T/img/descriptors.json" ]
  run ocirt state "$ID"
  [ "$status" -eq 1 ]
  no_leftovers
  wait
  last1=$(grep '^[0-9]*$' "$T/log1" | tail -1)
  start_piped "$T/log2" restore -d --bundle "$BUNDLE" --image-path "$T/img" --work-path "$T/work" "$ID"
  [ "$(status_of)" = running ]
  wait_count "$T/log2" 3
  first2=$(grep '^[0-9]*$' "$T/log2" | head -1)
  echo "# counter before the checkpoint: $(grep '^[0-9]*$' "$T/log1" | tail -3 | tr '\n' ' ')| after the restore: $(head -3 "$T/log2" | tr '\n' ' ')" >&3
  [ "$first2" -eq $((last1 + 1)) ]
  [ "$(ocirt exec "$ID" echo ok)" = ok ]
  # a second cycle: the restored container's stdio (criu's) was recorded
  ocirt checkpoint --image-path "$T/img2" "$ID"
  no_leftovers
  wait
  last2=$(grep '^[0-9]*$' "$T/log2" | tail -1)
  start_piped "$T/log3" restore -d --bundle "$BUNDLE" --image-path "$T/img2" "$ID"
  wait_count "$T/log3" 2
  first3=$(grep '^[0-9]*$' "$T/log3" | head -1)
  echo "# second cycle: ... $last2 | $(head -3 "$T/log3" | tr '\n' ' ')" >&3
  [ "$first3" -eq $((last2 + 1)) ]
  ocirt delete --force "$ID"
  wait
  no_leftovers
  run ! mounts_left
}

@test "checkpoint --leave-running; restore under a new id from a new bundle path" {
  requires_criu
  counter
  T=$BATS_TEST_TMPDIR
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 3
  ocirt checkpoint --leave-running --image-path "$T/img" "$ID"
  [ "$(status_of)" = running ]
  n=$(grep -c '^[0-9]*$' "$T/log1")
  wait_count "$T/log1" $((n + 2))   # still counting
  at=$(grep '^[0-9]*$' "$T/log1" | tail -1)
  ocirt delete --force "$ID"
  wait
  no_leftovers
  cp -a "$BUNDLE" "$T/bundle2"
  start_piped "$T/log2" restore -d --bundle "$T/bundle2" --image-path "$T/img" "$ID-new"
  [ "$(status_of "$ID-new")" = running ]
  [ "$(ocirt state "$ID-new" | jq -r .bundle)" = "$T/bundle2" ]
  wait_count "$T/log2" 2
  first=$(grep '^[0-9]*$' "$T/log2" | head -1)
  echo "# --leave-running: the original had reached $at when deleted; $ID-new (bundle2) restored from $first" >&3
  [ "$first" -ge 3 ] && [ "$first" -le $((at + 1)) ]
  # its own cgroup (named after the new id), none of the old one's
  pid=$(ocirt state "$ID-new" | jq .pid)
  grep -q "$ID-new" /proc/$pid/cgroup
  ocirt delete --force "$ID-new"
  wait
  no_leftovers "$ID-new"
  no_leftovers
  run ! mounts_left
}

@test "checkpoint --pre-dump, then a dump with --parent-path; the restore continues" {
  requires_criu
  counter
  T=$BATS_TEST_TMPDIR
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 3
  ocirt checkpoint --pre-dump --image-path "$T/parent" "$ID"
  [ "$(status_of)" = running ]
  ocirt checkpoint --parent-path ../parent --image-path "$T/img" --work-path "$T/work" "$ID"
  [ -L "$T/img/parent" ]
  no_leftovers
  wait
  last=$(grep '^[0-9]*$' "$T/log1" | tail -1)
  start_piped "$T/log2" restore -d --bundle "$BUNDLE" --image-path "$T/img" --work-path "$T/work" "$ID"
  wait_count "$T/log2" 2
  echo "# pre-dump + --parent-path: ... $last | $(head -2 "$T/log2" | tr '\n' ' ')" >&3
  [ "$(grep '^[0-9]*$' "$T/log2" | head -1)" -eq $((last + 1)) ]
  ocirt delete --force "$ID"
  wait
  no_leftovers
}

@test "checkpoint and restore: bind mounts (external to criu, one inside a tmpfs) are bound again from their sources" {
  requires_criu
  T=$BATS_TEST_TMPDIR
  mkdir -p "$T/data"
  echo hello > "$T/data/x"
  mkdir -p "$T/shm"
  echo inside-tmpfs > "$T/shm/y"
  # the second bind lies inside the /dev tmpfs (as podman's /dev/shm): external all the same
  cfg --arg s "$T/data" --arg s2 "$T/shm" '.mounts += [{"destination": "/data", "type": "bind", "source": $s, "options": ["rbind", "rw"]},
                                                     {"destination": "/dev/ckpt", "type": "bind", "source": $s2, "options": ["rbind", "rw"]}]'
  args sh -c 'i=0; while :; do echo $i; echo $i > /data/n; i=$((i+1)); sleep 0.2; done'
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 3
  ocirt checkpoint --image-path "$T/img" "$ID"
  wait
  no_leftovers
  echo changed > "$T/data/x"
  start_piped "$T/log2" restore -d --bundle "$BUNDLE" --image-path "$T/img" "$ID"
  wait_count "$T/log2" 2
  [ "$(ocirt exec "$ID" cat /data/x)" = changed ]
  [ "$(ocirt exec "$ID" cat /dev/ckpt/y)" = inside-tmpfs ]
  ocirt delete --force "$ID"
  wait
  no_leftovers
  run ! mounts_left
}

@test "restore: prestart and createRuntime hooks run with the restored pid" {
  requires_criu
  counter
  T=$BATS_TEST_TMPDIR
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 2
  ocirt checkpoint --image-path "$T/img" "$ID"
  wait
  cfg --arg o "$T/hook" '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >> \($o).prestart"]}],
                                    "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >> \($o).cr"]}]}'
  start_piped "$T/log2" restore -d --bundle "$BUNDLE" --image-path "$T/img" "$ID"
  pid=$(ocirt state "$ID" | jq .pid)
  [ "$(jq .pid "$T/hook.prestart")" = "$pid" ]
  [ "$(jq .pid "$T/hook.cr")" = "$pid" ]
  ocirt delete --force "$ID"
  wait
  no_leftovers
}

# tcp_pair: in the container (its own net namespace; lo brought up, so CAP_NET_ADMIN), a busybox
# nc server on 127.0.0.1:5000 (its stdin a pipe that never ends: on EOF busybox nc shuts the
# connection down) and a client connected to it; the counter goes over that connection
# and the server writes what it receives to the container's stdout (a single-shot server: if the
# connection broke, nothing more would arrive)
tcp_pair() {
  cfg '.process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN"])'
  args sh -c 'ip link set lo up || exit 1; sleep 1000000 | nc -l -p 5000 & until netstat -tln | grep -q ":5000 "; do sleep 0.1; done; i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done | nc 127.0.0.1 5000'
}

# established ID: the container's ESTABLISHED TCP connections (local peer), sorted
established() {
  ocirt exec "$1" netstat -tn | awk '$6 == "ESTABLISHED" {print $4, $5}' | sort
}

@test "checkpoint --tcp-established: an established TCP connection inside the container continues after the restore; without it criu refuses, nothing changes" {
  requires_criu
  tcp_pair
  T=$BATS_TEST_TMPDIR
  start_piped "$T/log1" run -d --bundle "$BUNDLE" "$ID"
  wait_count "$T/log1" 3
  conns=$(established "$ID")
  [ "$(echo "$conns" | grep -c 127.0.0.1:5000)" = 2 ]   # both ends of the one connection
  pid=$(ocirt state "$ID" | jq .pid)
  # without --tcp-established: criu refuses (its reason and its log), the container keeps counting
  run ocirt checkpoint --image-path "$T/img0" --work-path "$T/work0" "$ID"
  echo "# without --tcp-established: $(echo "$output" | tr '\n' ' ')" >&3
  [ "$status" -eq 1 ]
  [[ "$output" == *"criu failed: type DUMP"* ]]
  [[ "$output" == *"log file: $T/work0/dump.log"* ]]
  [[ "$output" == *"Connected TCP socket, consider using --tcp-established option"* ]]
  [ "$(status_of)" = running ]
  [ "$(ocirt state "$ID" | jq .pid)" = "$pid" ]
  [ "$(established "$ID")" = "$conns" ]
  n=$(grep -c '^[0-9]*$' "$T/log1")
  wait_count "$T/log1" $((n + 2))
  run ! pgrep -x criu
  # with it
  ocirt checkpoint --tcp-established --image-path "$T/img" --work-path "$T/work" "$ID"
  no_leftovers
  wait
  last=$(grep '^[0-9]*$' "$T/log1" | tail -1)
  # criu restores no network device (runc's empty_ns: the network is the caller's): the restored
  # net namespace's lo is down and criu cannot connect the socket back ("Network is unreachable").
  # The caller brings lo up from a prestart hook, which runs in criu's setup-namespaces step,
  # before the sockets are restored (as podman/CNI configure a restored container's network)
  cfg '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "nsenter -t $(jq .pid) -n /bin/busybox ip link set lo up"]}]}'
  start_piped "$T/log2" restore -d --tcp-established --bundle "$BUNDLE" --image-path "$T/img" --work-path "$T/work" "$ID"
  [ "$(status_of)" = running ]
  wait_count "$T/log2" 3
  after=$(established "$ID")
  echo "# --tcp-established: ... $last | after the restore, over the same connection: $(grep '^[0-9]*$' "$T/log2" | head -3 | tr '\n' ' ')" >&3
  echo "# connection before: $(echo "$conns" | tr '\n' ' ')| after: $(echo "$after" | tr '\n' ' ')" >&3
  [ "$(grep '^[0-9]*$' "$T/log2" | head -1)" -eq $((last + 1)) ]
  [ "$after" = "$conns" ]
  ocirt delete --force "$ID"
  wait
  no_leftovers
  run ! mounts_left
}

# recv_console SOCKET OUT: a --console-socket peer that keeps the pty master and appends what the
# container writes to OUT (without \r) until the pty closes; the name it was sent in OUT.name
recv_console() {
  cat > "$BATS_TEST_TMPDIR/recv.py" <<'EOP'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
open(out + ".name", "w").write(msg.decode())
f = open(out, "ab", buffering=0)
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    f.write(chunk.replace(b"\r", b""))
EOP
  : > "$2"
  python3 "$BATS_TEST_TMPDIR/recv.py" "$1" "$2" &
  KILL_PIDS="${KILL_PIDS:-} $!"
  for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
  echo "no console socket at $1"; return 1
}

@test "checkpoint and restore: terminal: true, the new pty's master goes to --console-socket" {
  requires_criu
  command -v python3 >/dev/null || skip "no python3 (the console socket's peer)"
  counter
  cfg '.process.terminal = true'
  T=$BATS_TEST_TMPDIR
  recv_console "$T/c1.sock" "$T/tty1"
  ocirt run -d --console-socket "$T/c1.sock" --bundle "$BUNDLE" "$ID"
  wait_count "$T/tty1" 3
  ocirt checkpoint --image-path "$T/img" "$ID"
  no_leftovers
  [[ "$(cat "$T/img/descriptors.json")" == '["/dev/pts/'* ]]
  sleep 0.5
  last=$(grep '^[0-9]*$' "$T/tty1" | tail -1)
  recv_console "$T/c2.sock" "$T/tty2"
  ocirt restore -d --console-socket "$T/c2.sock" --bundle "$BUNDLE" --image-path "$T/img" "$ID"
  [ "$(status_of)" = running ]
  wait_count "$T/tty2" 2
  first=$(grep '^[0-9]*$' "$T/tty2" | head -1)
  echo "# terminal: ... $last | on the new pty: $(grep '^[0-9]*$' "$T/tty2" | head -2 | tr '\n' ' ')(sent as \"$(cat "$T/tty2.name")\")" >&3
  [ "$first" -eq $((last + 1)) ]
  ocirt delete --force "$ID"
  no_leftovers
  run ! mounts_left
}

@test "podman container checkpoint / restore with --runtime oci-rt, then runc: the counter continues" {
  requires_criu
  command -v podman >/dev/null || skip "no podman"
  [ -d /run/systemd/system ] || skip "systemd is not PID 1 (podman's cgroup_manager here is systemd)"
  T=$BATS_TEST_TMPDIR
  run_root=/run/ocirt-test-$$-podman
  printf '%s\n' '[containers]' 'netns = "none"' 'log_driver = "k8s-file"' '[engine]' 'cgroup_manager = "systemd"' \
    'events_logger = "file"' 'runtime_supports_json = ["runc", "ocirt"]' '[engine.runtimes]' \
    "ocirt = [\"$OCIRT\"]" "runc = [\"$(command -v runc)\"]" > "$T/containers.conf"
  printf '%s\n' '[storage]' 'driver = "vfs"' "runroot = \"$run_root\"" "graphroot = \"$T/storage\"" > "$T/storage.conf"
  export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
  CLEANUP_DIRS="${CLEANUP_DIRS:-} $run_root"
  tar -C "$BUNDLE/rootfs" -cf "$T/rootfs.tar" .
  podman import "$T/rootfs.tar" localhost/ocirt-ckpt:latest >/dev/null
  for rt in ocirt runc; do
    id=$(podman --runtime $rt run -d localhost/ocirt-ckpt:latest sh -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done')
    for i in $(seq 100); do [ "$(podman logs "$id" | wc -l)" -ge 3 ] && break; sleep 0.1; done
    podman container checkpoint "$id"
    [ "$(podman inspect -f '{{.State.Status}}' "$id")" = exited ]
    last=$(podman logs "$id" | tail -1)
    podman container restore "$id"
    [ "$(podman inspect -f '{{.State.Status}}' "$id")" = running ]
    for i in $(seq 100); do [ "$(podman logs "$id" | tail -1)" -ge $((last + 2)) ] && break; sleep 0.1; done
    echo "# podman ($rt): ... $last | $(podman logs "$id" | grep -A2 -x "$last" | tail -2 | tr '\n' ' ')(restarts from 0: $(( $(podman logs "$id" | grep -c -x 0) - 1 )))" >&3
    # the line after the last one before the checkpoint is the next number, and it never restarted
    [ "$(podman logs "$id" | grep -A1 -x "$last" | tail -1)" = $((last + 1)) ]
    [ "$(podman logs "$id" | grep -c -x 0)" = 1 ]
    [ "$(podman exec "$id" echo in)" = in ]
    podman rm -f -t 0 "$id" >/dev/null
  done
  podman rmi -a -f >/dev/null 2>&1 || true
  no_leftovers
}
