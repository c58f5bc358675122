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

# Bats 1.8 runs a test body under `set -e`, which ignores a command negated with `!`: a line
# `! cmd` asserts nothing unless it is the test's last line. Write `run ! cmd` (or `! cmd || false`).
echo "== lint: no bare '! cmd' line in a bats file"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  batsfiles=$(git ls-files --cached --others --exclude-standard -- '*.bats')
else
  batsfiles=$(find tests -name '*.bats')
fi
bang=$(echo "$batsfiles" | xargs -r -d '\n' grep -nE '^[[:space:]]*![[:space:]]' /dev/null |
  grep -vE '[|][|][[:space:]]*false[[:space:]]*(#.*)?$' || true)
if [ -n "$bang" ]; then
  echo "not ok - these lines assert nothing (write 'run ! cmd' or '! cmd || false'):"
  echo "$bang" | sed 's/^/#   /'
  failed=$((failed + 1))
else
  echo "ok - lint: no bare '! cmd' line in $(echo "$batsfiles" | grep -c .) bats files"
  passed=$((passed + 1))
fi

echo "== unit tests (doctest)"
./build/unit-tests >"$log" 2>&1
grep -E '^SKIP: ' "$log"
tail -n 3 "$log"
# "[doctest] test cases: T | P passed | F failed | S skipped": S are the cases whose skip
# decorator was true (a check this machine cannot make), printed above as "SKIP: name: why"
line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
up=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
uf=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
us=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
if [ -z "$up" ]; then cat "$log"; uf=1; up=0; fi
passed=$((passed + up)); failed=$((failed + uf)); skipped=$((skipped + ${us:-0}))
[ "$uf" = 0 ] || cat "$log"

# tally LOG: add a TAP log's results to the totals. A run that planned more tests than it
# reported (a bats file that failed to load, a VM that died) counts the rest as failed, and a
# log with no result at all counts as one failure.
tally() {
  local ok skip bad planned missing
  ok=$(grep -cE '^ok ' "$1" || true)
  skip=$(grep -cE '^ok .* # skip' "$1" || true)
  bad=$(grep -cE '^not ok' "$1" || true)
  planned=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$1" | head -1)
  missing=$(( ${planned:-0} - ok - bad ))
  [ "$missing" -gt 0 ] && bad=$((bad + missing))
  [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && [ "${planned:-1}" != 0 ] && bad=1
  passed=$((passed + ok - skip)); failed=$((failed + bad)); skipped=$((skipped + skip))
}

echo "== integration tests (bats, real containers)"
export OCIRT="$PWD/build/oci-rt"
files=${TESTS:-tests/integration/*.bats}
bats --tap $files >"$log" 2>&1
cat "$log"
tally "$log"

echo "== real clients: podman and containerd (private mount namespace)"
if [ -z "${TESTS:-}" ]; then
  unshare -m --propagation private bats --tap tests/clients/*.bats >"$log" 2>&1
  cat "$log"
  tally "$log"
fi

echo "== pure cgroup v2 (qemu VM: tests/cgroupv2-vm.sh)"
if [ -z "${TESTS:-}" ] && [ -z "${OCIRT_SKIP_VM:-}" ]; then
  bash tests/cgroupv2-vm.sh "$OCIRT" >"$log" 2>&1
  cat "$log"
  tally "$log"
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
