# A test user for the rootless tests (tests/integration/rootless.bats, tests/clients/
# podman-rootless.bats): made by setup_rootless_user with subordinate id ranges of its own,
# removed by teardown_rootless_user with everything it owns (files, processes by pid).
# RL_USER, RL_UID, RL_GID, RL_DIR (its home: bundles, its copy of oci-rt), RL_XDG
# (its XDG_RUNTIME_DIR), RL_BIN (oci-rt as the user runs it: a copy the user owns, so that a
# CVE-2019-5736 write would succeed if the runtime did not protect itself).

RL_SUBID_START=${RL_SUBID_START:-300000}

# setup_rootless_user NAME
setup_rootless_user() {
  export RL_USER=$1
  teardown_rootless_user quiet
  # -K SUB_*_COUNT=0: no automatic subordinate ranges; ours are added below, one per file
  useradd -M -d "/var/tmp/$RL_USER" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$RL_USER"
  export RL_UID=$(id -u "$RL_USER") RL_GID=$(id -g "$RL_USER")
  export RL_DIR=/var/tmp/$RL_USER RL_XDG=/run/user/$(id -u "$RL_USER")
  echo "$RL_USER:$RL_SUBID_START:65536" >> /etc/subuid
  echo "$RL_USER:$RL_SUBID_START:65536" >> /etc/subgid
  mkdir -p "$RL_DIR" "$RL_XDG"
  cp "$OCIRT" "$RL_DIR/oci-rt"
  export RL_BIN=$RL_DIR/oci-rt
  chown -R "$RL_UID:$RL_GID" "$RL_DIR" "$RL_XDG"
  chmod 755 "$RL_DIR"
  chmod 700 "$RL_XDG"
}

# teardown_rootless_user [quiet]: the user's processes (by pid), files, ranges and account
teardown_rootless_user() {
  [ -n "${RL_USER:-}" ] || return 0
  local uid p
  uid=$(id -u "$RL_USER" 2>/dev/null) || uid=
  if [ -n "$uid" ]; then
    for p in $(pgrep -u "$uid"); do kill -9 "$p" 2>/dev/null || true; done
    # its containers' mounts live in their own namespaces; what is left are dirs
    rm -rf "/run/user/$uid"
    userdel "$RL_USER" 2>/dev/null || true
  fi
  sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
  rm -rf "/var/tmp/$RL_USER"
}

# as_user CMD...: CMD as the test user, with a clean environment of its own
as_user() {
  setpriv --reuid="$RL_UID" --regid="$RL_GID" --clear-groups \
    env -i HOME="$RL_DIR" USER="$RL_USER" XDG_RUNTIME_DIR="$RL_XDG" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    "$@"
}
