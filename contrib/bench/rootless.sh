#!/bin/sh
# contrib/bench/rootless.sh [-n N] [-m run,lifecycle]: the rootless start cost, oci-rt beside
# crun and runc (whichever are installed), all run by the same unprivileged user on one
# `spec --rootless` busybox bundle (a single id mapping: no newuidmap). Needs root to make that
# user (with its own subuid/subgid range), which is removed at the end with what it owns. Runs
# in a private mount namespace where, as in bench.sh, an empty file covers the hybrid cgroup2
# cgroup.controllers so that crun 1.8 can run at all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
OCIRT=${OCIRT:-$repo/build/oci-rt}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
user=ocirt-bench-rl
if [ -z "${OCIRT_BENCH_DIR:-}" ]; then
  OCIRT_BENCH_DIR=$(mktemp -d /var/tmp/oci-rt-bench-rl.XXXXXX)
  export OCIRT_BENCH_DIR
  chmod 755 "$OCIRT_BENCH_DIR"
  userdel "$user" 2>/dev/null || true
  useradd -M -d "$OCIRT_BENCH_DIR" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
  rc=0
  unshare -m --propagation private "$0" "$@" || rc=$?
  uid=$(id -u "$user")
  for p in $(pgrep -u "$uid"); do kill -9 "$p" 2>/dev/null || true; done
  userdel "$user" || true
  rm -rf "$OCIRT_BENCH_DIR" "/run/user/$uid"
  exit $rc
fi
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && grep -q . /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  : > "$OCIRT_BENCH_DIR/empty-controllers"
  mount --bind "$OCIRT_BENCH_DIR/empty-controllers" /sys/fs/cgroup/unified/cgroup.controllers
fi
uid=$(id -u "$user") gid=$(id -g "$user")
bundle=$OCIRT_BENCH_DIR/bundle
OCIRT=$OCIRT sh "$repo/contrib/make-bundle.sh" "$bundle" /bin/true >/dev/null
cp "$OCIRT" "$OCIRT_BENCH_DIR/oci-rt"
mkdir -p "$OCIRT_BENCH_DIR/tmp" "/run/user/$uid"
chown -R "$uid:$gid" "$OCIRT_BENCH_DIR" "/run/user/$uid"
as_user() {
  setpriv --reuid="$uid" --regid="$gid" --clear-groups env -i HOME="$OCIRT_BENCH_DIR" USER="$user" \
    XDG_RUNTIME_DIR="/run/user/$uid" TMPDIR="$OCIRT_BENCH_DIR/tmp" PATH=/usr/bin:/bin:/usr/sbin:/sbin "$@"
}
rm -f "$bundle/config.json"
as_user "$OCIRT_BENCH_DIR/oci-rt" spec --rootless --bundle "$bundle"
# crun 1.8 refuses ociVersion 1.2.0; nothing here is newer than 1.0.2
jq '.ociVersion = "1.0.2" | .process.args = ["/bin/true"] | .process.terminal = false' "$bundle/config.json" > "$bundle/c.json"
mv "$bundle/c.json" "$bundle/config.json"
chown "$uid:$gid" "$bundle/config.json"
rts="oci-rt=$OCIRT_BENCH_DIR/oci-rt"
for r in crun runc; do p=$(command -v $r 2>/dev/null || true); [ -n "$p" ] && rts="$rts $r=$p"; done
echo "bench (rootless, as $user): $(uname -r), $(nproc) cpus, $(stat -f -c %T /sys/fs/cgroup) cgroup root; $rts"
as_user /usr/bin/python3 "$here/bench.py" --bundle "$bundle" "$@" $rts
