#!/bin/bash
# The pure cgroup v2 tests: boots Debian's kernel under qemu (software emulation) with
# cgroup_no_v1=all, from an initramfs holding oci-rt (and the libraries it needs), busybox,
# the bundles and tests/vm/v2-tests.sh; prints that script's TAP lines, then the VM powers off.
# Usage: tests/cgroupv2-vm.sh [path/to/oci-rt]   (root; caches the kernel in /var/tmp/oci-rt-vm)
# OCIRT_VM_EXTRA=DIR: also copy DIR to /extra in the VM and run /extra/run.sh after the tests,
# its output as "# extra:" lines (for one-off runs, e.g. a prebuilt runtime-tools suite).
# Exit status: 0 if every VM test passed (or qemu cannot be installed: one skip line).
set -u
cd "$(dirname "$0")/.."
OCIRT=$(readlink -f "${1:-build/oci-rt}")
CACHE=${OCIRT_VM_CACHE:-/var/tmp/oci-rt-vm}
TIMEOUT=${OCIRT_VM_TIMEOUT:-900}

skip() { echo "1..1"; echo "ok 1 - cgroup v2 VM # skip $*"; exit 0; }
fail() { echo "1..1"; echo "not ok 1 - cgroup v2 VM: $*"; exit 1; }

if ! command -v qemu-system-x86_64 >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
    skip "qemu-system-x86 cannot be installed here"
fi
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
[ -x "$OCIRT" ] || fail "no oci-rt binary at $OCIRT"

# Debian's current kernel image, unpacked once (no install on the host: /boot stays as it is).
mkdir -p "$CACHE"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$kpkg" ] || fail "apt-cache does not know linux-image-amd64 (run apt-get update)"
kernel=$(ls "$CACHE/$kpkg"/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -z "$kernel" ]; then
  (cd "$CACHE" && rm -f "$kpkg"_*.deb && apt-get download "$kpkg" >/dev/null 2>&1) || fail "apt-get download $kpkg failed"
  mkdir -p "$CACHE/$kpkg.tmp"
  dpkg-deb --fsys-tarfile "$CACHE/$kpkg"_*.deb | tar -x -C "$CACHE/$kpkg.tmp" ./boot || fail "unpack $kpkg failed"
  rm -rf "${CACHE:?}/$kpkg"; mv "$CACHE/$kpkg.tmp" "$CACHE/$kpkg"; rm -f "$CACHE/$kpkg"_*.deb
  kernel=$(ls "$CACHE/$kpkg"/boot/vmlinuz-* | head -1)
fi

work=$(mktemp -d /var/tmp/oci-rt-vm-run.XXXXXX)
[ -n "${OCIRT_VM_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
ird=$work/initramfs
mkdir -p "$ird"/{bin,sbin,proc,sys,dev,tmp,run,newroot,etc,usr/bin}
cp /bin/busybox "$ird/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$ird/bin/$a"; done
# oci-rt and its shared libraries, at the same paths
cp "$OCIRT" "$ird/bin/oci-rt"
for lib in $(ldd "$OCIRT" | grep -o '/[^ ]*'); do
  mkdir -p "$ird$(dirname "$lib")"; cp -L "$lib" "$ird$lib"
done
cp tests/vm/v2-tests.sh "$ird/v2-tests.sh"
if [ -n "${OCIRT_VM_EXTRA:-}" ]; then
  cp -a "$OCIRT_VM_EXTRA" "$ird/extra"
  for f in $(find "$ird/extra" -type f -perm -u+x); do
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
      [ -e "$ird$lib" ] || { mkdir -p "$ird$(dirname "$lib")"; cp -L "$lib" "$ird$lib"; }
    done
  done
fi
# settings for the VM script: per-test limit, --debug logs of oci-rt in failures
printf 'LIMIT=%s\nOCIRT_DEBUG=%s\n' "${OCIRT_VM_TEST_LIMIT:-180}" "${OCIRT_VM_DEBUG:-}" > "$ird/vm.env"
printf 'root:x:0:0:root:/root:/bin/sh\nrl:x:1000:1000:rootless tests:/tmp:/bin/sh\n' > "$ird/etc/passwd"
printf 'root:x:0:\nrl:x:1000:\n' > "$ird/etc/group"

# The container rootfs (busybox) and one bundle per case, configs made here with jq.
OCIRT=$OCIRT sh contrib/make-bundle.sh "$work/tmpl" >/dev/null || fail "make-bundle failed"
mv "$work/tmpl/rootfs" "$ird/rootfs"
base=$(jq '.root.path = "/rootfs" | .linux.namespaces += [{"type": "cgroup"}]' "$work/tmpl/config.json")
mkb() {  # mkb NAME JQ-EXPR [jq args...]: /bundles/NAME/config.json
  local name=$1 expr=$2; shift 2
  mkdir -p "$ird/bundles/$name"
  jq "$@" "$expr" <<<"$base" > "$ird/bundles/$name/config.json" || fail "bundle $name: jq failed"
}
tmpfs='{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}'
mkb sleep '.process.args = ["sleep", "1000"]'
mkb resources '.process.args = ["sleep", "1000"] | .linux.resources = {
  "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000, "cpus": "0", "mems": "0"},
  "pids": {"limit": 33},
  "blockIO": {"weight": 500},
  "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
  "unified": {"memory.high": "61440000"}}'
mkb inside '.process.args = ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cat /proc/self/cgroup"]
  | .linux.resources = {"memory": {"limit": 50331648}, "pids": {"limit": 21}}'
mkb pids '.process.args = ["sh", "-c", "for i in 1 2 3 4 5 6; do sleep 30 & done 2>&1; echo spawned"]
  | .linux.resources = {"pids": {"limit": 4}}'
mkb oom '.process.args = ["sh", "-c", "sleep 1; x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"]
  | .linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
mkb busy '.process.args = ["sh", "-c", "while :; do :; done"]'
mkb tree '.process.args = ["sh", "-c", "sleep 100 & sleep 101 & wait"] | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
mkb nodev ".process.args = [\"sh\", \"-c\", \"mknod /tmp/kmsg c 1 11 && echo made; (echo oci-rt-vm-test > /tmp/kmsg) && echo opened; echo x > /dev/null && echo null-ok\"]
  | .process.capabilities.bounding += [\"CAP_MKNOD\"] | .process.capabilities.effective += [\"CAP_MKNOD\"] | .process.capabilities.permitted += [\"CAP_MKNOD\"]
  | .mounts += [$tmpfs] | .linux.resources = {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}"
mkb withdev "$(jq -c '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]' "$ird/bundles/nodev/config.json")"
mkb mknodonly "$(jq -c '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "m"}]' "$ird/bundles/nodev/config.json")"
mkb nested '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/vmtest-a/b/nested"'
mkb relative '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "vmtest-rel"'
mkb rt '.process.args = ["true"] | .linux.resources = {"cpu": {"realtimeRuntime": 1000, "realtimePeriod": 100000}}'
# rootless (uid 1000, runc's `spec --rootless` changes): a user namespace, /sys bound, no gid=5
mkb rootless '.process.args = ["sleep", "1000"]
  | .linux.namespaces = (.linux.namespaces | map(select(.type != "network")) + [{"type": "user"}])
  | .linux.uidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]
  | .linux.gidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]
  | .mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys",
                    "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)
  | .mounts |= map(if .options then .options |= map(select(startswith("gid=") | not)) else . end)
  | .linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 20}}'
mkb v1only '.process.args = ["true"] | .linux.resources = {"memory": {"swappiness": 10, "limit": 67108864}}'

cat > "$ird/init" <<'EOF'
#!/bin/sh
# stage 1 (initramfs, cannot pivot_root): copy into a tmpfs and switch_root into it
export PATH=/bin:/usr/bin:/sbin
if [ ! -e /.stage2 ]; then
  mount -t tmpfs -o size=400m tmpfs /newroot
  for d in bin sbin etc usr lib lib64 rootfs bundles v2-tests.sh vm.env init extra; do [ -e /$d ] && cp -a /$d /newroot/; done
  mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run
  touch /newroot/.stage2
  exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t hugetlbfs none /dev/hugepages 2>/dev/null
echo "VM-BEGIN"
set -a; . /vm.env; set +a
sh /v2-tests.sh
echo "VM-END"
[ -x /extra/run.sh ] && (cd /extra && ./run.sh 2>&1 | sed 's/^/# extra: /')
sync
poweroff -f
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz" || fail "initramfs failed"

log=$work/console.log
accel=tcg
[ -w /dev/kvm ] && accel=kvm
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$accel" -m 1024 -smp 2 -nographic -no-reboot -nodefaults \
  -serial stdio -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 quiet loglevel=1 hugepages=4" \
  </dev/null >"$log" 2>&1
rc=$?
tr -d '\r' <"$log" | sed -n '/VM-BEGIN$/,/^VM-END$/p' | grep -vE 'VM-(BEGIN|END)$' > "$work/tap"
if ! grep -q '^VM-END' <(tr -d '\r' <"$log"); then
  cat "$work/tap"
  echo "not ok - the VM did not finish (qemu exit $rc); console tail:"
  tail -20 "$log" | sed 's/^/# /'
  exit 1
fi
cat "$work/tap"
[ -n "${OCIRT_VM_EXTRA:-}" ] && tr -d '\r' <"$log" | grep '^# extra: '
grep -q '^ok ' "$work/tap" || { echo "not ok - the VM ran no test; console tail:"; tail -20 "$log" | sed 's/^/# /'; exit 1; }
! grep -q '^not ok' "$work/tap"
