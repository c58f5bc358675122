#!/bin/bash
# The whole test suite (the README's second command; .ci/run calls exactly this).
# Installs what is missing, builds, runs the doctest unit tests and the integration tests
# (bats, as root, real containers) and ends with one line: "N passed, M failed[, K skipped]".
# TESTS="tests/integration/a.bats ...": only those bats files, and the client and VM stages are
# skipped; OCIRT_SKIP_VM=1: no VM stage (pure cgroup v2, systemd v2 and v1); OCIRT_SKIP_ASAN=1: no
# sanitizer stage (a second build, with ASan and UBSan). A skipped stage prints "== ...: SKIPPED (why)" and
# counts as skipped, never as passed.
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

echo "== lint: the library never prints nor touches the caller's terminal or signals; the CLI uses its public headers"
# (docs/design.md) src/ outside the CLI: no stdout writes, printf, terminal modes, signal mask
# or disposition calls of the caller's process; src/cli includes only include/ocirt/ and its own
libfiles=$(find src include -name '*.[ch]pp' ! -path 'src/cli/*' | sort)
arch=$(echo "$libfiles" | xargs grep -nE 'std::c(out|err)|\b(printf|puts|signal|sigprocmask|tcsetattr|isatty|cfmakeraw)[[:space:]]*\(|write\((1|STDOUT_FILENO),' /dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
arch="$arch$(grep -nE '^#include "' src/cli/*.cpp src/cli/*.hpp | grep -vE '"(ocirt/|src/cli/|config\.h)' || true)"
if [ -n "$arch" ]; then
  echo "not ok - lint: these lines break the library/CLI split:"
  echo "$arch" | sed 's/^/#   /'
  failed=$((failed + 1))
else
  echo "ok - lint: library/CLI split holds ($(echo "$libfiles" | grep -c .) library files)"
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

# skip_stage NAME WHY N: a stage not run, said so and counted as N skipped
skip_stage() {
  echo "== $1: SKIPPED ($2): counted as $3 skipped"
  skipped=$((skipped + $3))
}

# AddressSanitizer + UndefinedBehaviorSanitizer: a second, dynamic build (build-asan: ASan
# cannot be static) runs the unit tests and these bats files; every report (a log file per
# process) fails the stage. Not hardening.bats: its deliberately old seccomp profile refuses
# the sigaltstack ASan's own exec interceptor calls. Built with clang and -Dfuzz=true, the same
# build also gives the libFuzzer targets of the fuzz smoke stage below (tests/fuzz/run.sh).
FUZZ_TARGETS=$(sed -n 's/^ALL="\(.*\)"$/\1/p' tests/fuzz/run.sh | wc -w)
ASAN_BATS="tests/integration/lifecycle.bats tests/integration/errors.bats tests/integration/exec.bats tests/integration/security.bats"
if [ -n "${TESTS:-}" ] || [ -n "${OCIRT_SKIP_ASAN:-}" ]; then
  n=$(( $(bats --count $ASAN_BATS 2>/dev/null || echo 1) + $(cat tests/unit/*.cpp | grep -c '^TEST_CASE') + 1 ))
  skip_stage "sanitizers (ASan+UBSan build)" "TESTS or OCIRT_SKIP_ASAN is set" "$n"
else
  echo "== sanitizers: ASan+UBSan build (build-asan): unit tests, then $(echo $ASAN_BATS | wc -w) bats files"
  asan_ok=1
  # a build-asan made before the fuzz targets (g++, no -Dfuzz) is made again with clang
  if [ -f build-asan/build.ninja ] && ! grep -q 'fuzz-config' build-asan/build.ninja; then rm -rf build-asan; fi
  if [ ! -f build-asan/build.ninja ]; then
    CXX=clang++ CC=clang meson setup build-asan -Dstatic=false -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=custom -Doptimization=0 -Ddebug=false -Dcpp_args=-g1 >"$log" 2>&1 || { tail -20 "$log"; asan_ok=0; }
  fi
  [ "$asan_ok" = 1 ] && { ninja -C build-asan >"$log" 2>&1 || { tail -20 "$log"; asan_ok=0; }; }
  if [ "$asan_ok" = 0 ]; then
    echo "not ok - sanitizers: build-asan does not build"
    failed=$((failed + 1))
  else
    reports=$(mktemp -d)
    # (ubsan.supp: one report from RapidJSON's own internal/stack.h under clang)
    export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1" \
      UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan:suppressions=$PWD/tests/fuzz/ubsan.supp"
    ./build-asan/unit-tests >"$log" 2>&1
    line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
    up=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); uf=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
    echo "unit tests under ASan+UBSan: ${up:-0} passed, ${uf:-?} failed"
    [ -n "$up" ] && [ "$uf" = 0 ] && passed=$((passed + up)) || { cat "$log"; failed=$((failed + ${uf:-1})); }
    OCIRT="$PWD/build-asan/oci-rt" bats --tap $ASAN_BATS >"$log" 2>&1
    sed 's/^\(not \)\{0,1\}ok /&asan: /' "$log"
    tally "$log"
    unset ASAN_OPTIONS UBSAN_OPTIONS
    if [ -n "$(ls -A "$reports")" ]; then
      echo "not ok - sanitizers: reports:"
      head -n 40 "$reports"/* | sed 's/^/#   /'
      failed=$((failed + 1))
    else
      echo "ok - sanitizers: no ASan/UBSan report from the unit tests or the runtime"
      passed=$((passed + 1))
    fi
    rm -rf "$reports"
  fi
fi

# libFuzzer smoke: every target of tests/fuzz for 30 s (two at a time) from the committed and
# generated seeds, after replaying its regression inputs; built in build-asan above.
# The long runs (an hour and more per target) are tests/fuzz/run.sh --long: docs/reliability.md.
if [ -n "${TESTS:-}" ] || [ -n "${OCIRT_SKIP_ASAN:-}" ]; then
  skip_stage "fuzz smoke (libFuzzer)" "TESTS or OCIRT_SKIP_ASAN is set" "$FUZZ_TARGETS"
elif [ "${asan_ok:-0}" != 1 ]; then
  skip_stage "fuzz smoke (libFuzzer)" "build-asan did not build" "$FUZZ_TARGETS"
else
  echo "== fuzz smoke: $FUZZ_TARGETS libFuzzer targets, ${FUZZ_SECONDS:-30} s each (tests/fuzz/run.sh --smoke)"
  env -u ASAN_OPTIONS -u UBSAN_OPTIONS FUZZ_BUILD=build-asan FUZZ_JOBS=2 bash tests/fuzz/run.sh --smoke >"$log" 2>&1
  grep -E '^(not )?ok |^# ' "$log"
  echo "1..$FUZZ_TARGETS" >>"$log"
  tally "$log"
fi

if [ -n "${TESTS:-}" ]; then
  n=$(bats --count tests/clients/*.bats 2>/dev/null) || n=1
  skip_stage "real clients: podman, containerd, Docker, CRI" "TESTS is set" "${n:-1}"
else
  echo "== real clients: podman, containerd, Docker, CRI (private mount namespace)"
  unshare -m --propagation private bats --tap tests/clients/*.bats >"$log" 2>&1
  cat "$log"
  tally "$log"
fi

if [ -n "${TESTS:-}" ]; then
  skip_stage "pure cgroup v2 (qemu VM)" "TESTS is set" 1
elif [ -n "${OCIRT_SKIP_VM:-}" ]; then
  skip_stage "pure cgroup v2 (qemu VM)" "OCIRT_SKIP_VM is set" 1
else
  echo "== pure cgroup v2 (qemu VM: tests/cgroupv2-vm.sh)"
  # without qemu (and no way to install it) the script prints one "ok 1 - ... # skip" line
  bash tests/cgroupv2-vm.sh "$OCIRT" >"$log" 2>&1
  cat "$log"
  grep -qE '^ok 1 - cgroup v2 VM # skip' "$log" && echo "== pure cgroup v2 (qemu VM): SKIPPED (see the skip line above)"
  tally "$log"
fi

# The systemd cgroup driver against a real systemd: Debian 12's userland (cached image) booted
# under qemu in pure v2 and in legacy v1 mode; oci-rt alone, then podman and containerd with their
# systemd cgroup managers, oci-rt beside runc.
for mode in v2 v1; do
  if [ -n "${TESTS:-}" ]; then
    skip_stage "systemd $mode (qemu VM)" "TESTS is set" 16
  elif [ -n "${OCIRT_SKIP_VM:-}" ]; then
    skip_stage "systemd $mode (qemu VM)" "OCIRT_SKIP_VM is set" 16
  else
    echo "== systemd cgroup driver, $mode (qemu VM: tests/systemd-vm.sh)"
    bash tests/systemd-vm.sh "$OCIRT" "$mode" >"$log" 2>&1
    grep -vE '^# [0-9.]+s$' "$log"
    grep -qE '^ok 1 - systemd VM .* # skip' "$log" && echo "== systemd $mode (qemu VM): SKIPPED (see the skip line above)"
    tally "$log"
  fi
done

# checkpoint/restore with criu (issue #14): `criu check` fails on this host's kernel (vdso), so
# tests/integration/checkpoint.bats runs again, whole, inside the systemd v2 VM (Debian's 6.1
# kernel, criu 3.17 in the cached image): the counters, --leave-running, pre-dump, binds, hooks,
# a terminal, podman with oci-rt and with runc.
ncp=$(bats --count tests/integration/checkpoint.bats 2>/dev/null) || ncp=1
if [ -n "${TESTS:-}" ]; then
  skip_stage "checkpoint/restore (qemu VM)" "TESTS is set" "$ncp"
elif [ -n "${OCIRT_SKIP_VM:-}" ]; then
  skip_stage "checkpoint/restore (qemu VM)" "OCIRT_SKIP_VM is set" "$ncp"
else
  echo "== checkpoint/restore with criu, v2 (qemu VM: tests/checkpoint-vm.sh)"
  bash tests/checkpoint-vm.sh "$OCIRT" v2 >"$log" 2>&1
  grep -vE '^# [0-9.]+s$' "$log"
  grep -qE '^ok 1 - systemd VM .* # skip' "$log" && echo "== checkpoint/restore (qemu VM): SKIPPED (see the skip line above)"
  tally "$log"
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
