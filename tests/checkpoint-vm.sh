#!/bin/bash
# checkpoint/restore where criu works: tests/integration/checkpoint.bats run inside the systemd VM
# of tests/systemd-vm.sh (its cached Debian 12 image, which has criu 3.17 and bats, booting
# Debian's 6.1 kernel; on this project's 6.18 host `criu check` fails on the vdso). The bats
# file, its helpers and make-bundle.sh go in as the VM's extra payload; the TAP lines come back.
# Usage: tests/checkpoint-vm.sh [path/to/oci-rt] [v2|v1|hybrid]   (root; ~2 min under TCG)
# Env as tests/systemd-vm.sh's (OCIRT_VM_TIMEOUT, OCIRT_VM_KEEP, ...); OCIRT_CHECKPOINT_FILTER:
# a bats --filter regex.
set -u
cd "$(dirname "$0")/.." || exit 1
OCIRT=$(readlink -f "${1:-build/oci-rt}")
MODE=${2:-v2}
extra=$(mktemp -d /var/tmp/oci-rt-checkpoint-vm.XXXXXX)
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra/tests/integration" "$extra/contrib"
cp tests/integration/checkpoint.bats tests/integration/helpers.bash "$extra/tests/integration/"
cp contrib/make-bundle.sh "$extra/contrib/"
printf '%s\n' "${OCIRT_CHECKPOINT_FILTER:-}" > "$extra/filter"
cat > "$extra/run.sh" <<'EOS'
#!/bin/sh
# in the VM (systemd-vm.sh's run.sh runs it from /opt/ocirt-vm): checkpoint.bats as TAP
cd /opt/ocirt-vm/extra || exit 1
echo "# $(uname -r), $(criu --version | head -1), criu check: $(criu check 2>&1 | tail -1)"
f=$(cat filter)
OCIRT=/opt/ocirt-vm/oci-rt bats --tap ${f:+--filter "$f"} tests/integration/checkpoint.bats 2>&1
EOS
OCIRT_VM_PAYLOAD=$extra OCIRT_VM_SCRIPT=$extra/run.sh tests/systemd-vm.sh "$OCIRT" "$MODE"
