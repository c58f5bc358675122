#!/bin/bash
# The whole test suite (the README's second command; .ci/run calls exactly this).
# Installs what is missing, builds, runs the doctest unit tests and the integration tests
# (bats, as root, real containers) and ends with one line: "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
sh contrib/install-deps.sh --tests || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null || { echo "0 passed, 1 failed"; exit 1; }; fi
ninja -C build >/dev/null || { ninja -C build; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests (doctest)"
./build/unit-tests >"$log" 2>&1
tail -n 3 "$log"
line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
up=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
uf=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
if [ -z "$up" ]; then cat "$log"; uf=1; up=0; fi
passed=$((passed + up)); failed=$((failed + uf))
[ "$uf" = 0 ] || cat "$log"

echo "== integration tests (bats, real containers)"
export OCIRT="$PWD/build/oci-rt"
files=${TESTS:-tests/integration/*.bats}
bats --tap $files >"$log" 2>&1
cat "$log"
ip=$(grep -cE '^ok ' "$log" || true)
is=$(grep -cE '^ok .* # skip' "$log" || true)
if_=$(grep -cE '^not ok ' "$log" || true)
planned=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$log" | head -1)
# a bats file that failed to load runs fewer tests than planned: count the rest as failed
missing=$(( ${planned:-0} - ip - if_ ))
[ "$missing" -gt 0 ] && if_=$((if_ + missing))
passed=$((passed + ip - is)); failed=$((failed + if_)); skipped=$((skipped + is))

echo "== real clients: podman and containerd (private mount namespace)"
if [ -z "${TESTS:-}" ]; then
  unshare -m --propagation private bats --tap tests/clients/*.bats >"$log" 2>&1
  cat "$log"
  cp_=$(grep -cE '^ok ' "$log" || true)
  cs=$(grep -cE '^ok .* # skip' "$log" || true)
  cf=$(grep -cE '^not ok ' "$log" || true)
  planned=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$log" | head -1)
  missing=$(( ${planned:-1} - cp_ - cf ))
  [ "$missing" -gt 0 ] && cf=$((cf + missing))
  passed=$((passed + cp_ - cs)); failed=$((failed + cf)); skipped=$((skipped + cs))
fi

echo "== pure cgroup v2 (qemu VM: tests/cgroupv2-vm.sh)"
if [ -z "${TESTS:-}" ] && [ -z "${OCIRT_SKIP_VM:-}" ]; then
  bash tests/cgroupv2-vm.sh "$OCIRT" >"$log" 2>&1
  cat "$log"
  vp=$(grep -cE '^ok ' "$log" || true)
  vs=$(grep -cE '^ok .* # skip' "$log" || true)
  vf=$(grep -cE '^not ok' "$log" || true)
  [ "$vp" -eq 0 ] && [ "$vf" -eq 0 ] && vf=1
  passed=$((passed + vp - vs)); failed=$((failed + vf)); skipped=$((skipped + vs))
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
