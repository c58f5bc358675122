#!/bin/sh
# contrib/bench/scale.sh [-n CONTAINERS] [-v] [NAME=PATH ...]: CONTAINERS (1000) busybox `sleep`s
# running at once, created in steps (100, 250, 500, N); at each step the time of `list`, `state`,
# `ps`, `exec` and `kill` (and of the creates), then `kill` and `delete` of each. One table per
# runtime; default runtimes oci-rt of this tree, crun and runc. See soak.sh (same setup, same cleanup).
exec "$(dirname "$0")/soak.sh" --scale "$@"
