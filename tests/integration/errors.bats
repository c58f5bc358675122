#!/usr/bin/env bats
# Bad input: a clear error naming the JSON field (or step) and errno, a non-zero exit, and
# nothing left behind (state dir, cgroup, mount, process).

load helpers

expect_error() {  # expect_error TEXT: create fails, output contains TEXT, nothing is left
  run ocirt create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  no_leftovers
}

@test "config: invalid JSON" {
  echo '{"ociVersion": "1.2.0",' > "$BUNDLE/config.json"
  expect_error "invalid JSON at offset"
}

@test "config: a document nested 100,000 levels deep is refused before validation" {
  # an unknown top-level key: the schema allows it, only the depth limit stops it (the validator's
  # cost grows with the square of the depth: 37 s of CPU here before the limit)
  python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); s = json.dumps(c)[:-1]
print(s + ", \"zz\": " + "[" * 100000 + "]" * 100000 + "}")' "$BUNDLE/config.json" > "$BUNDLE/deep.json"
  mv "$BUNDLE/deep.json" "$BUNDLE/config.json"
  expect_error "config.json: nested deeper than 1000 levels (at offset "
}

@test "config: a seccomp profile too large for the kernel is refused before compiling it all, naming the rule" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [range(5000) as $i
    | {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": $i, "op": "SCMP_CMP_EQ"}]}]}'
  expect_error "linux.seccomp.syscalls[4096]: more than 4096 distinct rules cannot fit the kernel's limit of 4096 BPF instructions"
  [ -z "$(ls "$ROOT/.seccomp-cache" 2>/dev/null)" ]
}

@test "config: missing config.json" {
  rm "$BUNDLE/config.json"
  expect_error "config.json"
  [[ "$output" == *"No such file or directory"* ]]
}

@test "config: wrong type names the JSON path" {
  cfg '.process.terminal = "yes"'
  expect_error "process.terminal: must be of type boolean, not string"
}

@test "config: unknown namespace type names the array index" {
  cfg '.linux.namespaces[2].type = "foo"'
  expect_error 'linux.namespaces[2].type: "foo" is not one of'
}

@test "config: duplicate namespace" {
  cfg '.linux.namespaces += [{"type": "pid"}]'
  expect_error 'linux.namespaces[5].type: duplicate namespace "pid"'
}

@test "config: missing required field" {
  cfg 'del(.process.cwd)'
  expect_error "process.cwd: required field is missing"
}

@test "config: relative cwd" {
  cfg '.process.cwd = "relative"'
  expect_error 'process.cwd: "relative" is not an absolute path'
}

@test "config: empty args" {
  cfg '.process.args = []'
  expect_error "process.args: must contain at least the program to run"
}

@test "config: hostname without a uts namespace" {
  cfg '.linux.namespaces |= map(select(.type != "uts"))'
  expect_error "hostname: setting the hostname needs a uts namespace"
}

@test "config: unknown rlimit" {
  cfg '.process.rlimits[0].type = "RLIMIT_FOO"'
  expect_error 'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"'
}

@test "config: out-of-range value" {
  cfg '.process.user.uid = -1'
  expect_error "process.user.uid: -1 is out of range"
}

@test "config: unsupported ociVersion" {
  cfg '.ociVersion = "2.0.0"'
  expect_error 'ociVersion: "2.0.0" is not a supported version'
}

@test "config: user namespace without mappings" {
  cfg '.linux.namespaces += [{"type": "user"}]'
  expect_error "linux.uidMappings: a new user namespace needs uidMappings and gidMappings"
}

@test "config: missing rootfs" {
  rm -rf "$BUNDLE/rootfs"
  expect_error "root.path"
}


@test "config: terminal without a console socket" {
  cfg '.process.terminal = true'
  expect_error "process.terminal"
}

@test "config: device path with .. is refused" {
  cfg '.linux.devices = [{"path": "/dev/../etc/x", "type": "c", "major": 1, "minor": 3}]'
  expect_error 'linux.devices[0].path'
}

@test "missing bundle directory" {
  run ocirt create --bundle /nonexistent/bundle "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bundle /nonexistent/bundle: No such file or directory"* ]]
  no_leftovers
}

@test "container ids: invalid ids are refused and never touch anything outside the root" {
  mkdir -p "$ROOT"
  # a decoy beside the state root that ".." would reach
  mkdir -p "$ROOT/../ocirt-decoy-$$"
  CLEANUP_DIRS="$ROOT/../ocirt-decoy-$$"
  for bad in .. . ../ocirt-decoy-$$ "a/b" "-x" "" "$(printf 'x%.0s' $(seq 1100))"; do
    run ocirt delete --force "$bad"
    [ "$status" -ne 0 ]
    # "-x" is refused by the option parser, "" as missing; the rest by the id check
    [[ "$output" == *"invalid container id"* ]] || [[ "$output" == *"required"* ]] || [[ "$output" == *"Option"* ]]
    run ocirt create --bundle "$BUNDLE" "$bad"
    [ "$status" -ne 0 ]
  done
  [ -d "$ROOT/../ocirt-decoy-$$" ]
  rmdir "$ROOT/../ocirt-decoy-$$"
  [ -d /run ]
}

@test "state dir: a symlink planted as a container dir is not followed" {
  mkdir -p "$ROOT" "$BATS_TEST_TMPDIR/elsewhere"
  touch "$BATS_TEST_TMPDIR/elsewhere/state.json"
  ln -s "$BATS_TEST_TMPDIR/elsewhere" "$ROOT/evil"
  run ocirt delete --force evil
  [ -e "$BATS_TEST_TMPDIR/elsewhere/state.json" ]
  rm "$ROOT/evil"
}

@test "crash safety: kill -9 of create at random moments, then delete --force leaves nothing" {
  args true
  cfg --arg p "/ocirt-test-$$-crash" '.linux.cgroupsPath = $p'
  for i in $(seq 25); do
    id="$ID-$i"
    "$OCIRT" --root "$ROOT" create --bundle "$BUNDLE" "$id" >/dev/null 2>&1 &
    pid=$!
    # 0 to ~25 ms: the whole create takes about that long
    sleep "0.0$(( RANDOM % 26 ))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ocirt delete --force "$id"
    [ ! -e "$ROOT/$id" ] || { echo "state dir left after try $i"; false; }
  done
  # no process of any try survives, no cgroup, no mount
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "ocirt-test-$$-crash")" ]
  run ! grep -q "$BUNDLE" /proc/self/mountinfo
  run ! pgrep -f "create --bundle $BUNDLE"
}
