#!/usr/bin/env bats
# exec: a new process inside a running container.

load helpers

start_sleeper() {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  INIT=$(ocirt state "$ID" | jq -r .pid)
}

@test "exec: the process joins the init's namespaces, cgroup, capabilities and seccomp" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  start_sleeper
  run ocirt exec "$ID" sh -c 'for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status'
  [ "$status" -eq 0 ]
  for n in pid net ipc uts mnt cgroup; do
    [[ "$output" == *"$(readlink /proc/$INIT/ns/$n)"* ]]
  done
  [[ "$output" == *"$(cat /proc/$INIT/cgroup)"* ]]
  for f in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
    [[ "$output" == *"$(grep "^$f:" /proc/$INIT/status)"* ]]
  done
  ocirt delete --force "$ID"
  no_leftovers
}

@test "exec: seccomp without no_new_privs (podman's default) is loaded once, before the caps drop" {
  cfg '.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  start_sleeper
  run ocirt exec "$ID" sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir /tmp/x'
  [ "$status" -ne 0 ]
  [[ "$output" == *"NoNewPrivs:"*"0"* ]]
  [[ "$output" == *"Seccomp:"*"2"* ]]
  [[ "$output" == *"mkdir"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "exec: exit status, 128+N, user, cwd, env, additional gids" {
  start_sleeper
  run ocirt exec "$ID" sh -c 'exit 9'
  [ "$status" -eq 9 ]
  run ocirt exec "$ID" sh -c 'kill -9 $$'
  [ "$status" -eq 137 ]
  run ocirt exec -u 1000:1001 -g 44 --cwd /tmp -e FOO=bar "$ID" sh -c 'id -u; id -g; grep ^Groups /proc/self/status; pwd; echo $FOO'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1001 ]
  [[ "${lines[2]}" == *44* ]]
  [ "${lines[3]}" = /tmp ]
  [ "${lines[4]}" = bar ]
  ocirt delete --force "$ID"
}

@test "exec: --process process.json" {
  start_sleeper
  cat > "$BATS_TEST_TMPDIR/p.json" <<'JSON'
{"args": ["sh", "-c", "echo from-json $X; id -u"], "env": ["X=1", "PATH=/bin"], "cwd": "/", "user": {"uid": 7, "gid": 7}}
JSON
  run ocirt exec --process "$BATS_TEST_TMPDIR/p.json" "$ID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "from-json 1" ]
  [ "${lines[1]}" = 7 ]
  ocirt delete --force "$ID"
}

@test "exec: --cap adds a capability; an unknown one is left out with a warning" {
  start_sleeper
  run ocirt exec "$ID" grep CapBnd /proc/self/status
  before=${output##*:}
  run ocirt exec --cap CAP_SYS_ADMIN "$ID" grep CapBnd /proc/self/status
  [ "$status" -eq 0 ]
  [ "${output##*:}" != "$before" ]
  # CAP_SYS_ADMIN is bit 21
  [ $(( 0x$(echo ${output##*:}) >> 21 & 1 )) -eq 1 ]
  run ocirt exec --cap CAP_BOGUS "$ID" true
  [ "$status" -eq 0 ]
  [[ "$output" == *'ignoring unknown or unavailable capabilities: [CAP_BOGUS]'* ]]
  ocirt delete --force "$ID"
}

@test "exec: --detach and --pid-file; missing executable uses runc's words" {
  start_sleeper
  ocirt exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 50
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  [ "$(readlink /proc/$pid/ns/pid)" = "$(readlink /proc/$INIT/ns/pid)" ]
  grep -q sleep /proc/$pid/cmdline
  run ocirt exec "$ID" nosuchprog
  [ "$status" -ne 0 ]
  [[ "$output" == *'exec: "nosuchprog": executable file not found in $PATH'* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "exec: refused in a stopped or missing container with runc's words" {
  args true
  ocirt run -d --bundle "$BUNDLE" "$ID"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  run ocirt exec "$ID" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot exec in a stopped container"* ]]
  run ocirt exec nosuch true
  [[ "$output" == *"container does not exist"* ]]
  ocirt delete "$ID"
}

@test "exec: no caller fd reaches the process" {
  start_sleeper
  exec 7>"$BATS_TEST_TMPDIR/seven" 8>"$BATS_TEST_TMPDIR/eight"
  run ocirt exec "$ID" ls /proc/self/fd
  exec 7>&- 8>&-
  [[ "$(echo $output)" == "0 1 2 3" ]]
  ocirt delete --force "$ID"
}

@test "CVE-2019-5736 for exec: the exec process runs from a read-only bind of the runtime" {
  start_sleeper
  "$OCIRT" --root "$ROOT" exec "$ID" sleep 30 &
  KILL_PIDS=$!
  # the foreground `oci-rt exec` stays as the parent; the process it cloned shares its exe
  for i in $(seq 100); do
    kid=$(pgrep -P "$KILL_PIDS" | head -1)
    [ -n "$kid" ] && break
    sleep 0.05
  done
  run sh -c "echo x > /proc/$KILL_PIDS/exe"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  ocirt delete --force "$ID"
}
