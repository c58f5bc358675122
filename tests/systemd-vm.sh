#!/bin/bash
# A VM booting a real systemd: Debian's kernel (cached as tests/cgroupv2-vm.sh caches it) under
# qemu (software emulation), with a Debian 12 userland made by mmdebstrap from Debian's archive
# (systemd, dbus, podman, containerd, runc, crun, criu and bats for tests/checkpoint-vm.sh...),
# in one cgroup mode:
#   v2      systemd.unified_cgroup_hierarchy=1 (pure cgroup v2)
#   v1      systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1
#           (pure legacy v1: the v1 controllers plus the name=systemd hierarchy)
#   hybrid  systemd.unified_cgroup_hierarchy=0 (v1 controllers, systemd's own tree on cgroup2
#           at /sys/fs/cgroup/unified: what systemd 252 makes of =0 alone)
# Boot chain: kernel -> a small initramfs (busybox, the virtio/ext4 modules) that mounts the
# image (an ext4 made with mkfs.ext4 -d, opened copy-on-write: the cached file never changes),
# copies oci-rt, a busybox bundle and tests/vm/systemd-tests.sh into it, and switch_roots to
# systemd -> multi-user.target -> ocirt-vm-test.service runs the tests (TAP on the serial
# console between markers) and powers the VM off. This script prints those TAP lines.
# Usage: tests/systemd-vm.sh [path/to/oci-rt] [v2|v1|hybrid]   (root)
# Caches: the kernel in /var/tmp/oci-rt-vm (shared with cgroupv2-vm.sh), the userland tarball
# and the disk image in /var/tmp/oci-rt-systemd-vm, each rebuilt only when its recipe changes.
# Env: OCIRT_VM_SCRIPT (run this script in the VM instead of tests/vm/systemd-tests.sh),
# OCIRT_VM_PAYLOAD (a directory copied to /opt/ocirt-vm/extra in the VM: tests/checkpoint-vm.sh),
# OCIRT_VM_TIMEOUT (qemu wall limit, s), OCIRT_VM_MEM (MiB), OCIRT_VM_KEEP=1 (keep the
# work directory), OCIRT_VM_REBUILD=1 (remake the userland and image: newer Debian packages),
# OCIRT_VM_MIRROR (mmdebstrap mirror argument; default the host's apt sources).
# Exit status: 0 if every VM test passed (or qemu is missing: one skip line).
set -u
cd "$(dirname "$0")/.." || exit 1
OCIRT=$(readlink -f "${1:-build/oci-rt}")
MODE=${2:-v2}
KCACHE=${OCIRT_VM_CACHE:-/var/tmp/oci-rt-vm}
CACHE=${OCIRT_SYSTEMD_VM_CACHE:-/var/tmp/oci-rt-systemd-vm}
TIMEOUT=${OCIRT_VM_TIMEOUT:-600}
MEM=${OCIRT_VM_MEM:-2560}

skip() { echo "1..1"; echo "ok 1 - systemd VM ($MODE) # skip $*"; exit 0; }
fail() { echo "1..1"; echo "not ok 1 - systemd VM ($MODE): $*"; exit 1; }
note() { echo "# $*" >&2; }

case $MODE in
  v2) CGARGS="systemd.unified_cgroup_hierarchy=1" ;;
  v1) CGARGS="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1" ;;
  hybrid) CGARGS="systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1" ;;
  *) echo "usage: $0 [path/to/oci-rt] [v2|v1|hybrid]" >&2; exit 2 ;;
esac
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
[ -x "$OCIRT" ] || fail "no oci-rt binary at $OCIRT"
[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap, image ownership)"

# Everything made by this run lives in $work; the trap ends qemu (by pid) and removes it.
work=$(mktemp -d /var/tmp/oci-rt-systemd-vm-run.XXXXXX)
qpid='' mpid=''
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
  # mmdebstrap ignores SIGTERM while it works: its own process group (setsid), killed whole
  if [ -n "$mpid" ]; then kill -TERM -- "-$mpid" 2>/dev/null; sleep 1; kill -KILL -- "-$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null; fi
  if [ -n "${OCIRT_VM_KEEP:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
  rm -rf "$CACHE"/*.tmp.$$ 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the kernel: Debian's current image, unpacked once (boot/ as cgroupv2-vm.sh has it, plus
# lib/modules for the initramfs and the image). No install on the host.
mkdir -p "$KCACHE" "$CACHE"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$kpkg" ] || fail "apt-cache does not know linux-image-amd64 (run apt-get update)"
kver=${kpkg#linux-image-}
kdir=$KCACHE/$kpkg
if [ ! -e "$kdir/boot/vmlinuz-$kver" ] || [ ! -e "$kdir/lib/modules/$kver/modules.order" ]; then
  note "unpacking $kpkg into $KCACHE"
  (cd "$work" && apt-get download "$kpkg" >/dev/null 2>&1) || fail "apt-get download $kpkg failed"
  mkdir -p "$work/k"
  dpkg-deb --fsys-tarfile "$work/$kpkg"_*.deb | tar -x -C "$work/k" ./boot ./lib/modules || fail "unpack $kpkg failed"
  rm -f "$work/$kpkg"_*.deb
  mkdir -p "$kdir"
  [ -e "$kdir/boot/vmlinuz-$kver" ] || { rm -rf "${kdir:?}/boot"; mv "$work/k/boot" "$kdir/boot"; }
  rm -rf "${kdir:?}/lib"; mv "$work/k/lib" "$kdir/lib"
fi
kernel=$kdir/boot/vmlinuz-$kver

# --- layer 1: the Debian userland as a tarball, keyed by the package list and mmdebstrap options.
PKGS="systemd systemd-sysv dbus kmod iproute2 jq busybox-static procps util-linux
  podman crun runc conmon catatonit netavark aardvark-dns golang-github-containers-common
  containerd iptables criu bats"
SUITE=bookworm
DEBOPTS="--variant=apt --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/doc/*
  --dpkgopt=path-include=/usr/share/doc/*/copyright --dpkgopt=path-exclude=/usr/share/locale/*
  --dpkgopt=path-exclude=/usr/share/info/*"
MIRROR=${OCIRT_VM_MIRROR:-}
if [ -z "$MIRROR" ]; then
  MIRROR=http://deb.debian.org/debian
  [ -f /etc/apt/sources.list.d/debian.sources ] && MIRROR=/etc/apt/sources.list.d/debian.sources
fi
h1=$(printf '%s\n' "$SUITE" $PKGS $DEBOPTS | sha256sum | cut -c1-12)
tarball=$CACHE/rootfs-$h1.tar
[ -n "${OCIRT_VM_REBUILD:-}" ] && rm -f "$CACHE"/rootfs-*.tar "$CACHE"/image-*
if [ ! -s "$tarball" ]; then
  command -v mmdebstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >/dev/null 2>&1 ||
    fail "mmdebstrap cannot be installed"
  note "mmdebstrap $SUITE into $tarball (once)"
  t0=$(date +%s)
  # unshare mode: its mounts live in its own namespace, nothing is left on the host; its
  # temporary files in $work
  mkdir -m 1777 "$work/tmp"
  # shellcheck disable=SC2086
  TMPDIR=$work/tmp setsid mmdebstrap --quiet --mode=unshare --format=tar $DEBOPTS --include="$(echo $PKGS | tr ' ' ,)" \
    "$SUITE" "$tarball.tmp.$$" "$MIRROR" >"$work/mmdebstrap.log" 2>&1 </dev/null &
  mpid=$!
  wait "$mpid"; mrc=$?; mpid=
  if [ $mrc -ne 0 ]; then
    tail -20 "$work/mmdebstrap.log" | sed 's/^/# /'
    fail "mmdebstrap failed"
  fi
  mv "$tarball.tmp.$$" "$tarball"
  for old in "$CACHE"/rootfs-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
  note "mmdebstrap took $(( $(date +%s) - t0 ))s, tarball $(du -m "$tarball" | cut -f1) MiB"
fi

# --- layer 2: the disk image, keyed by layer 1, the kernel and this recipe (hashed as text).
customize_root() {  # customize_root DIR: make the unpacked userland a quick-booting test VM
  local d=$1 u
  echo ocirt-vm > "$d/etc/hostname"
  printf '127.0.0.1 localhost ocirt-vm\n::1 localhost\n' > "$d/etc/hosts"
  # a fixed machine id: no first boot (systemd-firstboot would ask questions on the console)
  echo 0123456789abcdef0123456789abcdef > "$d/etc/machine-id"
  mkdir -p "$d/var/lib/dbus"; ln -sf /etc/machine-id "$d/var/lib/dbus/machine-id"
  : > "$d/etc/fstab"
  ln -sf /lib/systemd/system/multi-user.target "$d/etc/systemd/system/default.target"
  # what costs boot time and tests nothing: gettys, timers, first-boot and update services;
  # containerd and podman's units are left to the tests to start
  for u in getty.target serial-getty@ttyS0.service getty@tty1.service console-getty.service \
      systemd-firstboot.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
      systemd-random-seed.service e2scrub_reap.service ldconfig.service systemd-hwdb-update.service \
      systemd-journal-catalog-update.service systemd-pcrphase.service systemd-pcrphase-sysinit.service \
      systemd-networkd-wait-online.service containerd.service podman.service podman.socket \
      podman-restart.service podman-auto-update.service podman-clean-transient.service \
      apt-daily.service apt-daily-upgrade.service systemd-sysusers.service \
      modprobe@drm.service modprobe@efi_pstore.service modprobe@dm_mod.service \
      sys-kernel-debug.mount sys-kernel-tracing.mount; do
    ln -sf /dev/null "$d/etc/systemd/system/$u"
  done
  for u in "$d"/lib/systemd/system/*.timer; do
    [ -e "$u" ] && ln -sf /dev/null "$d/etc/systemd/system/${u##*/}"
  done
  # the journal in memory only, nothing forwarded to the console (the TAP lines go there)
  mkdir -p "$d/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > "$d/etc/systemd/journald.conf.d/vm.conf"
  mkdir -p "$d/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultTimeoutStartSec=60s\nDefaultTimeoutStopSec=10s\nShowStatus=error\n' > "$d/etc/systemd/system.conf.d/vm.conf"
  # the kernel's modules a container host needs (fs, net, virtio, crypto, lib), indexed here
  mkdir -p "$d/lib/modules/$kver/kernel/drivers/net"
  cp "$kdir/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$d/lib/modules/$kver/"
  cp -a "$kdir/lib/modules/$kver/kernel"/{fs,net,lib,crypto,arch} "$d/lib/modules/$kver/kernel/"
  cp -a "$kdir/lib/modules/$kver/kernel/drivers"/{virtio,block,char} "$d/lib/modules/$kver/kernel/drivers/"
  cp "$kdir/lib/modules/$kver/kernel/drivers/net"/*.ko "$d/lib/modules/$kver/kernel/drivers/net/"
  rm -rf "$d/lib/modules/$kver/kernel/net"/{wireless,mac80211,bluetooth,nfc,6lowpan,ieee802154,mac802154} \
    "$d/lib/modules/$kver/kernel/fs"/{btrfs,xfs,ocfs2,gfs2,nfs,nfsd,cifs,smb,ceph,f2fs,ubifs,jfs,reiserfs,nilfs2,ntfs3,dlm,afs,coda,orangefs}
  chroot "$d" /sbin/depmod -a "$kver"
  rm -rf "$d"/var/cache/apt/* "$d"/var/lib/apt/lists/*
}
h2=$( (echo "$h1 $kpkg"; declare -f customize_root) | sha256sum | cut -c1-12)
image=$CACHE/image-$h2.ext4
if [ ! -s "$image" ] || [ ! -s "$image.modules.dep" ]; then
  note "building $image (once)"
  t0=$(date +%s)
  root=$work/root
  mkdir -p "$root"
  tar -x --numeric-owner --xattrs --xattrs-include='*' -f "$tarball" -C "$root" || fail "unpacking $tarball failed"
  customize_root "$root" || fail "customizing the image failed"
  mb=$(du -sm "$root" | cut -f1)
  rm -f "$image.tmp.$$"
  # room for the tests' containers and images: the used size plus 1 GiB (sparse on the host)
  mkfs.ext4 -q -F -L ocirt-vm -E root_owner=0:0 -d "$root" "$image.tmp.$$" "$((mb + 1024))M" >/dev/null ||
    fail "mkfs.ext4 -d failed"
  cp "$root/lib/modules/$kver/modules.dep" "$image.modules.dep"
  mv "$image.tmp.$$" "$image"
  rm -rf "$root"
  for old in "$CACHE"/image-*.ext4; do [ "$old" = "$image" ] || rm -f "$old" "$old.modules.dep"; done
  note "image built in $(( $(date +%s) - t0 ))s: ${mb} MiB of files, $(du -m "$image" | cut -f1) MiB on disk"
fi

# --- the initramfs: busybox, the modules to mount the image, the payload for the tests.
ird=$work/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,mod,payload}
ldd /bin/busybox >/dev/null 2>&1 && fail "/bin/busybox is not static (apt-get install busybox-static)"
cp /bin/busybox "$ird/bin/busybox"
for a in sh mount umount mkdir cp insmod switch_root echo cat sleep ln poweroff sync; do ln -s busybox "$ird/bin/$a"; done
# the modules virtio_blk and ext4 need, in load order, from the image's modules.dep
mods=
adddeps() {  # adddeps PATH: its dependencies first, then itself
  local m=$1 dep
  case " $mods " in *" $m "*) return ;; esac
  for dep in $(grep "^$m:" "$image.modules.dep" | cut -d: -f2); do adddeps "$dep"; done
  mods="$mods $m"
}
for name in virtio_pci virtio_blk crc32c_generic ext4; do
  m=$(grep -o "^[^:]*/$name\.ko:" "$image.modules.dep" | tr -d :)
  [ -n "$m" ] || fail "module $name not in the image"
  adddeps "$m"
done
i=0
for m in $mods; do
  i=$((i + 1)); cp "$kdir/lib/modules/$kver/$m" "$ird/mod/$(printf %02d $i)-${m##*/}"
done
cp "$OCIRT" "$ird/payload/oci-rt"
# OCIRT_VM_SCRIPT: another script to run in the VM instead of the tests (contrib/bench's systemd mode)
cp "${OCIRT_VM_SCRIPT:-tests/vm/systemd-tests.sh}" "$ird/payload/systemd-tests.sh"
if [ -n "${OCIRT_VM_PAYLOAD:-}" ]; then cp -a "$OCIRT_VM_PAYLOAD" "$ird/payload/extra" || fail "copying $OCIRT_VM_PAYLOAD failed"; fi
OCIRT=$OCIRT sh contrib/make-bundle.sh "$ird/payload/bundle" >/dev/null || fail "make-bundle failed"
printf 'MODE=%s\nLIMIT=%s\nOCIRT_DEBUG=%s\nBENCH_N=%s\n' "$MODE" "${OCIRT_VM_TEST_LIMIT:-120}" "${OCIRT_VM_DEBUG:-}" "${BENCH_N:-40}" > "$ird/payload/vm.env"
# the service: after multi-user.target (systemd fully up, dbus running), output on the console;
# Type=exec, so the boot is finished (is-system-running) while it runs; then power off
cat > "$ird/payload/ocirt-vm-test.service" <<'EOF'
[Unit]
Description=oci-rt VM tests
After=multi-user.target dbus.service
Wants=dbus.service
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=exec
ExecStart=/opt/ocirt-vm/run.sh
StandardInput=null
StandardOutput=file:/dev/ttyS0
StandardError=inherit
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
EOF
cat > "$ird/payload/run.sh" <<'EOF'
#!/bin/sh
cd /opt/ocirt-vm
set -a; . ./vm.env; set +a
echo "VM-BEGIN"
echo "# boot-to-tests: $(cut -d' ' -f1 /proc/uptime)s since the kernel started"
sh ./systemd-tests.sh
echo "# tests done at $(cut -d' ' -f1 /proc/uptime)s"
echo "VM-END"
sleep 0.5
EOF
chmod +x "$ird/payload/run.sh"
cat > "$ird/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /mod/*.ko; do insmod "$m" || echo "initramfs: insmod $m failed"; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
  echo "initramfs: cannot mount /dev/vda"; poweroff -f
fi
mkdir -p /newroot/opt/ocirt-vm
cp -a /payload/. /newroot/opt/ocirt-vm/
ln -sf /opt/ocirt-vm/oci-rt /newroot/usr/local/bin/oci-rt
cp /payload/ocirt-vm-test.service /newroot/etc/systemd/system/
mkdir -p /newroot/etc/systemd/system/multi-user.target.wants
ln -sf ../ocirt-vm-test.service /newroot/etc/systemd/system/multi-user.target.wants/ocirt-vm-test.service
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /lib/systemd/systemd
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz" || fail "initramfs failed"

# --- boot. The image is opened with snapshot=on: writes go to a temporary file qemu deletes
# ($TMPDIR is $work, removed by the trap in any case).
log=$work/console.log
accel=tcg
[ -w /dev/kvm ] && accel=kvm
t0=$(date +%s)
TMPDIR=$work timeout "$TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu max -m "$MEM" -smp 2 \
  -nographic -no-reboot -nodefaults -serial stdio \
  -drive "file=$image,format=raw,if=virtio,snapshot=on,cache=unsafe" \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=1 $CGARGS" \
  </dev/null >"$log" 2>&1 &
qpid=$!
wait "$qpid"
rc=$?
qpid=
note "VM ($MODE) ran $(( $(date +%s) - t0 ))s (qemu exit $rc)"
tr -d '\r' <"$log" | sed -n '/VM-BEGIN$/,/^VM-END$/p' | grep -vE 'VM-(BEGIN|END)$' > "$work/tap"
if ! tr -d '\r' <"$log" | grep -q '^VM-END'; then
  cat "$work/tap"
  echo "not ok - the VM ($MODE) did not finish (qemu exit $rc); console tail:"
  tr -d '\r' <"$log" | tail -30 | sed 's/^/# /'
  exit 1
fi
cat "$work/tap"
grep -q '^ok ' "$work/tap" || { echo "not ok - the VM ran no test; console tail:"; tail -20 "$log" | sed 's/^/# /'; exit 1; }
! grep -q '^not ok' "$work/tap"
