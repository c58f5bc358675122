#!/bin/sh
# Installs every build and test dependency of oci-rt from Debian's archive (Debian 12, as root).
# Idempotent: does nothing when everything is already installed.
# --tests adds what only the test suite needs (qemu and cpio for the VMs; the real clients: podman,
# containerd and, for its CRI plugin, the CNI plugins and a Python gRPC client's packages; clang and
# its sanitizer and libFuzzer runtimes for the ASan build and the fuzz smoke).
set -eu
PKGS="g++ meson ninja-build pkg-config python3 git rapidjson-dev libseccomp-dev libcap-ng-dev libdbus-1-dev libcxxopts-dev \
libspdlog-dev doctest-dev busybox-static jq bats iproute2 uidmap golang-github-opencontainers-specs-dev python3-jsonschema man-db runc crun procps time \
protobuf-c-compiler libprotobuf-c-dev criu"
[ "${1:-}" = --tests ] && PKGS="$PKGS cpio qemu-system-x86 podman conmon catatonit containerd mmdebstrap docker.io tini \
containernetworking-plugins python3-grpcio python3-protobuf protobuf-compiler strace \
clang libclang-rt-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# docker.io's postinst would start a host dockerd (/etc/init.d/docker): the tests start their own,
# so no service is started during the install (policy-rc.d 101 = action forbidden)
prc=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  prc=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' > "$prc" && chmod 755 "$prc"
  trap 'rm -f "$prc"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
