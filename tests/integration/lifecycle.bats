#!/usr/bin/env bats
# create / start / state / kill / delete / run / list / spec, and the words callers match.

load helpers

@test "run: prints the container's output and returns 0" {
  args echo hello
  run_ctr
  [ "$status" -eq 0 ]
  [ "$output" = "hello" ]
  no_leftovers
}

@test "run: returns the exit status of the container process" {
  args sh -c 'exit 42'
  run_ctr
  [ "$status" -eq 42 ]
  no_leftovers
}

@test "run: a process killed by a signal gives 128+N" {
  # pid 1 cannot be killed from inside its namespace: the signal comes from oci-rt kill
  args sh -c 'echo ready; sleep 100'
  run_bg_until_ready
  local pid=$BG_PID
  ocirt kill "$ID" KILL
  wait "$pid" || st=$?
  [ "${st:-0}" -eq 137 ]
  no_leftovers
}

@test "run: forwards SIGTERM to the container" {
  args sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
  run_bg_until_ready
  local pid=$BG_PID
  kill -TERM "$pid"
  wait "$pid" || st=$?
  [ "${st:-0}" -eq 7 ]
  grep -q got-term "$BATS_TEST_TMPDIR/out"
  no_leftovers
}

@test "lifecycle: create -> created with pid -> start -> running -> kill -> stopped -> delete" {
  args sleep 100
  ocirt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" "$ID"
  run ocirt state "$ID"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .status)" = created ]
  pid=$(echo "$output" | jq -r .pid)
  [ "$pid" -gt 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
  [ -d "/proc/$pid" ]
  ocirt start "$ID"
  [ "$(status_of)" = running ]
  # the process really is sleep now
  grep -q sleep "/proc/$pid/cmdline"
  ocirt kill "$ID" KILL
  for i in $(seq 50); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  [ "$(status_of)" = stopped ]
  [ "$(ocirt state "$ID" | jq -r .pid)" = 0 ]
  ocirt delete "$ID"
  no_leftovers
}

@test "state: runc's fields, bundle and rootfs absolute, annotations" {
  args true
  cfg '.annotations = {"org.example.key": "value"}'
  ocirt create --bundle "$BUNDLE" "$ID"
  run ocirt state "$ID"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$ID" --arg b "$BUNDLE" '
    .ociVersion == "1.2.0" and .id == $id and .status == "created" and (.pid > 0) and
    .bundle == $b and .rootfs == ($b + "/rootfs") and (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and
    .owner == "root" and .annotations["org.example.key"] == "value"'
  ocirt delete --force "$ID"
  no_leftovers
}

@test "state: validates against our state schema and the official one" {
  args true
  ocirt create --bundle "$BUNDLE" "$ID"
  ocirt state "$ID" > "$BATS_TEST_TMPDIR/state.json"
  /usr/bin/python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
    "$REPO/schema/state-schema.json" "$BATS_TEST_TMPDIR/state.json"
  "$BATS_TEST_DIRNAME/official-schema.py" state-schema.json "$BATS_TEST_TMPDIR/state.json"
  ocirt delete --force "$ID"
}

@test "start: twice is refused; a stopped container cannot start" {
  args sh -c 'while [ ! -e /go ]; do sleep 0.05; done'  # runs until the test says go
  ocirt create --bundle "$BUNDLE" "$ID"
  ocirt start "$ID"
  run ocirt start "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot start an already running container"* ]]
  touch "$BUNDLE/rootfs/go"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  run ocirt start "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot start a container that has stopped"* ]]
  ocirt delete "$ID"
  no_leftovers
}

@test "kill: signal names and numbers; a stopped container is 'container not running'" {
  args sh -c 'trap "exit 3" USR1; while :; do sleep 0.1; done'
  ocirt run --detach --bundle "$BUNDLE" "$ID"
  run ocirt kill "$ID" SIGUSR1
  [ "$status" -eq 0 ]
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  [ "$(status_of)" = stopped ]
  run ocirt kill "$ID" 15
  [ "$status" -ne 0 ]
  [[ "$output" == *"container not running"* ]]
  run ocirt kill "$ID" NOTASIGNAL
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid signal"* ]]
  ocirt delete "$ID"
  no_leftovers
}

@test "kill: default signal is SIGTERM" {
  # the container records the signal it traps in a host directory: another default (KILL,
  # INT, ...) would stop it too, but never write "got TERM"
  local sh=$BATS_TEST_TMPDIR/shared
  mkdir "$sh"
  cfg --arg s "$sh" '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["bind"]}]'
  args sh -c 'trap "echo got TERM > /shared/sig; exit 0" TERM
    trap "echo got USR1 > /shared/sig" USR1
    echo ready > /shared/ready
    while :; do sleep 0.1; done'
  ocirt run --detach --bundle "$BUNDLE" "$ID"
  for i in $(seq 100); do [ -s "$sh/ready" ] && break; sleep 0.05; done
  [ -s "$sh/ready" ]
  # the traps tell signals apart: USR1 is recorded as USR1, not TERM, and the container goes on
  ocirt kill "$ID" USR1
  for i in $(seq 100); do [ -s "$sh/sig" ] && break; sleep 0.05; done
  [ "$(cat "$sh/sig")" = "got USR1" ]
  [ "$(status_of)" = running ]
  ocirt kill "$ID"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  [ "$(status_of)" = stopped ]
  [ "$(cat "$sh/sig")" = "got TERM" ]
  ocirt delete "$ID"
  no_leftovers
}

@test "delete: a running container needs --force; --force kills it and removes everything" {
  args sleep 100
  ocirt run --detach --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  run ocirt delete "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"not stopped"* ]]
  [ -d "/proc/$pid" ]
  ocirt delete --force "$ID"
  [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  no_leftovers
}

@test "delete: a created container is killed and removed without --force (as runc and crun; containerd relies on it)" {
  args true
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  [ "$(status_of)" = created ]
  ocirt delete "$ID"
  run ocirt state "$ID"
  [[ "$output" == *"does not exist"* ]]
  for i in $(seq 50); do [ -d "/proc/$pid" ] || break; grep -q '^State:.*Z' "/proc/$pid/status" && break; sleep 0.05; done
  [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  no_leftovers
}

@test "missing container: 'container does not exist'; delete --force of it succeeds" {
  for cmd in state start delete kill; do
    run ocirt $cmd nosuchcontainer
    [ "$status" -eq 1 ]
    [[ "$output" == *"container does not exist"* ]]
  done
  run ocirt delete --force nosuchcontainer
  [ "$status" -eq 0 ]
}

@test "create: an id that is taken is refused and the first container is untouched" {
  args sleep 100
  ocirt create --bundle "$BUNDLE" "$ID"
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"already exists"* ]]
  [ "$(status_of)" = created ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "list: table and json" {
  args sleep 100
  ocirt create --bundle "$BUNDLE" "$ID-a"
  ocirt run --detach --bundle "$BUNDLE" "$ID-b"
  run ocirt list
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == ID*PID*STATUS*BUNDLE*CREATED*OWNER ]]
  [[ "$output" == *"$ID-a"*created* ]]
  [[ "$output" == *"$ID-b"*running* ]]
  run ocirt list --format json
  echo "$output" | jq -e --arg a "$ID-a" --arg b "$ID-b" \
    'length == 2 and (map(select(.id == $a))[0].status == "created") and (map(select(.id == $b))[0].status == "running")'
  run ocirt list -q
  [ "${#lines[@]}" -eq 2 ]
  ocirt delete --force "$ID-a"
  ocirt delete --force "$ID-b"
  no_leftovers "$ID-a"
  no_leftovers "$ID-b"
}

@test "list: per container only its own files (the boot id read once, -q in one write)" {
  command -v strace >/dev/null || skip "needs strace"
  args sleep 100
  for k in 1 2 3 4; do ocirt run --detach --bundle "$BUNDLE" "$ID-$k"; done
  # LeakSanitizer cannot run under ptrace (the suite's ASan stage runs this file too)
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -o "$BATS_TEST_TMPDIR/trace" -e trace=openat,write "$OCIRT" --root "$ROOT" list -q > "$BATS_TEST_TMPDIR/out"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 4 ]
  # contrib/bench/scale.sh: 1,000 containers make every per-container syscall count
  [ "$(grep -c 'random/boot_id' "$BATS_TEST_TMPDIR/trace")" -le 1 ]
  [ "$(grep -c '^write(1,' "$BATS_TEST_TMPDIR/trace")" -eq 1 ]
  for k in 1 2 3 4; do ocirt delete --force "$ID-$k"; no_leftovers "$ID-$k"; done
}

@test "run --detach: the runtime returns while the container runs" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  [ "$(status_of)" = running ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "state: a reused pid is never our container" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  # rewrite the recorded start time as if the pid belonged to another process
  sf="$ROOT/$ID/state.json"
  jq '.pidStartTime = 1' "$sf" > "$sf.new" && mv "$sf.new" "$sf"
  [ "$(status_of)" = stopped ]
  run ocirt kill "$ID" KILL
  [[ "$output" == *"container not running"* ]]
  # the real process was not signalled
  pid=$(jq -r .pid "$sf")
  [ -d "/proc/$pid" ]
  kill -9 "$pid"
  ocirt delete --force "$ID"
}

@test "state: a state dir from before a reboot reads as stopped" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  sf="$ROOT/$ID/state.json"
  pid=$(jq -r .pid "$sf")
  jq '.bootId = "00000000-0000-0000-0000-000000000000"' "$sf" > "$sf.new" && mv "$sf.new" "$sf"
  [ "$(status_of)" = stopped ]
  kill -9 "$pid"
  ocirt delete "$ID"
  no_leftovers
}

@test "version and help" {
  run "$OCIRT" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "oci-rt version "* ]]
  [[ "${lines[1]}" == "commit: "* ]]
  [[ "${lines[2]}" == "spec: 1.2.0" ]]
  run "$OCIRT" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *create*start*run* ]]
  run "$OCIRT" nosuchcommand
  [ "$status" -ne 0 ]
}

@test "--log --log-format json: exactly one error object for a failed command" {
  run "$OCIRT" --root "$ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json state nosuch
  [ "$status" -eq 1 ]
  [ "$(wc -l < "$BATS_TEST_TMPDIR/log.json")" -eq 1 ]
  jq -e '.level == "error" and (.msg | contains("container does not exist")) and (.time | length > 0)' "$BATS_TEST_TMPDIR/log.json"
}

@test "--systemd-cgroup on a host without systemd: refused naming the flag, nothing left" {
  [ ! -d /run/systemd/system ] || skip "systemd runs here (tests/systemd-vm.sh covers the driver)"
  args true
  run "$OCIRT" --root "$ROOT" --systemd-cgroup run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"--systemd-cgroup: systemd is not running on this host (no /run/systemd/system)"* ]]
  run "$OCIRT" --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"create failed: --systemd-cgroup: systemd is not running"* ]]
  no_leftovers
  # the flag is harmless to the commands that use the recorded driver
  run "$OCIRT" --root "$ROOT" --systemd-cgroup list
  [ "$status" -eq 0 ]
}

@test "spec: writes runc's template, refuses to overwrite, --rootless adds a user namespace" {
  d=$BATS_TEST_TMPDIR/spec
  mkdir -p "$d"
  "$OCIRT" spec --bundle "$d"
  jq -e '.process.args == ["sh"] and .root.path == "rootfs" and (.linux.namespaces | map(.type) | index("mount") != null)' "$d/config.json"
  run "$OCIRT" spec --bundle "$d"
  [ "$status" -ne 0 ]
  [[ "$output" == *exists* ]]
  rm "$d/config.json"
  "$OCIRT" spec --rootless --bundle "$d"
  jq -e '(.linux.namespaces | map(.type) | index("user") != null) and (.linux.uidMappings | length == 1) and (.linux.resources == null)' "$d/config.json"
}

@test "spec: output validates against the official runtime-spec schema (Debian's copy)" {
  d=$BATS_TEST_TMPDIR/spec
  mkdir -p "$d"
  "$OCIRT" spec --bundle "$d"
  "$BATS_TEST_DIRNAME/official-schema.py" config-schema.json "$d/config.json"
  "$OCIRT" spec --rootless --bundle "$d/r" 2>/dev/null || { mkdir -p "$d/r" && "$OCIRT" spec --rootless --bundle "$d/r"; }
  "$BATS_TEST_DIRNAME/official-schema.py" config-schema.json "$d/r/config.json"
}
