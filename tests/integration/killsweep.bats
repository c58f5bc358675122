#!/usr/bin/env bats
# kill -9 at every step, the smoke version (issue #15, item 5): contrib/killsweep/killsweep.sh
# with 3 stop points per command (its first syscall, its middle one, its last one) instead of
# every one. After each SIGKILL, `delete --force` and a new create + delete of the same id must
# leave no state dir, cgroup, mount, process or fd. The full sweep: docs/reliability.md.

load helpers

sweep() {
  command -v python3 >/dev/null || skip "no python3 (the ptrace driver, contrib/killsweep/killat.py)"
  run timeout 300 "$REPO/contrib/killsweep/killsweep.sh" --points 3 --config "${CONFIG:-plain}" "$@"
  echo "$output"
  [ "$status" -eq 0 ]
  for c in "$@"; do
    echo "$output" | grep -qE "^$c: [0-9]+ syscalls, 3 stop points tried \(every [0-9]+\), 0 left something"
  done
  [[ "$output" == *"killsweep: config ${CONFIG:-plain}, "*" 0 stop point(s) with leftovers"* ]]
}

@test "kill -9 of create and of the container's init during create leaves nothing after delete --force" {
  sweep create init
}

@test "kill -9 of start, exec and update leaves nothing after delete --force" {
  sweep start exec update
}

@test "kill -9 of delete and of run leaves nothing after delete --force" {
  sweep delete run
}

@test "kill -9 of the process exec starts, and of a foreground run's init after start, leaves nothing" {
  sweep execproc runinit
}

@test "kill -9 with every kind of hook in the config leaves nothing (create, its init, run)" {
  CONFIG=hooks sweep create init run
}

@test "kill -9 with a user namespace in the config leaves nothing (create, its init, the exec'd process)" {
  CONFIG=userns sweep create init execproc
}

@test "the sweep sees what a delete that skips the cgroup leaves" {
  command -v python3 >/dev/null || skip "no python3"
  # a runtime whose delete only removes the state dir: the sweep must report the cgroup and the
  # process it left
  cat > "$BATS_TEST_TMPDIR/broken" <<EOF
#!/bin/sh
if [ "\$3" = delete ]; then eval id=\\\${\$#}; rm -rf "\$2/\$id"; exit 0; fi
exec "$OCIRT" "\$@"
EOF
  chmod +x "$BATS_TEST_TMPDIR/broken"
  run timeout 300 env OCIRT="$BATS_TEST_TMPDIR/broken" "$REPO/contrib/killsweep/killsweep.sh" --points 2 start
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"left something"* ]]
  echo "$output" | grep -qE "^  start, stop at syscall [0-9]+ of [0-9]+: .*cgroup /sys/fs/cgroup/"
  echo "$output" | grep -qE "^  start, stop at syscall [0-9]+ of [0-9]+: .*processes "
}
