# Shared set-up for the integration tests: a private state root, a busybox bundle per test,
# and a teardown that removes every container, cgroup and mount a test made, even on failure.

# `run !` and `run -N` (a bare `! cmd` line asserts nothing in bats unless it is a test's last
# line: tests/run.sh refuses it)
bats_require_minimum_version 1.5.0

OCIRT=${OCIRT:-$BATS_TEST_DIRNAME/../../build/oci-rt}
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# A template rootfs made once per run; each test copies it (cheap: a binary and symlinks).
TEMPLATE=${OCIRT_TEST_TEMPLATE:-/var/tmp/oci-rt-test-template}

setup_template() {
  if [ ! -x "$TEMPLATE/rootfs/bin/busybox" ] || [ /bin/busybox -nt "$TEMPLATE/rootfs/bin/busybox" ]; then
    rm -rf "$TEMPLATE.tmp.$$"
    OCIRT=$OCIRT sh "$REPO/contrib/make-bundle.sh" "$TEMPLATE.tmp.$$" >/dev/null
    rm -rf "$TEMPLATE"
    mv "$TEMPLATE.tmp.$$" "$TEMPLATE"
  fi
}

setup() {
  setup_template
  ROOT=/run/oci-rt-test-$$-$BATS_TEST_NUMBER
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  ID=ocirt-test-$$-$BATS_TEST_NUMBER
  mkdir -p "$BUNDLE"
  cp -a "$TEMPLATE/rootfs" "$BUNDLE/rootfs"
  cp "$TEMPLATE/config.json" "$BUNDLE/config.json"
}

teardown() {
  if [ -d "$ROOT" ]; then
    for d in "$ROOT"/*; do
      [ -e "$d" ] || continue
      "$OCIRT" --root "$ROOT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
    done
    rm -rf "$ROOT"
  fi
  # cgroups a failed test may have left (only ours: named after this run's ids)
  local d
  for d in $(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "ocirt-test-$$-*" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  for p in ${KILL_PIDS:-}; do kill -9 "$p" 2>/dev/null || true; done
  for m in ${UMOUNTS:-}; do umount -l "$m" 2>/dev/null || true; done
  for d in ${CLEANUP_DIRS:-}; do rmdir "$d" 2>/dev/null || true; done
}

# cfg JQ-EXPR: edit the bundle's config.json
cfg() {
  jq "$@" "$BUNDLE/config.json" > "$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# json_array WORD...: a JSON array of strings (jq 1.6 still parses options after --args)
json_array() {
  local a='[]' x
  for x in "$@"; do a=$(jq -c --arg x "$x" '. + [$x]' <<<"$a"); done
  echo "$a"
}

# args WORD...: the container's process.args
args() {
  cfg --argjson a "$(json_array "$@")" '.process.args = $a'
}

ocirt() {
  "$OCIRT" --root "$ROOT" "$@"
}

# runc: run the bundle in the foreground with its args; output in $output, status in $status
run_ctr() {
  run "$OCIRT" --root "$ROOT" run --bundle "$BUNDLE" "${1:-$ID}"
}

# run_bg_until_ready: `oci-rt run` of the bundle in the background (output in $BATS_TEST_TMPDIR/out)
# until the container prints "ready"; its pid in BG_PID (killed by teardown if still there)
run_bg_until_ready() {
  "$OCIRT" --root "$ROOT" run --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1 &
  BG_PID=$!
  KILL_PIDS="${KILL_PIDS:-} $BG_PID"
  for i in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && return 0; sleep 0.05; done
  echo "container never printed ready"; return 1
}

# no_leftovers ID: nothing of the container remains (state dir, cgroup dirs)
no_leftovers() {
  local id=${1:-$ID}
  [ ! -e "$ROOT/$id" ] || { echo "state dir $ROOT/$id left"; return 1; }
  local cg
  cg=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "$id" 2>/dev/null || true)  # dirs others remove meanwhile make find fail
  [ -z "$cg" ] || { echo "cgroups left: $cg"; return 1; }
  ! pgrep -f "oci-rt --root $ROOT" >/dev/null 2>&1 || { echo "runtime process left"; return 1; }
}

# pid_gone PID: the process has exited (no /proc entry, or a zombie not yet reaped)
pid_gone() {
  [ ! -d "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

status_of() {
  ocirt state "${1:-$ID}" | jq -r .status
}
