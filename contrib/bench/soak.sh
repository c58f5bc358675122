#!/bin/sh
# contrib/bench/soak.sh [-n CYCLES] [-e EXECS] [-v] [NAME=PATH ...]: the soak benchmark (soak.py):
# CYCLES (10000) create/start/wait/delete cycles of a busybox container running `true`, then
# EXECS (2000) `exec`s into one long-lived container, sampling every 500 the caller's fds,
# cgroup dirs, mounts, state dirs, kernel keys, processes left over and the time per cycle; one
# table per runtime. Default runtimes: oci-rt of this tree, then crun and runc when installed.
# contrib/bench/scale.sh runs this script with --scale: -n CONTAINERS (1000) `sleep`s running
# at once, created in steps (100, 250, 500, N); at each step the time of list, state, ps, exec
# and kill; at the end kill and delete of each.
# Needs root. Each runtime has its own --root /run/oci-rt-soak-NAME and container ids soak-NAME-*
# (scale: /run/oci-rt-soak-scale-NAME, soak-scale-NAME-*, so that a soak and a scale run of the
# same runtime can run at once); the cgroups are the runtimes' defaults, named after the ids. It runs in a private mount
# namespace with its bundles on a tmpfs (there, and only there, an empty file covers the hybrid
# cgroup2 cgroup.controllers so that crun 1.8, which refuses hybrid hosts, can run at all), and
# removes all it made on exit, Ctrl-C or failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
OCIRT=${OCIRT:-$repo/build/oci-rt}
[ "$(id -u)" = 0 ] || { echo "soak: run as root" >&2; exit 1; }
mode=soak tag=""
[ "${1:-}" = --scale ] && { mode=scale tag=scale-; shift; }
opts=""
while [ $# -gt 0 ]; do
  case $1 in
    -n|-e|--step) opts="$opts $1 $2"; shift 2 ;;
    -v) opts="$opts -v"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "soak: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  set -- "oci-rt=$OCIRT"
  for r in crun runc; do p=$(command -v $r 2>/dev/null || true); [ -n "$p" ] && set -- "$@" "$r=$p"; done
fi
for spec in "$@"; do
  case $spec in *=*) ;; *) echo "soak: runtimes are NAME=PATH, not $spec" >&2; exit 2 ;; esac
done

sweep() {  # what a runtime or a killed run left: containers, then their cgroups, then the roots
  for spec in "$@"; do
    name=$tag${spec%%=*}; rt=${spec#*=}; root=/run/oci-rt-soak-$name
    [ -d "$root" ] || continue
    for id in $(ls "$root" 2>/dev/null); do
      case $id in soak-*) "$rt" --root "$root" delete --force "$id" >/dev/null 2>&1 || true ;; esac
    done
    for d in $(find /sys/fs/cgroup -depth -type d -name "soak-$name-*" 2>/dev/null); do
      for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
      rmdir "$d" 2>/dev/null || true
    done
    rm -rf "$root"
  done
}

if [ -z "${OCIRT_SOAK_DIR:-}" ]; then
  OCIRT_SOAK_DIR=$(mktemp -d /var/tmp/soak-XXXXXX)
  export OCIRT_SOAK_DIR
  trap 'sweep "$@"; rmdir "$OCIRT_SOAK_DIR" 2>/dev/null || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  rc=0
  unshare -m --propagation private "$0" $( [ $mode = scale ] && echo --scale ) $opts "$@" || rc=$?
  exit $rc
fi
trap 'sweep "$@"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount -t tmpfs tmpfs "$OCIRT_SOAK_DIR"
export TMPDIR=$OCIRT_SOAK_DIR
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  : > "$OCIRT_SOAK_DIR/empty-controllers"
  mount --bind "$OCIRT_SOAK_DIR/empty-controllers" /sys/fs/cgroup/unified/cgroup.controllers
fi
for spec in "$@"; do  # a root left by an earlier run that was killed -9
  [ -e "/run/oci-rt-soak-$tag${spec%%=*}" ] && { echo "soak: /run/oci-rt-soak-$tag${spec%%=*} exists (an earlier run?); cleaning it" >&2; sweep "$spec"; }
done
b=$OCIRT_SOAK_DIR
# one rootfs; the `true` bundle, and a `sleep` bundle that points at the same rootfs
OCIRT=$OCIRT sh "$repo/contrib/make-bundle.sh" "$b/true" true >/dev/null
# crun 1.8 refuses ociVersion 1.2.0; nothing in this bundle is newer than 1.0.2
jq --arg r "$b/true/rootfs" '.ociVersion = "1.0.2" | .root.path = $r' "$b/true/config.json" > "$b/c.json" && mv "$b/c.json" "$b/true/config.json"
mkdir "$b/sleep"
jq '.process.args = ["sleep", "1000000"]' "$b/true/config.json" > "$b/sleep/config.json"
echo "$mode: $(uname -r), $(nproc) cpus, $(free -g | awk '/^Mem/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC; $*"
if [ $mode = soak ]; then
  python3 "$here/soak.py" soak $opts --bundle "$b/true" --long-bundle "$b/sleep" "$@"
else
  python3 "$here/soak.py" scale $opts --bundle "$b/sleep" "$@"
fi
