#!/bin/sh
# contrib/bench/systemd-vm.sh [path/to/oci-rt] [v2|v1|hybrid] [N]: the start cost with the systemd
# cgroup driver, oci-rt beside crun and runc (Debian 12's, from the VM's image), all with
# --systemd-cgroup, in the VM tests/systemd-vm.sh boots (a real systemd; software emulation, so
# the absolute figures are slow: compare the ratios). Needs root; the image is made once.
cd "$(dirname "$0")/../.." || exit 1
OCIRT_VM_SCRIPT=contrib/bench/systemd-inside.sh BENCH_N=${3:-40} OCIRT_VM_TIMEOUT=${OCIRT_VM_TIMEOUT:-1200} \
  bash tests/systemd-vm.sh "${1:-build/oci-rt}" "${2:-v2}"
