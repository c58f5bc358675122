#!/usr/bin/env bats
# OCI hooks: each at its point and in its namespace, state JSON on stdin, args, env, timeout,
# and what a failing hook does to the lifecycle.

load helpers

make_hook() {  # make_hook FILE: a hook that logs "<phase> <status> <pid> <mntns> <HOOKVAR>"
  cat > "$1" <<HOOK
#!/bin/sh
state=\$(cat)
echo "\$1 \$(echo "\$state" | jq -r '.status + " " + (.pid|tostring) + " " + .id + " " + .bundle') \$(readlink /proc/self/ns/mnt) \$HOOKVAR" >> $BATS_TEST_TMPDIR/hooks.log
HOOK
  chmod +x "$1"
}

hook() {  # hook PHASE: JSON of one hook entry for PHASE
  jq -cn --arg p "$BATS_TEST_TMPDIR/hook.sh" --arg phase "$1" '{path: $p, args: ["hook", $phase], env: ["HOOKVAR=v-" + $phase, "PATH=/usr/bin:/bin"]}'
}

@test "hooks: all six phases run in order with the state on stdin" {
  make_hook "$BATS_TEST_TMPDIR/hook.sh"
  # startContainer runs inside the container: its own hook, writing to a bind-mounted dir
  mkdir -p "$BATS_TEST_TMPDIR/in"
  printf '#!/bin/sh\necho "startContainer $(cat | wc -c) $HOOKVAR" >> /hooklog/in.log\n' > "$BUNDLE/rootfs/bin/inhook"
  chmod +x "$BUNDLE/rootfs/bin/inhook"
  cfg --argjson pre "$(hook prestart)" --argjson cr "$(hook createRuntime)" --argjson cc "$(hook createContainer)" \
      --argjson ps "$(hook poststart)" --argjson pst "$(hook poststop)" --arg in "$BATS_TEST_TMPDIR/in" '
    .hooks = {prestart: [$pre], createRuntime: [$cr], createContainer: [$cc],
              startContainer: [{path: "/bin/inhook", args: ["inhook"], env: ["HOOKVAR=inside"]}],
              poststart: [$ps], poststop: [$pst]}
    | .mounts += [{destination: "/hooklog", type: "bind", source: $in, options: ["bind"]}]'
  args sh -c 'cat /hooklog/in.log; echo main'
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  ctr_mnt=$(readlink /proc/$pid/ns/mnt)
  host_mnt=$(readlink /proc/self/ns/mnt)
  cat "$BATS_TEST_TMPDIR/hooks.log"
  run awk '{print $1, $2}' "$BATS_TEST_TMPDIR/hooks.log"
  [ "${lines[0]}" = "prestart creating" ]
  [ "${lines[1]}" = "createRuntime creating" ]
  [ "${lines[2]}" = "createContainer creating" ]
  [ "${#lines[@]}" -eq 3 ]
  # pid, id and bundle in the state; prestart/createRuntime in the runtime's mount ns,
  # createContainer in the container's
  grep -qxF "prestart creating $pid $ID $BUNDLE $host_mnt v-prestart" "$BATS_TEST_TMPDIR/hooks.log"
  grep -qxF "createRuntime creating $pid $ID $BUNDLE $host_mnt v-createRuntime" "$BATS_TEST_TMPDIR/hooks.log"
  grep -qxF "createContainer creating $pid $ID $BUNDLE $ctr_mnt v-createContainer" "$BATS_TEST_TMPDIR/hooks.log"
  ocirt start "$ID"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  grep -q "^poststart running $pid" "$BATS_TEST_TMPDIR/hooks.log"
  grep -q "^startContainer [1-9][0-9]* inside$" "$BATS_TEST_TMPDIR/in/in.log"
  run ! grep -q poststop "$BATS_TEST_TMPDIR/hooks.log"
  ocirt delete "$ID"
  grep -q "^poststop stopped" "$BATS_TEST_TMPDIR/hooks.log"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/hooks.log")" -eq 5 ]
  no_leftovers
}

@test "hooks: a failing prestart hook fails create, names the hook, leaves nothing" {
  printf '#!/bin/sh\necho broken-hook-output\nexit 3\n' > "$BATS_TEST_TMPDIR/fail.sh"
  chmod +x "$BATS_TEST_TMPDIR/fail.sh"
  cfg --arg p "$BATS_TEST_TMPDIR/fail.sh" '.hooks = {prestart: [{path: $p}]}'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hooks.prestart[0]"*"exit status 3"*"broken-hook-output"* ]]
  no_leftovers
}

@test "hooks: a failing createContainer hook fails create and leaves nothing" {
  cfg '.hooks = {createContainer: [{path: "/bin/false"}]}'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hooks.createContainer[0]"* ]]
  no_leftovers
}

@test "hooks: a missing hook binary is an error naming it" {
  cfg '.hooks = {createRuntime: [{path: "/nonexistent/hook"}]}'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hooks.createRuntime[0]"*"/nonexistent/hook"*"No such file or directory"* ]]
  no_leftovers
}

@test "hooks: timeout kills a hanging hook" {
  printf '#!/bin/sh\nsleep 30\n' > "$BATS_TEST_TMPDIR/hang.sh"
  chmod +x "$BATS_TEST_TMPDIR/hang.sh"
  cfg --arg p "$BATS_TEST_TMPDIR/hang.sh" '.hooks = {prestart: [{path: $p, timeout: 1}]}'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hooks.prestart[0]"*"timed out after 1s"* ]]
  no_leftovers
}

@test "hooks: failing poststart and poststop only warn" {
  cfg '.hooks = {poststart: [{path: "/bin/false"}], poststop: [{path: "/bin/false"}]}'
  args true
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"warning"*"hooks.poststart[0]"* ]]
  [[ "$output" == *"warning"*"hooks.poststop[0]"* ]]
  no_leftovers
}

@test "hooks: a relative hook path is refused by the validator" {
  cfg '.hooks = {prestart: [{path: "relative/hook"}]}'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *'hooks.prestart[0].path: "relative/hook" is not an absolute path'* ]]
  no_leftovers
}

@test "hooks: poststart runs after the process was executed; a failing one does not stop the next" {
  # the hook reads the container's pid from its state and records what that process runs: the
  # container's program (exec'd), never the runtime's init
  out=$BATS_TEST_TMPDIR/poststart
  printf '#!/bin/sh\npid=$(jq .pid)\ntr "\\000" " " < /proc/$pid/cmdline >> "$1"\necho >> "$1"\n' > "$BATS_TEST_TMPDIR/hook.sh"
  chmod +x "$BATS_TEST_TMPDIR/hook.sh"
  cfg --arg h "$BATS_TEST_TMPDIR/hook.sh" --arg o "$out" '.hooks = {poststart: [
      {path: "/bin/false"},
      {path: $h, args: ["hook", $o]}]}'
  args sleep 2
  for i in 1 2 3; do
    rm -f "$out"
    ocirt create --bundle "$BUNDLE" "$ID"
    ocirt start "$ID"
    [ "$(cat "$out")" = "sleep 2 " ]
    ocirt delete --force "$ID"
  done
  no_leftovers
}

@test "start: an exec that fails after start is reported by start itself" {
  # the executable exists at create (lookup passes) and is removed before start
  printf '#!/bin/sh\necho hi\n' > "$BUNDLE/rootfs/bin/vanish"
  chmod +x "$BUNDLE/rootfs/bin/vanish"
  args /bin/vanish
  ocirt create --bundle "$BUNDLE" "$ID"
  rm "$BUNDLE/rootfs/bin/vanish"
  run ocirt start "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"container process failed to start: exec /bin/vanish: No such file or directory"* ]]
  for j in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  ocirt delete "$ID"
  no_leftovers
}
