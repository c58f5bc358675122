#!/bin/bash
# libFuzzer targets (tests/fuzz/*.cpp): build, replay every regression input, fuzz.
#
#   tests/fuzz/run.sh [--smoke | --long SECONDS] [TARGET...]
#
# --smoke (default): each target for $FUZZ_SECONDS (default 30), $FUZZ_JOBS at a time (default
#   1), from the committed and generated seeds, in a scratch corpus removed afterwards.
# --long S: every target at once, for S seconds of wall time each, at nice 19; corpora, logs,
#   crash inputs and a summary in $FUZZ_LONG_DIR (default /var/tmp/fuzz-long): a later run
#   goes on from the corpus it left.
# One TAP line per target: "ok N - fuzz T: E execs, C coverage, F features, no crash", or
# "not ok" with the crashing input's path. Exit status 1 if any target crashed or failed.
#
# Build: $FUZZ_BUILD (default build-fuzz), set up when it has no build.ninja:
#   CXX=clang++ meson setup build-fuzz -Dstatic=false -Dfuzz=true -Db_sanitize=address,undefined \
#     -Db_lundef=false -Dbuildtype=custom -Doptimization=1 -Ddebug=false -Dcpp_args=-g1
# Any build dir made with -Dfuzz=true will do (the suite's clang build-asan, say).
set -u
cd "$(dirname "$0")/../.."
HERE=tests/fuzz
ALL="config state seccomp_cache mountinfo cgroup_files mount_options cli"
MODE=smoke
SECONDS_EACH=${FUZZ_SECONDS:-30}
TIMEOUT=${FUZZ_TIMEOUT:-25}  # s per input, wall clock: a long run at nice 19 can wait longer than that for the CPU
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) MODE=smoke; shift ;;
    --long) MODE=long; SECONDS_EACH=${2:?--long needs SECONDS}; TIMEOUT=${FUZZ_TIMEOUT:-600}; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
TARGETS=${*:-$ALL}
BUILD=${FUZZ_BUILD:-build-fuzz}

if [ ! -f "$BUILD/build.ninja" ]; then
  CXX=clang++ CC=clang meson setup "$BUILD" -Dstatic=false -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=custom -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 >/dev/null ||
    { echo "not ok 1 - fuzz: meson setup $BUILD failed"; exit 1; }
fi
if ! nice -n 10 ninja -C "$BUILD" oci-rt $(for t in $TARGETS; do echo "fuzz-$t"; done) >/dev/null; then
  echo "not ok 1 - fuzz: ninja -C $BUILD failed (is it a -Dfuzz=true build?)"
  exit 1
fi

if [ "$MODE" = long ]; then
  WORK=${FUZZ_LONG_DIR:-/var/tmp/fuzz-long}
  mkdir -p "$WORK/bin"
  # with autogroups (sched_autogroup_enabled), nice ranks only within a session: a long run
  # started in a session of its own (setsid) makes that session's group nice too
  echo 19 >/proc/self/autogroup 2>/dev/null || true
  # the binaries as built now: a rebuild meanwhile does not change what runs
  for t in $TARGETS; do cp "$BUILD/fuzz-$t" "$WORK/bin/"; done
  cp "$BUILD/oci-rt" "$WORK/bin/"
  BUILD=$WORK/bin
else
  WORK=$(mktemp -d /var/tmp/fuzz-smoke.XXXXXX)
fi
if [ "$MODE" = smoke ] || [ ! -d "$WORK/seeds" ]; then  # a long run reuses its seeds
  python3 "$HERE/gen_seeds.py" "$BUILD/oci-rt" "$WORK/seeds" >/dev/null || echo "# gen_seeds.py failed: committed seeds only"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-suppressions=$PWD/$HERE/ubsan.supp:print_stacktrace=1:halt_on_error=1}

# fuzz T SECONDS: replay T's regression inputs, then fuzz; writes $WORK/T.log, $WORK/T.result
fuzz() {
  local t=$1 secs=$2 bin="$BUILD/fuzz-$1" log="$WORK/$1.log" regs=()
  mkdir -p "$WORK/corpus/$t" "$WORK/crashes"
  : >"$log"
  if [ -d "$HERE/regressions/$t" ]; then
    mapfile -t regs < <(find "$HERE/regressions/$t" -type f | sort)
  fi
  if [ ${#regs[@]} -gt 0 ] && ! "$bin" -close_fd_mask=3 "${regs[@]}" >>"$log" 2>&1; then
    echo "not ok - fuzz $t: a regression input fails again (see $log)" >"$WORK/$t.result"
    return
  fi
  local seeds=()
  for d in "$HERE/corpus/$t" "$WORK/seeds/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  local rc=0
  /usr/bin/time -f "time: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$bin" -max_total_time="$secs" -max_len=65536 -timeout="$TIMEOUT" -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
    -artifact_prefix="$WORK/crashes/$t-" "$WORK/corpus/$t" "${seeds[@]}" >>"$log" 2>&1 || rc=$?
  local execs cov ft corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$WORK/corpus/$t" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    echo "ok - fuzz $t: ${execs:-?} execs, ${cov:-?} coverage, ${ft:-?} features, $corpus corpus files, $(grep '^time:' "$log" | tail -1 | cut -d' ' -f2-10 | sed 's/,$//'), no crash" >"$WORK/$t.result"
  else
    local art
    art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | cut -d' ' -f5)
    echo "not ok - fuzz $t: exit $rc after ${execs:-?} execs, input ${art:-none written} (see $log)" >"$WORK/$t.result"
  fi
}

if [ "$MODE" = long ]; then
  for t in $TARGETS; do nice -n 19 bash -c "$(declare -f fuzz); BUILD=$BUILD WORK=$WORK HERE=$HERE TIMEOUT=$TIMEOUT fuzz $t $SECONDS_EACH" & done
  wait
else
  for t in $TARGETS; do
    fuzz "$t" "$SECONDS_EACH" &
    while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-1}" ]; do wait -n; done
  done
  wait
fi

n=0 failed=0
for t in $TARGETS; do
  n=$((n + 1))
  line=$(cat "$WORK/$t.result" 2>/dev/null || echo "not ok - fuzz $t: no result")
  case "$line" in not*) failed=1 ;; esac
  echo "$line" | sed "s/^\(not \)\{0,1\}ok /&$n /"
done | tee "$WORK/summary.txt"
grep -q '^not ok' "$WORK/summary.txt" && failed=1
if [ "$MODE" = smoke ]; then
  if [ "$failed" = 0 ]; then rm -rf "$WORK"; else echo "# kept $WORK (logs, crash inputs)"; fi
fi
exit "$failed"
