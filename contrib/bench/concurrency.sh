#!/bin/bash
# contrib/bench/concurrency.sh [-d SECONDS] [-s WORKERS] [-o WORKERS] [-g N] [-t SECONDS] [-q] [NAME=]PATH
# The concurrency stress of issue #15 (a benchmark, not a timed test): for SECONDS (60)
#  - -s WORKERS (50) shell loops hammer ONE container id with a random mix of create, start,
#    kill, delete, delete --force, state, exec, pause, resume, ps, list and run -d;
#  - -o WORKERS (50) loops each create, start and delete (--force, or kill then delete) their
#    OWN id, over and over: every one of their commands must succeed;
#  - one loop reads every state file of the root (state.json; crun: status) while it changes.
# Every container's cgroupsPath is /conc-RUN/gK/ID: N (-g, 2) own workers share each parent gK
# (the one-id container is in g0), so parents come and go while others make children in them.
# Every command runs under `timeout -k 5 T` (-t, 10). A command still running after T is
# "blocked past its timeout"; a runtime killed by a signal (exit 128+N, not the process an
# `exec` waited for being killed: 137 there) is a crash, as is a kernel "segfault"/"trap" line
# naming the runtime. Every `state` output and state file read must be a complete JSON object,
# every `list --format json` must parse. At the end every container left is removed with
# `delete --force` (which must succeed), and nothing may remain: state dir, cgroup dir named
# after an id (any hierarchy, v1 and /sys/fs/cgroup/unified), mount under the root or the
# bundles, process in a container's cgroup or naming the root. The parents /conc-RUN/gK are
# left out of that check and reported: a parent belongs to the container that made it, and
# stays (empty) when that one went first (oci-rt's rule; runc and crun never remove one).
# Prints per command the count of each outcome (ok, refused: the error's word, timeout, crash)
# and one verdict line; exits 1 on any crash, timeout, torn JSON, failed own-id command,
# undeletable container or leftover. -q: no per-worker progress dots.
# Needs root, jq, busybox. Runs in a private mount namespace with its bundles on a tmpfs
# (where crun 1.8's refusal of a hybrid host is avoided as in soak.sh); state root
# /run/oci-rt-conc-NAME-PID, ids conc-PID-*, scratch /var/tmp/conc-PID.
# Examples: contrib/bench/concurrency.sh                      (oci-rt of this tree, 60 s)
#           contrib/bench/concurrency.sh -d 60 runc=/usr/sbin/runc
#           contrib/bench/concurrency.sh -d 10 -s 10 -o 10 crun
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
DURATION=60 SHARED=50 OWN=50 GROUP=2 TMO=10 QUIET=""
while [ $# -gt 0 ]; do
  case $1 in
    -d) DURATION=$2; shift 2 ;;
    -s) SHARED=$2; shift 2 ;;
    -o) OWN=$2; shift 2 ;;
    -g) GROUP=$2; shift 2 ;;
    -t) TMO=$2; shift 2 ;;
    -q) QUIET=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "concurrency: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
spec=${1:-oci-rt=$repo/build/oci-rt}
case $spec in
  *=*) NAME=${spec%%=*} RT=${spec#*=} ;;
  */*) NAME=$(basename "$spec") RT=$spec ;;
  *) NAME=$spec RT=$(command -v "$spec") || { echo "concurrency: no $spec" >&2; exit 2; } ;;
esac
RT=$(readlink -f "$RT")
[ -x "$RT" ] || { echo "concurrency: $RT is not executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "concurrency: run as root" >&2; exit 2; }
for n in "$DURATION" "$SHARED" "$OWN" "$GROUP" "$TMO"; do
  case $n in ''|*[!0-9]*) echo "concurrency: $n is not a number" >&2; exit 2 ;; esac
done
[ "$GROUP" -ge 1 ] || GROUP=1

# The outer call: a private mount namespace (the tmpfs and the crun workaround stay there).
if [ -z "${CONC_RUN:-}" ]; then
  export CONC_RUN=$$
  exec unshare -m --propagation private "$0" -d "$DURATION" -s "$SHARED" -o "$OWN" -g "$GROUP" -t "$TMO" ${QUIET:+-q} "$NAME=$RT"
fi
RUN=$CONC_RUN
ROOT=/run/oci-rt-conc-$NAME-$RUN
S=/var/tmp/conc-$RUN
TOP=/conc-$RUN                    # the parents: $TOP/gK in every hierarchy
ONE=conc-$RUN-one                 # the id the -s workers share
LOGS=$S/logs

sweep() {  # on exit: whatever is left, so that a failed or interrupted run leaves nothing either
  local d p id
  if [ -d "$ROOT" ]; then
    for id in $(ls "$ROOT" 2>/dev/null); do
      case $id in conc-*) timeout -k 5 "$TMO" "$RT" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 ;; esac
    done
    rm -rf "$ROOT"
  fi
  for d in $(find /sys/fs/cgroup -depth -type d -path "*$TOP*" 2>/dev/null); do
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state" 2>/dev/null
  done
  sleep 0.5  # (the killed processes leave their cgroups)
  for d in $(find /sys/fs/cgroup -depth -type d -path "*$TOP*" 2>/dev/null); do rmdir "$d" 2>/dev/null; done
  umount -l "$S" 2>/dev/null
  rmdir "$S" 2>/dev/null
}
trap 'sweep' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$S"
mount -t tmpfs -o size=256m tmpfs "$S" || exit 1
mkdir -p "$LOGS"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  : > "$S/empty-controllers"
  mount --bind "$S/empty-controllers" /sys/fs/cgroup/unified/cgroup.controllers
fi

# One rootfs; a config per id (cgroupsPath names it). crun 1.8 refuses ociVersion 1.2.0.
OCIRT=$repo/build/oci-rt
[ -x "$OCIRT" ] || OCIRT=$RT
if ! OCIRT=$OCIRT sh "$repo/contrib/make-bundle.sh" "$S/base" sleep 100000 >/dev/null 2>&1; then
  # another runtime's `spec` (runc, crun) when this tree is not built
  OCIRT=$RT sh "$repo/contrib/make-bundle.sh" "$S/base" sleep 100000 >/dev/null || exit 1
fi
bundle() {  # bundle DIR ID GROUP
  mkdir -p "$1"
  jq --arg r "$S/base/rootfs" --arg p "$TOP/g$3/$2" \
    '.ociVersion = "1.0.2" | .root.path = $r | .root.readonly = true | .linux.cgroupsPath = $p' \
    "$S/base/config.json" > "$1/config.json"
}
bundle "$S/b-one" "$ONE" 0
for ((i = 0; i < OWN; i++)); do bundle "$S/b-o$i" "conc-$RUN-o$i" $((i / GROUP)); done

END=$(( $(date +%s) + DURATION ))
us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# rt LOG KIND OP ARGS...: one runtime command under timeout; appends "KIND OP OUTCOME" to LOG.
# OUTCOME: ok | refused:WORD | timeout | crash:SIG | torn. KIND: s (shared id) or o (own id).
# Sets RC.
rt() {
  local log=$1 kind=$2 op=$3; shift 3
  local out=${log%.log}.out err=${log%.log}.err t0 t1 msg="" outcome
  t0=${EPOCHREALTIME/./}
  timeout -k 5 "$TMO" "$RT" --root "$ROOT" "$@" >"$out" 2>"$err"
  RC=$?
  t1=${EPOCHREALTIME/./}
  if (( t1 - t0 >= TMO * 1000000 )) || [ $RC = 124 ]; then
    outcome=timeout
    echo "$(date -u +%T) $kind $op timeout ($(( (t1 - t0) / 1000 )) ms, rc $RC): $*" >> "${log%.log}.detail"
  elif [ $RC -gt 128 ] && [ $RC -le 192 ] && ! { [ "$op" = exec ] && [ $RC = 137 ]; }; then
    outcome=crash:$((RC - 128))
    { echo "$(date -u +%T) $kind $op crash (rc $RC): $*"; cat "$err"; } >> "${log%.log}.detail"
  elif [ $RC = 0 ]; then
    outcome=ok
    case $op in
      state)
        jq -e 'type == "object" and (.id | type) == "string" and (.status | type) == "string"' "$out" >/dev/null 2>&1 ||
          { outcome=torn; { echo "$kind state torn:"; cat "$out"; } >> "${log%.log}.detail"; } ;;
      list)
        [ -s "$out" ] && jq -e 'type == "array" or . == null' "$out" >/dev/null 2>&1 ||
          { outcome=torn; { echo "$kind list torn:"; cat "$out"; } >> "${log%.log}.detail"; } ;;
    esac
  else
    IFS= read -r -d '' msg < "$err"
    case $msg in
      *"does not exist"*|*"not exist"*|*"No such file or directory: "*"/state.json"*|*"not found"*) outcome=refused:notfound ;;
      *"already exists"*|*"exists"*) outcome=refused:exists ;;
      *"not running"*|*"not paused"*|*"not stopped"*|*"stopped"*|*"already running"*|*"is paused"*|*"paused"*|*"not created"*|*"created"*|*"running"*|*"status"*|*"state"*)
        outcome=refused:state ;;
      *)
        [ $RC = 137 ] && [ "$op" = exec ] && msg="(its process killed: 137) $msg"
        outcome=refused:other
        echo "$kind $op rc $RC: ${msg//$'\n'/ | }" >> "${log%.log}.other" ;;
    esac
  fi
  echo "$kind $op $outcome" >> "$log"
}

shared_worker() {  # the one id, a random mix
  local log=$LOGS/s$1.log
  RANDOM=$(( $1 * 7919 + RUN ))
  while (( EPOCHSECONDS < END )); do
    case $(( RANDOM % 13 )) in
      0) rt "$log" s create create --bundle "$S/b-one" "$ONE" ;;
      1) rt "$log" s start start "$ONE" ;;
      2) rt "$log" s kill kill "$ONE" KILL ;;
      3) rt "$log" s delete delete "$ONE" ;;
      4) rt "$log" s delete-force delete --force "$ONE" ;;
      5|6) rt "$log" s state state "$ONE" ;;
      7) rt "$log" s exec exec "$ONE" true ;;
      8) rt "$log" s pause pause "$ONE" ;;
      9) rt "$log" s resume resume "$ONE" ;;
      10) rt "$log" s ps ps "$ONE" ;;
      11) rt "$log" s list list --format json ;;
      12) rt "$log" s run-d run -d --bundle "$S/b-one" "$ONE" ;;
    esac
    [ -n "$QUIET" ] || printf . >&2
  done
}

own_worker() {  # its own id: create, start, (state), delete --force or kill + delete
  local log=$LOGS/o$1.log id=conc-$RUN-o$1 b=$S/b-o$1 i st
  RANDOM=$(( $1 * 104729 + RUN ))
  while (( EPOCHSECONDS < END )); do
    rt "$log" o create create --bundle "$b" "$id"
    if [ $RC = 0 ]; then
      rt "$log" o start start "$id"
      (( RANDOM % 2 )) && rt "$log" o state state "$id"
      if (( RANDOM % 2 )); then
        rt "$log" o delete-force delete --force "$id"
      else
        rt "$log" o kill kill "$id" KILL
        for ((i = 0; i < 100; i++)); do  # until stopped (the init reaped by its subreaper)
          st=$(timeout -k 5 "$TMO" "$RT" --root "$ROOT" state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
          [ "$st" = stopped ] && break
          sleep 0.05
        done
        rt "$log" o delete delete "$id"
      fi
    fi
    # whatever happened, the next round starts from nothing
    [ -d "$ROOT/$id" ] && timeout -k 5 "$TMO" "$RT" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
    [ -n "$QUIET" ] || printf o >&2
  done
}

reader() {  # every state file while it changes: complete JSON, or absent
  local log=$LOGS/reader.log f n=0 torn=0
  while (( EPOCHSECONDS < END )); do
    for f in "$ROOT"/*/state.json "$ROOT"/*/status; do
      [ -f "$f" ] || continue
      cat "$f" > "$LOGS/reader.buf" 2>/dev/null || continue
      n=$((n + 1))
      if ! jq -e 'type == "object"' "$LOGS/reader.buf" >/dev/null 2>&1; then
        torn=$((torn + 1))
        { echo "torn $f:"; cat "$LOGS/reader.buf"; echo; } >> "${log%.log}.detail"
      fi
    done
    sleep 0.02
  done
  echo "$n $torn" > "$log"
}

echo "concurrency: $NAME ($RT, $("$RT" --version 2>/dev/null | head -1)); $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M:%S') UTC"
echo "concurrency: ${DURATION}s, $SHARED workers on $ONE, $OWN on their own ids, $GROUP per parent cgroup, timeout ${TMO}s; root $ROOT"
pids=""
for ((i = 0; i < SHARED; i++)); do shared_worker "$i" & pids="$pids $!"; done
for ((i = 0; i < OWN; i++)); do own_worker "$i" & pids="$pids $!"; done
reader & pids="$pids $!"
wait $pids
[ -n "$QUIET" ] || echo >&2
echo "concurrency: workers done at $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"

# The end: every container left must go with delete --force, then nothing may remain.
fail=""
left_ids=$(ls "$ROOT" 2>/dev/null | grep '^conc-' || true)
n_left=0 undeletable=""
for id in $left_ids; do
  n_left=$((n_left + 1))
  rt "$LOGS/final.log" f delete-force delete --force "$id"
  [ $RC = 0 ] || undeletable="$undeletable $id"
done
sleep 0.5
leftover=""
for id in $(ls "$ROOT" 2>/dev/null); do case $id in conc-*) leftover="$leftover state-dir:$id" ;; esac; done
cg=$(find /sys/fs/cgroup -mindepth 2 -type d -name "conc-$RUN-*" 2>/dev/null)
for d in $cg; do leftover="$leftover cgroup:$d"; done
parents=$(find /sys/fs/cgroup -mindepth 2 -type d -path "*$TOP*" ! -name "conc-$RUN-*" 2>/dev/null | sort)
mnt=$(awk -v r="$ROOT" -v s="$S" '($5 ~ "^" r) || ($5 ~ "^" s "/")' /proc/self/mountinfo)
[ -n "$mnt" ] && leftover="$leftover mounts:$(echo "$mnt" | awk '{print $5}' | tr '\n' ',')"
# a process is left when it is still there 5 s on: a killed exec's process may still be exiting
# (reparented, not yet reaped: empty cmdline) when the first look is taken
for look in 1 2 3 4 5 6 7 8 9 10; do
  procs=""
  for p in /proc/[0-9]*; do
    { c=$(tr '\0' ' ' < "$p/cmdline"); } 2>/dev/null || continue
    grep -qs -e "$TOP/" "$p/cgroup" && procs="$procs ${p#/proc/}(${c:0:40})"
    case $c in *"--root $ROOT "*) procs="$procs ${p#/proc/}(${c:0:60})" ;; esac
  done
  [ -z "$procs" ] && break
  sleep 0.5
done
[ -n "$procs" ] && leftover="$leftover processes:$procs"
crashes_k=$(dmesg 2>/dev/null | grep -E "$(basename "$RT")\[[0-9]+\].*(segfault|trap|general protection)" | tail -5 || true)

# The table: per kind and command, the outcomes.
cat "$LOGS"/[sof]*.log 2>/dev/null > "$LOGS/all"
echo
printf '%-4s %-13s %7s  %s\n' kind command total outcomes
awk '{n[$1" "$2]++; o[$1" "$2" "$3]++} END {
  for (k in n) {
    s = ""
    for (x in o) { split(x, a, " "); if (a[1]" "a[2] == k) s = s sprintf("%s %d, ", a[3], o[x]) }
    split(k, kk, " ")
    printf "%-4s %-13s %7d  %s\n", kk[1], kk[2], n[k], substr(s, 1, length(s) - 2)
  }
}' "$LOGS/all" | sort
total=$(wc -l < "$LOGS/all")
read -r reads torn_reads < "$LOGS/reader.log" 2>/dev/null || { reads=0 torn_reads=0; }
timeouts=$(grep -c ' timeout$' "$LOGS/all")
crashes=$(grep -c ' crash:' "$LOGS/all")
torn=$(( $(grep -c ' torn$' "$LOGS/all") + torn_reads ))
own_failed=$(grep -E '^o ' "$LOGS/all" | grep -vc ' ok$')
echo
echo "state files read while changing: $reads, torn: $torn_reads"
if [ -n "$(cat "$LOGS"/*.other 2>/dev/null)" ]; then
  echo "refused with another error (most frequent first):"
  cat "$LOGS"/*.other | sed -E 's/[0-9]{3,}/N/g' | sort | uniq -c | sort -rn | head -15 | sed 's/^/  /'
fi
if [ -n "$(cat "$LOGS"/*.detail 2>/dev/null)" ]; then
  echo "timeouts, crashes, torn output (first 30 lines):"
  cat "$LOGS"/*.detail | head -30 | sed 's/^/  /'
fi
[ -n "$crashes_k" ] && { echo "kernel log:"; echo "$crashes_k" | sed 's/^/  /'; crashes=$((crashes + 1)); }
echo "containers left at the end: $n_left (removed with delete --force:$( [ -z "$undeletable" ] && echo " all" || echo " not$undeletable"))"
if [ -n "$parents" ]; then
  echo "parent cgroups left (empty; kept by their maker's rule, not counted): $(echo "$parents" | wc -l)"
fi
echo "leftovers:${leftover:- none}"
[ "$timeouts" = 0 ] || fail="$fail $timeouts timeouts,"
[ "$crashes" = 0 ] || fail="$fail $crashes crashes,"
[ "$torn" = 0 ] || fail="$fail $torn torn JSON,"
[ "$own_failed" = 0 ] || fail="$fail $own_failed own-id commands failed,"
[ -z "$undeletable" ] || fail="$fail undeletable:$undeletable,"
[ -z "$leftover" ] || fail="$fail leftovers,"
if [ -z "$fail" ]; then
  echo "verdict: PASS $NAME: $total commands in ${DURATION}s, no crash, no timeout, no torn JSON, every own-id command ok, all deletable, nothing left"
  exit 0
fi
echo "verdict: FAIL $NAME: $total commands in ${DURATION}s:${fail%,}"
exit 1
