#!/bin/sh
# contrib/bench/bench.sh [-n N] [-m run,lifecycle,floor] [--seccomp PROFILE]: oci-rt against crun and runc (whichever
# are installed) on one busybox bundle. Needs root. Runs in a private mount namespace with the
# state on a tmpfs; there, and only there, an empty file covers the hybrid cgroup2
# cgroup.controllers so that crun 1.8 (which refuses hybrid hosts) can run at all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
OCIRT=${OCIRT:-$repo/build/oci-rt}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
if [ -z "${OCIRT_BENCH_DIR:-}" ]; then
  # outside: a scratch dir that the private namespace covers with a tmpfs; removed afterwards
  OCIRT_BENCH_DIR=$(mktemp -d /var/tmp/oci-rt-bench.XXXXXX)
  export OCIRT_BENCH_DIR
  rc=0
  unshare -m --propagation private "$0" "$@" || rc=$?
  rmdir "$OCIRT_BENCH_DIR"
  exit $rc
fi
mount -t tmpfs tmpfs "$OCIRT_BENCH_DIR"
export TMPDIR=$OCIRT_BENCH_DIR
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  : > "$OCIRT_BENCH_DIR/empty-controllers"
  mount --bind "$OCIRT_BENCH_DIR/empty-controllers" /sys/fs/cgroup/unified/cgroup.controllers
fi
bundle=$OCIRT_BENCH_DIR/bundle
OCIRT=$OCIRT sh "$repo/contrib/make-bundle.sh" "$bundle" /bin/true >/dev/null
# crun 1.8 refuses ociVersion 1.2.0 ("unknown version specified"); nothing in this bundle is
# newer than 1.0.2, so all runtimes get that
jq '.ociVersion = "1.0.2"' "$bundle/config.json" > "$bundle/config.json.new" && mv "$bundle/config.json.new" "$bundle/config.json"
rts="oci-rt=$OCIRT"
for r in crun runc; do p=$(command -v $r 2>/dev/null || true); [ -n "$p" ] && rts="$rts $r=$p"; done
echo "bench: $(uname -r), $(nproc) cpus, $(stat -f -c %T /sys/fs/cgroup) cgroup root; $rts"
exec /usr/bin/python3 "$here/bench.py" --bundle "$bundle" "$@" $rts
