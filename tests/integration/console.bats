#!/usr/bin/env bats
# process.terminal with --console-socket.

load helpers

start_receiver() {
  out=$BATS_TEST_TMPDIR/console
  mkdir -p "$out"
  "$BATS_TEST_DIRNAME/console-receiver.py" "$out/sock" "$out" &
  KILL_PIDS=$!
  for i in $(seq 100); do [ -e "$out/listening" ] && break; sleep 0.05; done
}

@test "console socket: one message with the pty name and exactly one fd; the slave is the container's tty" {
  start_receiver
  cfg '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 111}'
  args sh -c 'tty; stty size; read x; echo got:$x'
  ocirt run -d --console-socket "$out/sock" --bundle "$BUNDLE" "$ID"
  for i in $(seq 200); do [ -e "$out/done" ] && break; sleep 0.05; done
  cat "$out/output"
  [ "$(cat "$out/nfds")" = 1 ]
  [ "$(cat "$out/name")" = /dev/pts/0 ]
  grep -q "/dev/pts/0" "$out/output"
  grep -q "33 111" "$out/output"
  grep -q "got:abc" "$out/output"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  ocirt delete "$ID"
  no_leftovers
}

@test "console socket: create + start, the container process holds a controlling terminal" {
  start_receiver
  cfg '.process.terminal = true'
  args sh -c 'cat /proc/self/stat | cut -d" " -f7; read x'
  ocirt create --console-socket "$out/sock" --bundle "$BUNDLE" "$ID"
  ocirt start "$ID"
  for i in $(seq 200); do [ -e "$out/done" ] && break; sleep 0.05; done
  # tty_nr (field 7) is non-zero: a controlling terminal
  tr -d '\r' < "$out/output" | grep -qE '^[1-9][0-9]*$'
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  ocirt delete "$ID"
}

@test "console socket: errors name the flag; nothing left behind" {
  cfg '.process.terminal = true'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [[ "$output" == *"--console-socket: required for process.terminal"* ]]
  run ocirt create --console-socket /nonexistent/sock --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"--console-socket: connect /nonexistent/sock: No such file or directory"* ]]
  no_leftovers
  cfg '.process.terminal = false'
  run ocirt create --console-socket /tmp/x --bundle "$BUNDLE" "$ID"
  [[ "$output" == *"--console-socket: given, but process.terminal is false"* ]]
  no_leftovers
}

@test "console socket: exec --tty gets its own pty in the container" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  start_receiver
  ocirt exec -t --console-socket "$out/sock" "$ID" sh -c 'tty; read x; echo got:$x'
  for i in $(seq 200); do [ -e "$out/done" ] && break; sleep 0.05; done
  [ "$(cat "$out/nfds")" = 1 ]
  [[ "$(cat "$out/name")" == /dev/pts/* ]]
  grep -q "^/dev/pts/" "$out/output"
  grep -q "got:abc" "$out/output"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "terminal without a socket: foreground run holds the pty, copies stdio, returns the status" {
  cfg '.process.terminal = true'
  args sh -c 'tty; read x; echo got:$x; exit 3'
  run bash -c "echo abc | '$OCIRT' --root '$ROOT' run --bundle '$BUNDLE' '$ID'"
  [ "$status" -eq 3 ]
  [[ "$output" == *"/dev/pts/0"* ]]
  [[ "$output" == *"got:abc"* ]]
  no_leftovers
}

@test "terminal without a socket: foreground exec -t; detached needs a socket" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  run bash -c "echo xyz | '$OCIRT' --root '$ROOT' exec -t '$ID' sh -c 'tty; read x; echo got:\$x; exit 4'"
  [ "$status" -eq 4 ]
  [[ "$output" == *"/dev/pts/"* ]]
  [[ "$output" == *"got:xyz"* ]]
  run ocirt exec -t -d "$ID" true
  [[ "$output" == *"--console-socket: required for a detached exec with a terminal"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}
