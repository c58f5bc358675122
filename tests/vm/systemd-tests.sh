#!/bin/sh
# Runs inside the systemd VM (tests/systemd-vm.sh) as ocirt-vm-test.service, after
# multi-user.target, from /opt/ocirt-vm (oci-rt, bundle/, vm.env: MODE=v2|v1|hybrid).
# Prints TAP lines: "ok N - name" or "not ok N - name" followed by "# why" lines.
# For now: the environment the systemd cgroup driver will be tested in, proven piece by piece.
cd /opt/ocirt-vm || exit 1
R="./oci-rt --root /run/oci-rt${OCIRT_DEBUG:+ --debug}"
MODE=${MODE:-v2}
LIMIT=${LIMIT:-120}
N=0
CG=/sys/fs/cgroup

ok() { N=$((N + 1)); echo "ok $N - $1"; }
notok() { N=$((N + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check NAME FUNCTION: ok if the function succeeds within $LIMIT seconds; its output as "# " lines if not
check() {
  name=$1; shift
  t0=$(cut -d' ' -f1 /proc/uptime)
  out=$(OCIRT_TESTS_LIB=1 timeout -k 5 "$LIMIT" sh -c '. ./systemd-tests.sh; "$@"' check "$@" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then ok "$name"; else
    [ $rc -eq 124 ] && out="$out
timed out after ${LIMIT}s"
    notok "$name" "$(echo "$out" | tail -8 | tr '\n' '|')"
  fi
  echo "# $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN {printf "%.1f", b - a}')s"
}
eq() { [ "$1" = "$2" ] || { echo "expected [$2], got [$1] ($3)"; return 1; }; }
has() { case "$1" in *"$2"*) return 0 ;; esac; echo "[$1] lacks [$2]"; return 1; }
fstype() { stat -f -c %T "$1"; }

t_pid1() {
  eq "$(readlink /proc/1/exe)" /usr/lib/systemd/systemd "PID 1's executable" &&
  eq "$(cat /proc/1/comm)" systemd "PID 1's name" || return 1
  [ -d /run/systemd/system ] || { echo "no /run/systemd/system"; return 1; }
}

t_running() {
  s=$(systemctl is-system-running --wait)
  case $s in
    running) ;;
    degraded) echo "failed units: $(systemctl --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')" ;;
    *) echo "state [$s]"; systemctl list-jobs --no-pager; return 1 ;;
  esac
  echo "$s"
}

t_cgroup_layout() {
  case $MODE in
    v2)
      eq "$(fstype $CG)" cgroup2fs "$CG" || return 1
      if grep ' cgroup ' /proc/mounts; then echo "a v1 hierarchy is mounted"; return 1; fi
      has "$(cat $CG/cgroup.subtree_control)" memory &&
      eq "$(cat /proc/self/cgroup)" "0::/system.slice/ocirt-vm-test.service" "/proc/self/cgroup"
      ;;
    v1 | hybrid)
      eq "$(fstype $CG)" tmpfs "$CG" &&
      eq "$(fstype $CG/systemd)" cgroupfs "$CG/systemd" &&
      grep -q "^cgroup $CG/systemd cgroup .*name=systemd" /proc/mounts &&
      for c in memory pids cpu,cpuacct cpuset devices freezer blkio; do
        eq "$(fstype $CG/$c)" cgroupfs "$CG/$c" || return 1
      done &&
      grep -q ':name=systemd:/system.slice/ocirt-vm-test.service$' /proc/self/cgroup &&
      grep -q ':memory:/system.slice/ocirt-vm-test.service$' /proc/self/cgroup || { cat /proc/self/cgroup; return 1; }
      # v1 hierarchies only in $CG (no cgroup2 there, and none elsewhere in legacy mode)
      if [ "$MODE" = v1 ]; then
        [ ! -e $CG/unified ] || { echo "$CG/unified exists in legacy mode"; return 1; }
        ! grep -q '^0::' /proc/self/cgroup || { echo "a v2 line in /proc/self/cgroup"; return 1; }
      else
        eq "$(fstype $CG/unified)" cgroup2fs "$CG/unified" &&
        grep -q '^0::/system.slice/ocirt-vm-test.service$' /proc/self/cgroup
      fi
      ;;
  esac
}

t_scope() {
  out=$(systemd-run --quiet --scope --unit=vmtest-scope -p TasksMax=77 sh -c 'cat /proc/self/cgroup; systemctl show -p TasksMax,ActiveState vmtest-scope.scope') || return 1
  has "$out" "/system.slice/vmtest-scope.scope" &&
  has "$out" "TasksMax=77" && has "$out" "ActiveState=active" || return 1
  case $MODE in
    v2) has "$out" "0::/system.slice/vmtest-scope.scope" ;;
    *) has "$out" ":name=systemd:/system.slice/vmtest-scope.scope" && has "$out" ":pids:/system.slice/vmtest-scope.scope" ;;
  esac
}

t_dbus() {
  eq "$(systemctl is-active dbus.service)" active dbus.service || return 1
  [ -S /run/dbus/system_bus_socket ] || { echo "no system bus socket"; return 1; }
  # the manager over the system bus (as a client like oci-rt's driver will talk to it)
  v=$(busctl --system call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.DBus.Properties Get ss org.freedesktop.systemd1.Manager Version) || return 1
  has "$v" '"252' || return 1
  # and the private socket runc uses as root
  [ -S /run/systemd/private ] || { echo "no /run/systemd/private"; return 1; }
  busctl --system list --no-legend | grep -q '^org.freedesktop.systemd1 ' || { echo "systemd1 not on the bus"; return 1; }
}

t_ocirt_run() {
  out=$($R run --bundle bundle vmtest-run) || { echo "$out"; return 1; }
  has "$out" "hello-from-busybox" || return 1
  cg=$(echo "$out" | grep -v hello-from-busybox)
  case $MODE in
    v2) eq "$(echo "$cg" | wc -l)" 1 "one cgroup line" && has "$cg" "0::/" ;;
    *) has "$cg" ":memory:/" && has "$cg" ":name=systemd:/" && has "$cg" ":pids:/" ;;
  esac || { echo "$cg"; return 1; }
  # the container ran in its own cgroup (not the service's), which is gone after the run
  case $MODE in
    v2) p=${cg#0::}; d=$CG$p ;;
    *) p=$(echo "$cg" | sed -n 's/^[0-9]*:memory://p'); d=$CG/memory$p ;;
  esac
  case $p in /system.slice/ocirt-vm-test.service | "" | /) echo "not a cgroup of its own: [$p]"; return 1 ;; esac
  [ ! -e "$d" ] || { echo "$d left behind"; return 1; }
  [ -z "$($R list -q 2>/dev/null)" ] || { echo "still listed: $($R list)"; return 1; }
}

t_ocirt_detached() {
  # a detached container: its cgroup in the mode's hierarchies, removed by delete
  jq '.process.args = ["sleep", "300"] | .linux.cgroupsPath = "/vmtest/ctr" | .linux.resources = {"pids": {"limit": 42}, "memory": {"limit": 67108864}}' \
    bundle/config.json > bundle2.json && mkdir -p bundle2 && mv bundle2.json bundle2/config.json && ln -sfn ../bundle/rootfs bundle2/rootfs
  $R run -d --bundle bundle2 vmtest-d || return 1
  pid=$($R state vmtest-d | jq -r .pid)
  case $MODE in
    v2) d=$CG/vmtest/ctr; eq "$(cat $d/pids.max)" 42 pids.max && eq "$(cat $d/memory.max)" 67108864 memory.max ;;
    *) d=$CG/pids/vmtest/ctr; eq "$(cat $d/pids.max)" 42 pids.max &&
       eq "$(cat $CG/memory/vmtest/ctr/memory.limit_in_bytes)" 67108864 memory.limit_in_bytes ;;
  esac || r=1
  grep -qx "$pid" "$d/cgroup.procs" 2>/dev/null || { echo "pid $pid not in $d"; r=1; }
  $R delete --force vmtest-d || return 1
  [ ! -e "$d" ] || { echo "$d left behind"; return 1; }
  return ${r:-0}
}

t_clients() {
  for b in podman containerd containerd-shim-runc-v2 ctr runc crun conmon catatonit netavark; do
    command -v $b >/dev/null || [ -x /usr/lib/podman/$b ] || [ -x /usr/libexec/podman/$b ] || { echo "no $b"; return 1; }
  done
  has "$(podman --version)" "podman version 4." &&
  has "$(containerd --version)" "containerd" &&
  has "$(runc --version)" "runc version" && has "$(crun --version)" "crun version"
}

[ -n "${OCIRT_TESTS_LIB:-}" ] && return 0

echo "# mode $MODE, kernel $(uname -r), $(systemctl --version | head -1)"
jq '.process.args = ["sh", "-c", "echo hello-from-busybox; cat /proc/self/cgroup"]' bundle/config.json > bundle/c.json &&
  mv bundle/c.json bundle/config.json
check "systemd is PID 1" t_pid1
check "systemctl is-system-running reaches running or degraded" t_running
check "cgroup layout is $MODE" t_cgroup_layout
check "systemd-run --scope makes a transient scope with properties" t_scope
check "dbus is up: the manager answers on the system bus" t_dbus
check "oci-rt run (cgroupfs driver) runs a busybox container" t_ocirt_run
check "oci-rt run -d: resources in the $MODE cgroups, removed by delete" t_ocirt_detached
check "podman, containerd, runc, crun, conmon are installed" t_clients
echo "1..$N"
echo "# system: $(systemctl is-system-running); failed units: $(systemctl --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"
systemd-analyze time 2>&1 | head -1 | sed 's/^/# /'
systemd-analyze blame 2>/dev/null | head -8 | sed 's/^ */# blame: /'
