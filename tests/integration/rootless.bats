#!/usr/bin/env bats
# Rootless: oci-rt run by a user without privileges (runc's rootless mode): the user namespace
# and its maps made by the runtime (directly, or through newuidmap/newgidmap for several
# ranges), state under $XDG_RUNTIME_DIR/oci-rt, binds made inside the container's namespaces,
# the binary protected by a sealed copy, runc's rootless rules with the field named. The test
# user is made for this file and removed with everything it owns.

load helpers
load rootless

setup_file() {
  setup_template
  setup_rootless_user ocirt-rl
}

teardown_file() {
  teardown_rootless_user
}

setup() {
  ID=ocirt-rl-$$-$BATS_TEST_NUMBER
  B=$RL_DIR/b-$BATS_TEST_NUMBER
  mkdir -p "$B"
  cp -a "$TEMPLATE/rootfs" "$B/rootfs"
  chown -R "$RL_UID:$RL_GID" "$B"
  # the config as a rootless user gets it
  as_user "$RL_BIN" spec --rootless --bundle "$B"
  rl_cfg '.process.terminal = false'
}

teardown() {
  local d
  for d in "$RL_XDG"/oci-rt/*; do
    [ -e "$d/state.json" ] || continue
    as_user "$RL_BIN" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
  done
  for p in ${KILL_PIDS:-}; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$B"
}

rl_cfg() {
  jq "$@" "$B/config.json" > "$B/config.json.new" && mv "$B/config.json.new" "$B/config.json" && chown "$RL_UID:$RL_GID" "$B/config.json"
}
rl_args() { rl_cfg --argjson a "$(json_array "$@")" '.process.args = $a'; }
rl() { as_user "$RL_BIN" "$@"; }

# exec_runtime_pid BG: the pid of a foreground `oci-rt exec` started as `as_user ... &` (BG is
# the subshell, which runs setpriv, which becomes oci-rt: one pid), once its process is there
exec_runtime_pid() {
  local rt= i
  for i in $(seq 100); do
    rt=$(pgrep -P "$1" | head -1)
    [ -n "$rt" ] && [ -n "$(pgrep -P "$rt")" ] && break
    sleep 0.05
  done
  echo "$rt"
}

# nothing of ID is left: state dir, processes of the user, cgroups named after it
rl_nothing_left() {
  [ ! -e "$RL_XDG/oci-rt/$ID" ] || { echo "state dir left"; return 1; }
  # (a zombie is gone already: it waits only for the host's init to reap it)
  local p left= i
  for i in $(seq 20); do  # (a process the kernel is still tearing down gets a moment)
    left=
    for p in $(pgrep -u "$RL_UID"); do grep -q '^State:.*Z' /proc/$p/status 2>/dev/null || left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || { echo "processes left:"; for p in $left; do ps -o pid,ppid,stat,args -p $p; done; return 1; }
  [ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name "$ID" 2>/dev/null)" ] || { echo "cgroup left"; return 1; }
}

@test "rootless: spec --rootless + run: root inside, mapped to the user; state under \$XDG_RUNTIME_DIR/oci-rt" {
  rl_args sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; ls -ld /run/oci-rt-state 2>&1; echo ok'
  run rl run --bundle "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  out=$(echo "$output" | grep -v 'level=warning\|warning:' | tr -s ' ' | sed 's/^ //')
  [ "$(echo "$out" | sed -n 1,4p | tr '\n' '|')" = "0|0|0 $RL_UID 1|0 $RL_GID 1|" ]
  [[ "$output" == *ok* ]]
  # the state root is the user's, made 0700 with the sticky bit (runc's)
  [ "$(stat -c '%U %a' "$RL_XDG/oci-rt")" = "$RL_USER 1700" ]
  # this host's cgroups are not delegated to the user: skipped silently, as runc 1.1 (the
  # output is the container's alone: runc's own tests compare its first line)...
  [[ "$output" != *warning* ]]
  if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    # ... said with --debug
    rl_args true
    run rl --debug run --bundle "$B" "$ID"
    [ "$status" -eq 0 ] && [[ "$output" == *"rootless: no cgroup in"*"not delegated"* ]]
    # without a pid namespace of its own, runc 1.2's warning: nothing can kill all its processes
    rl_cfg '.linux.namespaces |= map(select(.type != "pid"))'
    run rl run --bundle "$B" "$ID"
    [ "$status" -eq 0 ] && [[ "$output" == *"warning: Creating a rootless container with no cgroup and no private pid namespace"* ]]
  fi
  rl_nothing_left
}

@test "rootless: several id ranges go through newuidmap/newgidmap (the user's /etc/subuid)" {
  rl_cfg --argjson u "$RL_UID" --argjson g "$RL_GID" --argjson s "$RL_SUBID_START" '
    .linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $s, size: 65536}]
    | .root.readonly = false
    | .process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"]
    | .process.capabilities.permitted += ["CAP_CHOWN"]'
  rl_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/owned && chown 1000:1000 /tmp/owned && echo chowned'
  run rl run --bundle "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  maps=$(echo "$output" | grep -E '^ *[0-9]+ +[0-9]+ +[0-9]+$' | tr -s ' ' | sed 's/^ //' | tr '\n' '|')
  [ "$maps" = "0 $RL_UID 1|1 $RL_SUBID_START 65536|0 $RL_GID 1|1 $RL_SUBID_START 65536|" ]
  [[ "$output" == *chowned* ]]
  # container uid 1000 is host uid SUBID_START + 999
  [ "$(stat -c %u:%g "$B/rootfs/tmp/owned")" = "$((RL_SUBID_START + 999)):$((RL_SUBID_START + 999))" ]
  rm -f "$B/rootfs/tmp/owned"
  rl_nothing_left
}

@test "rootless: create, start, exec (output, exit status, -t, detached), kill, delete: nothing left" {
  rl_args sleep 1000
  rl create --bundle "$B" "$ID"
  [ "$(rl state "$ID" | jq -r .status)" = created ]
  [ -e "$RL_XDG/oci-rt/$ID/state.json" ]
  [ "$(rl list -q)" = "$ID" ]
  [ "$(rl list --format json | jq -r '.[0].owner')" = "$RL_USER" ]
  rl start "$ID"
  [ "$(rl state "$ID" | jq -r .status)" = running ]
  # exec joins every namespace, the user namespace first; the process sees the container's
  run rl exec "$ID" sh -c 'echo in; cat /proc/1/cmdline | tr "\0" " "; id -u; exit 3'
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = in ] && [ "${lines[1]}" = "sleep 1000 " ] && [ "${lines[2]}" = 0 ]
  run rl exec -t "$ID" tty </dev/null
  [ "$status" -eq 0 ] && [[ "$output" == /dev/pts/* ]]
  rl exec -d --pid-file "$RL_DIR/exec.pid" "$ID" sleep 500
  pid=$(cat "$RL_DIR/exec.pid")
  [ "$(cut -d' ' -f1 /proc/$pid/cmdline 2>/dev/null | tr '\0' ' ')" = "sleep 500 " ]
  rl kill "$ID" KILL
  for i in $(seq 100); do [ "$(rl state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.05; done
  [ "$(rl state "$ID" | jq -r .status)" = stopped ]
  rl delete "$ID"
  rl_nothing_left
}

@test "rootless: bind mounts are made inside the container's namespaces (rw and ro)" {
  mkdir -p "$B/vol" && echo hi > "$B/vol/f" && chown -R "$RL_UID:$RL_GID" "$B/vol"
  rl_cfg --arg v "$B/vol" '.mounts += [{destination: "/rw", type: "bind", source: $v, options: ["rbind"]},
                                      {destination: "/ro", type: "bind", source: $v, options: ["rbind", "ro"]}]'
  rl_args sh -c 'cat /ro/f; echo written > /rw/g; touch /ro/h 2>&1; echo done'
  run rl run --bundle "$B" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *hi* && "$output" == *"Read-only file system"* && "$output" == *done* ]]
  [ "$(cat "$B/vol/g")" = written ] && [ ! -e "$B/vol/h" ]
  rl_nothing_left
}

@test "rootless: CVE-2019-5736: the runtime runs from a sealed copy; the user's binary cannot be written through /proc/PID/exe" {
  cp "$RL_BIN" "$BATS_TEST_TMPDIR/orig"
  rl_args sleep 1000
  rl run -d --bundle "$B" "$ID"
  # a foreground exec: the runtime waits as the process's parent
  as_user "$RL_BIN" exec "$ID" sleep 300 &
  bg=$!
  KILL_PIDS=$bg
  rt=$(exec_runtime_pid $bg)
  KILL_PIDS="$bg $rt"
  exe=$(readlink /proc/$rt/exe)
  # the 2019 exploit's move, by a process of the same user: hold the runtime's exe, wait until
  # it no longer runs, then write through the handle
  as_user sh -c "exec 3</proc/$rt/exe || exit 9; echo held > $RL_DIR/held; while [ ! -e $RL_DIR/go ]; do sleep 0.05; done
                 if echo PWNED 2>$RL_DIR/err >/proc/self/fd/3; then echo WROTE; else echo FAILED; fi > $RL_DIR/result" &
  KILL_PIDS="$KILL_PIDS $!"
  for i in $(seq 100); do [ -e "$RL_DIR/held" ] && break; sleep 0.05; done
  [ -e "$RL_DIR/held" ]
  kill -9 "$rt"
  wait "$bg" || true
  touch "$RL_DIR/go"
  for i in $(seq 100); do [ -s "$RL_DIR/result" ] && break; sleep 0.05; done
  cat "$RL_DIR/result" "$RL_DIR/err"
  [ "$(cat "$RL_DIR/result")" = FAILED ]
  grep -q "Operation not permitted" "$RL_DIR/err"
  cmp "$RL_BIN" "$BATS_TEST_TMPDIR/orig"
  [[ "$exe" == /memfd:oci-rt* ]]
  rm -f "$RL_DIR/held" "$RL_DIR/go" "$RL_DIR/result" "$RL_DIR/err"
  # a binary of the host's root that nobody else may write is not copied (nothing the user
  # starts can write it): /proc/PID/exe is the file, and the user's write is refused
  cp "$RL_BIN" "$RL_DIR/oci-rt-root" && chown 0:0 "$RL_DIR/oci-rt-root" && chmod 755 "$RL_DIR/oci-rt-root"
  as_user "$RL_DIR/oci-rt-root" exec "$ID" sleep 300 &
  bg=$!
  KILL_PIDS="$KILL_PIDS $bg"
  rt=$(exec_runtime_pid $bg)
  [ "$(readlink /proc/$rt/exe)" = "$RL_DIR/oci-rt-root" ]
  run as_user sh -c "echo PWNED > /proc/$rt/exe"
  [ "$status" -ne 0 ] && [[ "$output" == *"ermission denied"* ]]
  kill -9 "$rt"; wait "$bg" || true
  cmp "$RL_DIR/oci-rt-root" "$BATS_TEST_TMPDIR/orig"
  # the created init is dumpable again for its user (as runc's rootless init always is, so that
  # exec can join a created container) only once it holds nothing of the host: its exe is the
  # sealed copy, its root the container's, no fd of it a directory
  rl delete --force "$ID"
  rl_args true
  rl create --bundle "$B" "$ID"
  pid=$(rl state "$ID" | jq -r .pid)
  run as_user sh -c "echo PWNED > /proc/$pid/exe"
  [ "$status" -ne 0 ] && [[ "$output" == *"Text file busy"* || "$output" == *"Operation not permitted"* ]]
  [[ "$(readlink /proc/$pid/exe)" == /memfd:oci-rt* ]]
  as_user test -e /proc/$pid/root/bin/busybox
  run as_user test -e "/proc/$pid/root$RL_DIR"
  [ "$status" -ne 0 ]
  # (one directory fd: its own fd dir in the container's procfs, to reopen the exec fifo)
  for f in /proc/$pid/fd/*; do
    as_user test -d "$f" || continue
    [ "$(readlink "$f")" = /proc/1/task/1/fd ] || { echo "fd $f: $(readlink "$f")"; false; }
  done
  run rl exec "$ID" sh -c 'echo joined; cat /proc/1/cmdline'
  [ "$status" -eq 0 ] && [[ "$output" == joined* ]]
  cmp "$RL_BIN" "$BATS_TEST_TMPDIR/orig"
  rl delete --force "$ID"
  rl_nothing_left
}

@test "rootless: what the runtime may not do is refused naming the field, and leaves nothing" {
  rl_args true
  # a limit without a delegated cgroup (runc's words)
  if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    rl_cfg '.linux.resources = {pids: {limit: 10}}'
    run rl run --bundle "$B" "$ID"
    [ "$status" -ne 0 ] && [[ "$output" == *"linux.resources.pids.limit"*"cannot set pids limit: container could not join or create cgroup"* ]]
    rl_nothing_left
    rl_cfg 'del(.linux.resources)'
  fi
  cp "$B/config.json" "$B/saved.json"
  # refused JQ-EDIT GLOB: the saved config with JQ-EDIT fails with output matching *GLOB*,
  # leaving nothing
  refused() {
    cp "$B/saved.json" "$B/config.json"
    rl_cfg "$1"
    run rl run --bundle "$B" "$ID"
    echo "$output"
    [ "$status" -ne 0 ] && [[ "$output" == *$2* ]] && rl_nothing_left
  }
  refused '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)' \
    'linux.namespaces*rootless container requires user namespaces'
  # a range that is not the user's
  refused '.linux.uidMappings += [{containerID: 1, hostID: 1000000, size: 10}]' 'linux.uidMappings*newuidmap'
  refused '.process.user.additionalGids = [5]' \
    'process.user.additionalGids*cannot set any additional groups in a rootless container'
  refused '.mounts += [{destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=1000"]}]' \
    'mounts\[*\].options\[0\]*cannot specify uid=1000 mount option for rootless container'
  refused '.process.oomScoreAdj = -500' 'process.oomScoreAdj'
  refused '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 99999999, soft: 1024}]' \
    'process.rlimits\[0\]*needs CAP_SYS_RESOURCE'
  cp "$B/saved.json" "$B/config.json"
  # --rootless takes runc's values
  run rl --rootless maybe list
  [ "$status" -ne 0 ] && [[ "$output" == *'invalid value for --rootless: "maybe"'* ]]
  run rl --rootless false list
  [ "$status" -eq 0 ]
  rl_nothing_left
}
