#!/bin/bash
# killsweep.sh [--full | --smoke | --step K | --points P] [--config C] [COMMAND...]: kill -9 at
# every step (issue #15, item 5).
#
# For each COMMAND (create start exec delete run update init execproc runinit; default all), the runtime is run
# once to count its syscalls (T), then once per stop point N = 1..T (every K-th with --step K;
# --smoke: 12 points per command, --points P: P (P >= 2), evenly spread, always including the
# first and the last): SIGKILL just
# before its Nth syscall (contrib/killsweep/killat.py, ptrace: deterministic). "init" is `create`
# with the container's init killed before each of its syscalls up to the one that blocks on the
# exec fifo (the runtime itself untouched). "execproc" kills the process `exec` starts, from its
# clone through its setup (namespaces, cgroup, credentials, seccomp) and its exec of `true` to its
# exit; "runinit" kills the init of a foreground `run`, through the steps after start too (the
# fifo, the exec of `true`). --config C runs the container with another config: "plain" (the
# default), "hooks" (every kind of hook: prestart, createRuntime, createContainer, startContainer,
# poststart, poststop, each /bin/true) or "userns" (a new user namespace, ids mapped 0 -> 100000,
# 65536 of them). After each kill:
#   1. `state ID` must answer (any status) or say the container does not exist;
#   2. `delete --force ID` must succeed;
#   3. a new `create` of the same id, then `delete --force`, must succeed;
#   4. nothing may be left: the state dir, a cgroup dir named after the id in any hierarchy
#      (v1 controllers, /sys/fs/cgroup/unified), a host mount under the bundle or the state
#      root (/proc/self/mountinfo), a process (cmdline naming the id or root, or in a cgroup
#      named after the id), an fd of this script.
# Prints per command the stop points tried and how many left something, with what; exits 1 if
# any did. Root only. The run takes about 0.3 s a point on 2 cores (--full: ~1,000 points).
#
# Env: OCIRT (the binary, default build/oci-rt of this checkout), KILLSWEEP_VERBOSE=1 (each point).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
OCIRT=${OCIRT:-$repo/build/oci-rt}
KILLAT="python3 $here/killat.py"
mode=full
step=1
npoints=12
config=plain
cmds=()
while [ $# -gt 0 ]; do
  case $1 in
    --full) mode=full ;;
    --smoke) mode=smoke ;;
    --step) mode=step; step=$2; shift ;;
    --points) mode=points; npoints=$2; shift ;;
    --config) config=$2; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    create|start|exec|delete|run|update|init|execproc|runinit) cmds+=("$1") ;;
    *) echo "killsweep: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#cmds[@]} -gt 0 ] || cmds=(create start exec delete run update init execproc runinit)
case $config in
  plain) cfg='.' ;;
  hooks) cfg='.hooks = ({} | .prestart = [{"path": "/bin/true"}] | .createRuntime = [{"path": "/bin/true"}]
                       | .createContainer = [{"path": "/bin/true"}] | .startContainer = [{"path": "/bin/true"}]
                       | .poststart = [{"path": "/bin/true"}] | .poststop = [{"path": "/bin/true"}])' ;;
  userns) cfg='.linux.namespaces += [{"type": "user"}]
               | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
               | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]' ;;
  *) echo "killsweep: unknown --config $config (plain, hooks, userns)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "killsweep: run as root" >&2; exit 2; }
[ -x "$OCIRT" ] || { echo "killsweep: no runtime at $OCIRT" >&2; exit 2; }

tag=sweep-ks-$$
SCRATCH=/var/tmp/$tag
ROOT=/run/oci-rt-$tag
ID=$tag
B=$SCRATCH/bundle      # sleep 1000
BR=$SCRATCH/bundle-run # true (for a foreground run)
# scrub: remove what the runtime left, without it (its processes, then its cgroups, its state)
scrub() {
  "$OCIRT" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1
  local p d i
  for i in 1 2 3; do
    for p in $(procs_of_ours | cut -d: -f1); do kill -9 "$p" 2>/dev/null; done
    for d in $(find /sys/fs/cgroup -maxdepth 5 -depth -type d -name "*$ID*" 2>/dev/null); do rmdir "$d" 2>/dev/null; done
    [ -z "$(find /sys/fs/cgroup -maxdepth 5 -name "*$ID*" 2>/dev/null)" ] && break
    sleep 0.2
  done
  rm -rf "${ROOT:?}/$ID"
}
cleanup() {
  scrub
  rm -rf "$ROOT" "$SCRATCH"
}
trap cleanup EXIT
trap "exit 143" TERM INT HUP
mkdir -p "$SCRATCH"
OCIRT=$OCIRT sh "$repo/contrib/make-bundle.sh" "$B" >/dev/null || exit 2
jq '.process.args = ["sleep", "1000"] | .process.terminal = false | '"$cfg" "$B/config.json" > "$B/c" && mv "$B/c" "$B/config.json"
mkdir -p "$BR"
jq '.process.args = ["true"] | .root.path = "'"$B"'/rootfs"' "$B/config.json" > "$BR/config.json"

rt() { "$OCIRT" --root "$ROOT" "$@" </dev/null; }

# the steps before the command under test, and the command itself
prep() {
  case $1 in
    start) rt create --bundle "$B" "$ID" ;;
    exec|execproc|delete|update) rt create --bundle "$B" "$ID" && rt start "$ID" ;;
  esac
}
command_of() {
  case $1 in
    create|init) echo create --bundle "$B" "$ID" ;;
    start) echo start "$ID" ;;
    exec|execproc) echo exec "$ID" true ;;
    delete) echo delete --force "$ID" ;;
    run|runinit) echo run --bundle "$BR" "$ID" ;;
    update) echo update --memory 104857600 --pids-limit 200 --cpu-share 512 "$ID" ;;
  esac
}
target_of() { case $1 in init|execproc|runinit) echo init ;; *) echo runtime ;; esac; }

mounts_of_ours() { grep -F -e "$SCRATCH" -e "$ROOT" /proc/self/mountinfo | cut -d' ' -f4- | sort; }
procs_of_ours() {
  # two greps over /proc (no fork per process): cmdline naming the id or root, cgroup named after it
  { grep -l -s -a -F -e "$ID" -e "$ROOT" /proc/[0-9]*/cmdline; grep -l -s "/$ID\$" /proc/[0-9]*/cgroup; } |
    cut -d/ -f3 | sort -u | while read -r p; do
      [ "$p" = $$ ] && continue
      s=$(awk '/^State/{print $2}' "/proc/$p/status" 2>/dev/null) || continue
      echo "$p:$s:$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | head -c 60)"
    done
}
fds_of_script() { ls /proc/$$/fd | wc -l; }

base_mounts=$(mounts_of_ours)
base_fds=$(fds_of_script)

# leftovers: what is left of the container, one line each (nothing: all clean)
leftovers() {
  [ -e "$ROOT/$ID" ] && echo "state dir $ROOT/$ID ($(ls "$ROOT/$ID" 2>/dev/null | tr '\n' ' '))"
  local cg
  cg=$(find /sys/fs/cgroup -maxdepth 5 -name "*$ID*" 2>/dev/null | tr '\n' ' ')
  [ -n "$cg" ] && echo "cgroup $cg"
  local m
  m=$(mounts_of_ours)
  [ "$m" != "$base_mounts" ] && echo "mounts: $(diff <(echo "$base_mounts") <(echo "$m") | grep '^[<>]' | head -3 | tr '\n' ' ')"
  local p
  p=$(procs_of_ours | tr '\n' ' ')
  [ -n "$p" ] && echo "processes $p"
  [ "$(fds_of_script)" != "$base_fds" ] && echo "fds of the caller: $base_fds -> $(fds_of_script)"
  return 0
}

# one stop point: prints nothing if all is well, else what went wrong
point() {
  local cmd=$1 n=$2 out st
  prep "$cmd" >/dev/null 2>&1 || { echo "prep failed"; rt delete --force "$ID" >/dev/null 2>&1; return; }
  # shellcheck disable=SC2046
  $KILLAT "$(target_of "$cmd")" "$n" -- "$OCIRT" --root "$ROOT" $(command_of "$cmd") </dev/null >/dev/null 2>&1
  if [ -d "$ROOT/$ID" ]; then
    out=$(rt state "$ID" 2>&1) || [[ $out == *"does not exist"* ]] || echo "state fails: ${out:0:120}"
  fi
  # outputs through a file: a created init holds the caller's fds until its exec (a pipe
  # would never see EOF)
  rt delete --force "$ID" >"$SCRATCH/out" 2>&1 || echo "delete --force failed: $(head -c 160 "$SCRATCH/out")"
  rt create --bundle "$B" "$ID" >"$SCRATCH/out" 2>&1 || echo "create again failed: $(head -c 160 "$SCRATCH/out")"
  rt delete --force "$ID" >"$SCRATCH/out" 2>&1 || echo "delete --force after create again failed: $(head -c 160 "$SCRATCH/out")"
  leftovers
}

count() {
  local cmd=$1 n
  prep "$cmd" >/dev/null 2>&1 || { echo 0; return; }
  # shellcheck disable=SC2046
  rm -f "$SCRATCH/count"
  # the command must succeed uninterrupted, or the sweep would only try its error path
  if ! KILLAT_COUNT="$SCRATCH/count" $KILLAT "$(target_of "$cmd")" 0 -- "$OCIRT" --root "$ROOT" $(command_of "$cmd") </dev/null >"$SCRATCH/out" 2>&1; then
    echo "$cmd: the uninterrupted command failed: $(head -c 200 "$SCRATCH/out")" >&2
    rt delete --force "$ID" >/dev/null 2>&1
    echo 0
    return
  fi
  rt delete --force "$ID" >/dev/null 2>&1
  cat "$SCRATCH/count" 2>/dev/null || echo 0
}

bad_total=0
t0=$(date +%s)
for cmd in "${cmds[@]}"; do
  total=$(count "$cmd")
  left=$(leftovers)
  [ -z "$left" ] || { echo "$cmd: the uninterrupted command left: $left"; bad_total=$((bad_total + 1)); scrub; }
  if [ "$total" -lt 1 ]; then echo "$cmd: no syscalls counted"; bad_total=$((bad_total + 1)); continue; fi
  k=$step
  [ $mode = smoke ] || [ $mode = points ] && k=$(( (total + npoints - 2) / (npoints - 1) ))
  [ $mode = full ] && k=1
  points=$(seq 1 "$k" "$total")
  [ "$(echo "$points" | tail -1)" = "$total" ] || points="$points $total"
  tried=0 bad=0 t1=$(date +%s)
  for n in $points; do
    tried=$((tried + 1))
    r=$(point "$cmd" "$n")
    [ "${KILLSWEEP_VERBOSE:-}" = 1 ] && echo "  $cmd@$n: ${r:-ok}" >&2
    if [ -n "$r" ]; then
      bad=$((bad + 1))
      echo "  $cmd, stop at syscall $n of $total: $(echo "$r" | tr '\n' ';')"
      scrub  # clean for the next point whatever happened
    fi
  done
  echo "$cmd: $total syscalls, $tried stop points tried (every ${k}), $bad left something ($(( $(date +%s) - t1 )) s)"
  bad_total=$((bad_total + bad))
done
echo "killsweep: config $config, $(( $(date +%s) - t0 )) s in all, $bad_total stop point(s) with leftovers"
[ $bad_total = 0 ]
