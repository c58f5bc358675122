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
    notok "$name" "$(echo "$out" | tail -20 | tr '\n' '|')"
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

# --- the systemd cgroup driver (--systemd-cgroup) ---------------------------------------------

# sdbundle NAME CGROUPSPATH [JQ-EXPR]: a bundle whose process sleeps, with a cgroup namespace
# (its stdio not the test's: a detached container must not hold the output a test is read from)
sdbundle() {
  mkdir -p "$1" && ln -sfn ../bundle/rootfs "$1/rootfs" &&
  jq --arg p "$2" '.process.args = ["sh", "-c", "exec sleep 300 </dev/null >/dev/null 2>&1"] | .linux.cgroupsPath = $p
    | .linux.namespaces += [{"type": "cgroup"}] | '"${3:-.}" bundle/config.json > "$1/config.json"
}
# unit_gone UNIT: systemd knows no such unit (or only an inactive, dead one)
unit_gone() {
  st=$(systemctl show -p LoadState,ActiveState "$1" 2>&1)
  case $st in *"ActiveState=active"* | *"ActiveState=activating"* | *"ActiveState=failed"*) echo "$1: $st"; return 1 ;; esac
}
# the container's cgroup dir for a controller (v2: the one hierarchy)
sddir() {
  case $MODE in v2) echo "$CG$1" ;; *) echo "$CG/$2$1" ;; esac
}

t_sd_limits() {
  unified='.'; [ "$MODE" = v2 ] && unified='.linux.resources.unified = {"memory.high": "50331648"}'
  sdbundle sd1 system.slice:oci-rt:sdt1 '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 33},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}} | '"$unified" || return 1
  $R --systemd-cgroup run -d --bundle sd1 sdt1 || return 1
  eq "$(systemctl is-active oci-rt-sdt1.scope)" active "oci-rt-sdt1.scope" || return 1
  systemctl status oci-rt-sdt1.scope --no-pager >/dev/null || { echo "systemctl status failed"; return 1; }
  show=$(systemctl show oci-rt-sdt1.scope -p MemoryMax,MemoryLimit,TasksMax,CPUWeight,CPUShares,AllowedCPUs,CPUQuotaPerSecUSec,Delegate,Slice)
  has "$show" "TasksMax=33" && has "$show" "CPUQuotaPerSecUSec=500ms" && has "$show" "Delegate=yes" &&
    has "$show" "Slice=system.slice" || { echo "$show" | tr '\n' ' '; return 1; }
  pid=$($R state sdt1 | jq -r .pid)
  # the device rules as systemd's too (strict: runc's default allows named), still usable inside
  dev=$(systemctl show -p DevicePolicy,DeviceAllow oci-rt-sdt1.scope | tr '\n' ' ')
  has "$dev" "DevicePolicy=strict" && has "$dev" "/dev/char/1:3 rwm" && has "$dev" "char-pts rwm" || return 1
  eq "$($R exec sdt1 sh -c 'echo x > /dev/null && head -c 3 /dev/zero | wc -c')" 3 "/dev/null and /dev/zero inside" || return 1
  case $MODE in
    v2)
      has "$show" "MemoryMax=67108864" && has "$show" "CPUWeight=20" && has "$show" "AllowedCPUs=0" || { echo "$show" | tr '\n' ' '; return 1; }
      has "$(systemctl show -p MemoryHigh oci-rt-sdt1.scope)" "MemoryHigh=50331648" || return 1
      d=$CG/system.slice/oci-rt-sdt1.scope
      eq "$(cat $d/memory.max)" 67108864 memory.max && eq "$(cat $d/pids.max)" 33 pids.max &&
      eq "$(cat $d/cpu.max)" "50000 100000" cpu.max && eq "$(cat $d/cpu.weight)" 20 cpu.weight &&
      eq "$(cat $d/cpuset.cpus)" 0 cpuset.cpus && eq "$(cat $d/memory.high)" 50331648 memory.high || return 1
      grep -qx "$pid" $d/cgroup.procs || { echo "init $pid not in $d"; return 1; }
      eq "$($R exec sdt1 cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max | tr '\n' ' ')" "67108864 33 " "seen inside"
      ;;
    *)
      has "$show" "MemoryLimit=67108864" && has "$show" "CPUShares=512" || { echo "$show" | tr '\n' ' '; return 1; }
      eq "$(cat $CG/memory/system.slice/oci-rt-sdt1.scope/memory.limit_in_bytes)" 67108864 memory.limit_in_bytes &&
      eq "$(cat $CG/pids/system.slice/oci-rt-sdt1.scope/pids.max)" 33 pids.max &&
      eq "$(cat $CG/cpu,cpuacct/system.slice/oci-rt-sdt1.scope/cpu.shares)" 512 cpu.shares &&
      eq "$(cat $CG/cpu,cpuacct/system.slice/oci-rt-sdt1.scope/cpu.cfs_quota_us)" 50000 cpu.cfs_quota_us || return 1
      # the hierarchies systemd does not manage: joined by path
      grep -qx "$pid" $CG/freezer/system.slice/oci-rt-sdt1.scope/cgroup.procs || { echo "init not in the freezer"; return 1; }
      grep -qx "$pid" $CG/systemd/system.slice/oci-rt-sdt1.scope/cgroup.procs || { echo "init not in name=systemd"; return 1; }
      eq "$($R exec sdt1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max | tr '\n' ' ')" "67108864 33 " "seen inside"
      ;;
  esac
}

t_sd_update_pause() {
  $R update --memory 134217728 sdt1 || return 1
  case $MODE in
    v2) has "$(systemctl show -p MemoryMax oci-rt-sdt1.scope)" "MemoryMax=134217728" &&
        eq "$(cat $CG/system.slice/oci-rt-sdt1.scope/memory.max)" 134217728 memory.max || return 1 ;;
    *) has "$(systemctl show -p MemoryLimit oci-rt-sdt1.scope)" "MemoryLimit=134217728" &&
       eq "$(cat $CG/memory/system.slice/oci-rt-sdt1.scope/memory.limit_in_bytes)" 134217728 limit || return 1 ;;
  esac
  $R pause sdt1 && eq "$($R state sdt1 | jq -r .status)" paused status || return 1
  $R resume sdt1 && eq "$($R state sdt1 | jq -r .status)" running status || return 1
  pid=$($R state sdt1 | jq -r .pid)
  $R ps --format json sdt1 | jq -e --argjson p "$pid" 'index($p) != null' >/dev/null || { echo "ps lacks $pid"; return 1; }
  $R exec -d sdt1 sh -c 'exec sleep 301 </dev/null >/dev/null 2>&1' || return 1
  eq "$($R ps --format json sdt1 | jq length)" 2 "processes before kill --all" || return 1
  $R kill --all sdt1 KILL || return 1
  for i in $(seq 50); do [ "$($R state sdt1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
  eq "$($R state sdt1 | jq -r .status)" stopped "status after kill --all"
}

t_sd_delete() {
  $R delete sdt1 || return 1
  unit_gone oci-rt-sdt1.scope || return 1
  for c in memory pids; do d=$(sddir /system.slice/oci-rt-sdt1.scope $c); [ ! -e "$d" ] || { echo "$d left"; return 1; }; done
  [ "$MODE" = v2 ] || [ ! -e $CG/freezer/system.slice/oci-rt-sdt1.scope ] || { echo "freezer dir left"; return 1; }
}

t_sd_slice() {
  sdbundle sd2 vmtest.slice:oci-rt:sdt2 && sdbundle sd3 vmtest.slice:oci-rt:sdt3 || return 1
  $R --systemd-cgroup run -d --bundle sd2 sdt2 && $R --systemd-cgroup run -d --bundle sd3 sdt3 || return 1
  d2=$(sddir /vmtest.slice/oci-rt-sdt2.scope pids); d3=$(sddir /vmtest.slice/oci-rt-sdt3.scope pids)
  grep -qx "$($R state sdt2 | jq -r .pid)" $d2/cgroup.procs || { echo "sdt2 not in $d2"; return 1; }
  has "$(systemctl show -p Slice oci-rt-sdt3.scope)" "Slice=vmtest.slice" || return 1
  $R delete --force sdt2 || return 1
  unit_gone oci-rt-sdt2.scope && [ ! -e "$d2" ] || { echo "sdt2 left"; return 1; }
  eq "$(systemctl is-active oci-rt-sdt3.scope)" active "the neighbour's unit" &&
  eq "$($R state sdt3 | jq -r .status)" running "the neighbour" &&
  grep -qx "$($R state sdt3 | jq -r .pid)" $d3/cgroup.procs || return 1
  $R delete --force sdt3 && unit_gone oci-rt-sdt3.scope
}

t_sd_killed_create() {
  # create is killed (-9) while its createRuntime hook runs, the unit made: delete --force
  # leaves no unit, no cgroup, no state
  rm -f /tmp/sdhook.pid
  sdbundle sd4 system.slice:oci-rt:sdt4 '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "echo $$ > /tmp/sdhook.pid; exec sleep 100"]}]' || return 1
  $R --systemd-cgroup create --bundle sd4 sdt4 </dev/null >/tmp/sdt4.out 2>&1 &
  cpid=$!
  for i in $(seq 300); do [ -s /tmp/sdhook.pid ] && break; sleep 0.1; done
  [ -s /tmp/sdhook.pid ] || { kill -9 $cpid; echo "the hook never ran: $(cat /tmp/sdt4.out)"; return 1; }
  eq "$(systemctl is-active oci-rt-sdt4.scope)" active "the unit during create" || { kill -9 $cpid; return 1; }
  kill -9 $cpid; wait $cpid 2>/dev/null
  kill -9 "$(cat /tmp/sdhook.pid)" 2>/dev/null
  $R delete --force sdt4 || { echo "at $(cut -d' ' -f1 /proc/uptime)"; systemctl list-jobs --no-pager; journalctl -n 12 --no-pager -o short-monotonic; return 1; }
  unit_gone oci-rt-sdt4.scope || return 1
  [ ! -e "$(sddir /system.slice/oci-rt-sdt4.scope pids)" ] || { echo "cgroup left"; return 1; }
  [ ! -e /run/oci-rt/sdt4 ] || { echo "state left"; return 1; }
  # and the id is free again
  $R --systemd-cgroup run -d --bundle sd1 sdt4b && $R delete --force sdt4b
}

t_sd_errors() {
  # a unit of that name already: refused naming it, nothing of ours left, theirs untouched
  systemd-run --quiet --unit=oci-rt-clash --scope sleep 300 &
  spid=$!
  for i in $(seq 50); do [ "$(systemctl is-active oci-rt-clash.scope)" = active ] && break; sleep 0.1; done
  sdbundle sd5 system.slice:oci-rt:clash || return 1
  out=$($R --systemd-cgroup run -d --bundle sd5 sdt5 2>&1) && { echo "accepted: $out"; kill $spid; return 1; }
  has "$out" "oci-rt-clash.scope already exists" || { kill $spid; return 1; }
  [ ! -e /run/oci-rt/sdt5 ] || { echo "state left"; kill $spid; return 1; }
  eq "$(systemctl is-active oci-rt-clash.scope)" active "their unit" || { kill $spid; return 1; }
  kill $spid; wait $spid 2>/dev/null
  # a path not in slice:prefix:name: the field is named
  sdbundle sd6 /not/systemd || return 1
  out=$($R --systemd-cgroup run -d --bundle sd6 sdt6 2>&1) && { echo "accepted: $out"; return 1; }
  has "$out" "linux.cgroupsPath" && has "$out" "slice:prefix:name"
}

# --- the clients with their systemd cgroup managers, oci-rt beside runc ----------------------
RUNC=$(command -v runc)
IMGTAR=/tmp/clients/image.tar
img=localhost/ocirt-bb:latest

# podman: cgroup_manager = "systemd" (machine.slice:libpod:<id>, conmon in its own scope)
t_podman_systemd() {
  mkdir -p /tmp/clients/podman && cd /tmp/clients/podman || return 1
  printf '%s\n' '[containers]' 'netns = "none"' 'log_driver = "k8s-file"' '[engine]' 'cgroup_manager = "systemd"' \
    'events_logger = "file"' 'runtime_supports_json = ["runc", "ocirt"]' '[engine.runtimes]' \
    'ocirt = ["/opt/ocirt-vm/oci-rt"]' "runc = [\"$RUNC\"]" > containers.conf
  printf '%s\n' '[storage]' 'driver = "vfs"' 'runroot = "/run/clients-podman"' 'graphroot = "/tmp/clients/podman/storage"' > storage.conf
  export CONTAINERS_CONF=$PWD/containers.conf CONTAINERS_STORAGE_CONF=$PWD/storage.conf
  tar -C /opt/ocirt-vm/bundle/rootfs -cf rootfs.tar . && podman import rootfs.tar $img >/dev/null || return 1
  podman save --format oci-archive -o $IMGTAR $img >/dev/null 2>&1 || return 1
  for rt in ocirt runc; do
    echo "runtime $rt"
    out=$(podman --runtime $rt run --rm --memory 64m --pids-limit 33 $img sh -c \
      'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max') || { echo "$out"; return 1; }
    eq "$(echo $out)" "67108864 33" "limits seen inside ($rt)" || return 1
    id=$(podman --runtime $rt run -d $img sh -c 'exec sleep 300 </dev/null >/dev/null 2>&1') || return 1
    eq "$(systemctl is-active libpod-$id.scope)" active "libpod-$id.scope ($rt)" || return 1
    eq "$(podman exec $id sh -c 'echo in')" in "exec ($rt)" || return 1
    podman stop -t 1 $id >/dev/null && podman rm $id >/dev/null || return 1
    unit_gone libpod-$id.scope || return 1
  done
  podman rmi -a -f >/dev/null 2>&1
}

# containerd: ctr run --runc-systemd-cgroup (slice:prefix:name), private root, state and socket
t_containerd_systemd() {
  mkdir -p /tmp/clients/ctd /run/clients-ctd && cd /tmp/clients/ctd || return 1
  printf '%s\n' 'version = 2' 'root = "/tmp/clients/ctd/root"' 'state = "/run/clients-ctd/state"' \
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]' '[grpc]' '  address = "/run/clients-ctd/ctd.sock"' > config.toml
  containerd --config config.toml >ctd.log 2>&1 &
  cpid=$!
  for i in $(seq 100); do [ -S /run/clients-ctd/ctd.sock ] && break; sleep 0.1; done
  c() { ctr --address /run/clients-ctd/ctd.sock -n vmtest "$@"; }
  r=0
  c images import --base-name localhost/ocirt-bb $IMGTAR >/dev/null || r=1
  for rt in ocirt runc; do
    [ $r = 0 ] || break
    echo "runtime $rt"
    bin=$RUNC; [ $rt = ocirt ] && bin=/opt/ocirt-vm/oci-rt
    c run -d --runc-binary $bin --runc-systemd-cgroup --cgroup "system.slice:ctd-$rt:b" --memory-limit 67108864 \
      $img b-$rt sh -c 'exec sleep 300 </dev/null >/dev/null 2>&1' >/dev/null || { r=1; break; }
    eq "$(systemctl is-active ctd-$rt-b.scope)" active "ctd-$rt-b.scope" || { r=1; break; }
    case $MODE in v2) f=$CG/system.slice/ctd-$rt-b.scope/memory.max ;; *) f=$CG/memory/system.slice/ctd-$rt-b.scope/memory.limit_in_bytes ;; esac
    eq "$(cat $f)" 67108864 "$f" || { r=1; break; }
    eq "$(c task exec --exec-id e1 b-$rt sh -c 'echo in')" in "task exec ($rt)" || { r=1; break; }
    c task kill -s KILL b-$rt && sleep 0.5 && c task rm -f b-$rt >/dev/null && c containers rm b-$rt || { r=1; break; }
    unit_gone ctd-$rt-b.scope || { r=1; break; }
    out=$(c run --rm --runc-binary $bin --runc-systemd-cgroup --cgroup "system.slice:ctd-$rt:a" $img a-$rt echo ran) || { echo "$out"; r=1; break; }
    eq "$out" ran "ctr run --rm ($rt)" && unit_gone ctd-$rt-a.scope || { r=1; break; }
  done
  for t in $(c task ls -q 2>/dev/null); do c task rm -f $t >/dev/null 2>&1; done
  for t in $(c containers ls -q 2>/dev/null); do c containers rm $t >/dev/null 2>&1; done
  kill $cpid; wait $cpid 2>/dev/null
  [ $r = 0 ] || tail -5 ctd.log
  return $r
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
check "--systemd-cgroup: oci-rt-ID.scope with the limits as properties, in the files and inside" t_sd_limits
check "--systemd-cgroup: update sets the property and the file; pause, resume, ps, kill --all" t_sd_update_pause
check "--systemd-cgroup: delete removes the unit and the cgroup" t_sd_delete
check "--systemd-cgroup: a slice path; two containers in one slice, one deleted, the other unaffected" t_sd_slice
check "--systemd-cgroup: create killed -9 after the unit is made: delete --force leaves nothing" t_sd_killed_create
check "--systemd-cgroup: a unit that exists and a path not slice:prefix:name are refused by name" t_sd_errors
check "podman with cgroup_manager = systemd: limits, libpod scope, exec, stop (oci-rt, then runc)" t_podman_systemd
check "containerd with --runc-systemd-cgroup: the unit, its limit, task exec, kill, rm, run --rm (oci-rt, then runc)" t_containerd_systemd
echo "1..$N"
echo "# system: $(systemctl is-system-running); failed units: $(systemctl --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"
systemd-analyze time 2>&1 | head -1 | sed 's/^/# /'
systemd-analyze blame 2>/dev/null | head -8 | sed 's/^ */# blame: /'
