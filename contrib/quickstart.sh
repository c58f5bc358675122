#!/bin/sh
# The README's first command: install dependencies, build, install, make a busybox bundle and
# run `echo hello` in a container.
set -eu
cd "$(dirname "$0")/.."
sh contrib/install-deps.sh
[ -d build ] || meson setup build --prefix=/usr/local >/dev/null
ninja -C build >/dev/null
ninja -C build install >/dev/null
bundle=${BUNDLE:-/var/tmp/oci-rt-hello}
rm -rf "$bundle"
OCIRT=/usr/local/sbin/oci-rt sh contrib/make-bundle.sh "$bundle" echo hello
/usr/local/sbin/oci-rt run --bundle "$bundle" "hello-$$"
