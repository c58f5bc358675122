#!/bin/sh
# Installs every build and test dependency of oci-rt from Debian's archive (Debian 12, as root).
# Idempotent: does nothing when everything is already installed.
# --tests adds what only the test suite needs (qemu and cpio for the VMs; the real clients: podman,
# containerd and, for its CRI plugin, the CNI plugins and a Python gRPC client's packages).
set -eu
PKGS="g++ meson ninja-build pkg-config python3 git rapidjson-dev libseccomp-dev libcap-ng-dev libdbus-1-dev libcxxopts-dev \
libspdlog-dev doctest-dev busybox-static jq bats iproute2 uidmap golang-github-opencontainers-specs-dev python3-jsonschema man-db runc crun procps"
[ "${1:-}" = --tests ] && PKGS="$PKGS cpio qemu-system-x86 podman conmon catatonit containerd mmdebstrap \
containernetworking-plugins python3-grpcio python3-protobuf protobuf-compiler"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
