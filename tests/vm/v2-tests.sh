#!/bin/sh
# Runs inside the pure cgroup v2 VM (tests/cgroupv2-vm.sh), as root under busybox sh.
# Prints TAP lines: "ok N - name" or "not ok N - name" followed by "# why" lines.
R="oci-rt --root /run/oci-rt${OCIRT_DEBUG:+ --debug}"
N=0
FAILED=0
CG=/sys/fs/cgroup

ok() { N=$((N + 1)); echo "ok $N - $1"; }
notok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check NAME COMMAND...: run the command (a shell function), ok if it succeeds
# (each killed, with every process it started, after $LIMIT seconds)
LIMIT=${LIMIT:-180}
killtree() {  # killtree PID: the process and its descendants, by pid
  for c in $(awk -v p="$1" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null); do killtree "$c"; done
  kill -9 "$1" 2>/dev/null
}
check() {
  name=$1; shift
  ("$@") > /tmp/check.out 2>&1 &
  p=$!
  (sleep $LIMIT; killtree $p; echo "timed out after ${LIMIT}s" >> /tmp/check.out) &
  w=$!
  wait $p
  rc=$?
  kill $w 2>/dev/null
  out=$(cat /tmp/check.out)
  if [ $rc -eq 0 ]; then ok "$name"; else notok "$name" "$(echo "$out" | tail -5 | tr '\n' '|')"; fi
  $R delete --force t >/dev/null 2>&1
  $R delete --force t2 >/dev/null 2>&1
}
eq() { [ "$1" = "$2" ] || { echo "expected [$2], got [$1] ($3)"; return 1; }; }
has() { case "$1" in *"$2"*) return 0 ;; esac; echo "[$1] lacks [$2]"; return 1; }
pid_of() { $R state "$1" | grep '"pid"' | tr -dc 0-9; }
status_of() { $R state "$1" | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
cputime() { awk '{print $14 + $15}' "/proc/$1/stat"; }

before=$(find $CG -type d | sort)

t_layout() {
  grep -q "^cgroup2 $CG cgroup2 " /proc/mounts && has "$(cat $CG/cgroup.controllers)" memory &&
    ! grep -q ' cgroup ' /proc/mounts
}

t_resources() {
  $R create --bundle /bundles/resources t || return 1
  d=$CG/t
  eq "$(cat $d/memory.max)" 67108864 memory.max &&
  eq "$(cat $d/memory.low)" 33554432 memory.low &&
  eq "$(cat $d/memory.swap.max)" 67108864 "memory.swap.max = swap - limit" &&
  eq "$(cat $d/memory.high)" 61440000 "unified memory.high" &&
  eq "$(cat $d/cpu.weight)" 20 "cpu.weight from shares 512" &&
  eq "$(cat $d/cpu.max)" "50000 100000" cpu.max &&
  eq "$(cat $d/cpu.max.burst)" 1000 cpu.max.burst &&
  eq "$(cat $d/cpuset.cpus)" 0 cpuset.cpus &&
  eq "$(cat $d/cpuset.mems)" 0 cpuset.mems &&
  eq "$(cat $d/pids.max)" 33 pids.max &&
  { [ ! -e $d/hugetlb.2MB.max ] || eq "$(cat $d/hugetlb.2MB.max)" 4194304 hugetlb.2MB.max; } &&
  { [ ! -e $d/io.weight ] || has "$(cat $d/io.weight)" "default"; } &&
  grep -qx "$(pid_of t)" $d/cgroup.procs
}

t_inside() {
  out=$($R run --bundle /bundles/inside t 2>/dev/null)
  set -- $out
  eq "$1" 50331648 "memory.max inside" && eq "$2" 21 "pids.max inside" && eq "$3" "0::/" "own cgroup inside"
}

t_pids() {
  out=$($R run --bundle /bundles/pids t 2>&1)
  has "$out" "can't fork" && ! has "$out" spawned >/dev/null
}

t_oom() {
  $R run -d --bundle /bundles/oom t || return 1
  ev=$(timeout 30 $R events --interval 60s t)
  has "$ev" '"type":"oom"' && has "$ev" '"type":"stats"' && eq "$(status_of t)" stopped status
}

t_pause() {
  $R run -d --bundle /bundles/busy t || return 1
  p=$(pid_of t)
  t0=$(cputime $p); i=0
  while [ "$(cputime $p)" -le "$t0" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  $R pause t || return 1
  eq "$(status_of t)" paused status || return 1
  eq "$(cat $CG/t/cgroup.freeze)" 1 cgroup.freeze || return 1
  a=$(cputime $p); sleep 0.5; b=$(cputime $p)
  eq "$a" "$b" "no progress while paused" || return 1
  $R exec t true 2>/dev/null && { echo "exec in a paused container worked"; return 1; }
  $R resume t || return 1
  eq "$(status_of t)" running status || return 1
  i=0
  while [ "$(cputime $p)" -le "$b" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  [ "$(cputime $p)" -gt "$b" ] || { echo "no progress after resume"; return 1; }
}

t_update() {
  $R run -d --bundle /bundles/tree t || return 1
  $R update --memory=128m --memory-swap=256m --pids-limit=40 --cpu-quota=20000 --cpu-period=100000 --cpu-share=1024 t || return 1
  eq "$(cat $CG/t/memory.max)" 134217728 memory.max &&
  eq "$(cat $CG/t/memory.swap.max)" 134217728 memory.swap.max &&
  eq "$(cat $CG/t/pids.max)" 40 pids.max &&
  eq "$(cat $CG/t/cpu.max)" "20000 100000" cpu.max &&
  eq "$(cat $CG/t/cpu.weight)" 39 "cpu.weight from shares 1024" &&
  echo '{"memory": {"limit": 33554432}, "pids": {"limit": 7}}' | $R update -r - t &&
  eq "$(cat $CG/t/memory.max)" 33554432 "memory.max (resources)" &&
  eq "$($R exec t cat /sys/fs/cgroup/pids.max)" 7 "pids.max seen by exec"
}

t_exec_cgroup() {
  $R run -d --bundle /bundles/sleep t || return 1
  eq "$($R exec t cat /proc/self/cgroup)" "0::/" "exec's cgroup (namespaced)" &&
  $R exec -d t sleep 50 && [ "$(wc -l < $CG/t/cgroup.procs)" -eq 2 ]
}

t_ps_killall() {
  $R run -d --bundle /bundles/tree t || return 1
  i=0; while [ "$(wc -l < $CG/t/cgroup.procs)" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  j=$($R ps --format json t)
  want="[$(sort -n $CG/t/cgroup.procs | tr '\n' ',' | sed 's/,$//')]"
  got="[$(echo "$j" | tr -d '[]' | tr ',' '\n' | sort -n | tr '\n' ',' | sed 's/,$//')]"
  eq "$got" "$want" "ps json = cgroup.procs" || return 1
  eq "$($R ps t | wc -l)" 4 "ps table rows (header + 3)" || return 1
  $R ps t | grep -q "sleep 101" || return 1
  $R kill --all t KILL || return 1
  i=0; while [ -s $CG/t/cgroup.procs ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  [ ! -s $CG/t/cgroup.procs ] || { echo "processes left: $(cat $CG/t/cgroup.procs)"; return 1; }
}

t_stats() {
  $R run -d --bundle /bundles/tree t || return 1
  sleep 0.3
  s=$($R events --stats t)
  has "$s" '"type":"stats","id":"t","data":{' && has "$s" '"limit":67108864' && has "$s" '"pids":{"current":3,"limit":50}' &&
    has "$s" '"cpu":{"usage":{"total":'
}

t_devices() {
  # no rule of the config's: runc's defaults allow mknod of any device, but not opening it
  out=$($R run --bundle /bundles/nodev t 2>&1)
  has "$out" made || { echo "mknod refused without a rule (runc's default allows it): $out"; return 1; }
  ! has "$out" opened >/dev/null || { echo "opened without a rule: $out"; return 1; }
  has "$out" null-ok || return 1
  out=$($R run --bundle /bundles/withdev t 2>&1)
  has "$out" made && has "$out" opened || return 1
  out=$($R run --bundle /bundles/mknodonly t 2>&1)
  has "$out" made && ! has "$out" opened >/dev/null || { echo "opened with access m only: $out"; return 1; }
}

t_paths() {
  $R create --bundle /bundles/nested t || return 1
  [ -d $CG/vmtest-a/b/nested ] && grep -qx "$(pid_of t)" $CG/vmtest-a/b/nested/cgroup.procs &&
    has "$(cat $CG/vmtest-a/cgroup.subtree_control)" memory || return 1
  $R delete --force t
  [ ! -e $CG/vmtest-a ] || { echo "vmtest-a left"; return 1; }
  $R create --bundle /bundles/relative t2 || return 1
  [ -d $CG/vmtest-rel ] || { echo "relative path not below the parent of our cgroup (/): $(find $CG -name vmtest-rel)"; return 1; }
}

t_errors() {
  out=$($R run --bundle /bundles/rt t 2>&1) && { echo "realtime accepted on v2"; return 1; }
  has "$out" "linux.resources.cpu.realtimeRuntime" || return 1
  out=$($R run --bundle /bundles/v1only t 2>&1) || { echo "swappiness should only warn: $out"; return 1; }
  has "$out" "swappiness"
}

# Rootless with a delegated subtree, as runc's tests/rootless.sh makes one: a dir owned by the
# user (with its cgroup.procs, cgroup.subtree_control, cgroup.threads), the user's shell in a
# child of it. Without a cgroupsPath the container goes next to the shell (runc's default: the
# parent of our own cgroup), and its memory and pids limits are applied.
as_rl() { sh -c "echo \$\$ > $CG/vmtest-rl/shell/cgroup.procs && exec su -s /bin/sh rl -c 'XDG_RUNTIME_DIR=/run/user/1000 oci-rt $*'"; }
t_rootless() {
  d=$CG/vmtest-rl
  for c in $(cat $CG/cgroup.controllers); do echo "+$c" > $CG/cgroup.subtree_control 2>/dev/null; done
  mkdir -p $d/shell /run/user/1000 && chown 1000:1000 /run/user/1000 $d $d/cgroup.procs $d/cgroup.subtree_control \
    $d/cgroup.threads $d/shell $d/shell/cgroup.procs || return 1
  # (the init keeps the caller's stdio: a file, not a $(...) that would wait for it)
  as_rl create --bundle /bundles/rootless rl1 >/tmp/rl.out 2>&1 </dev/null || { echo "create: $(cat /tmp/rl.out)"; return 1; }
  ! grep -q warning /tmp/rl.out || { echo "warned: $(cat /tmp/rl.out)"; return 1; }
  pid=$(as_rl state rl1 | grep '"pid"' | tr -dc 0-9)
  eq "$(cat $d/rl1/memory.max)" 33554432 "memory.max of the delegated leaf" &&
  eq "$(cat $d/rl1/pids.max)" 20 "pids.max" &&
  grep -qx "$pid" $d/rl1/cgroup.procs &&
  eq "$(awk '{print $2}' /proc/$pid/uid_map)" 1000 "uid_map" &&
  as_rl start rl1 && as_rl exec rl1 true &&
  as_rl delete --force rl1 >/dev/null &&
  [ ! -d $d/rl1 ] && [ ! -e /run/user/1000/oci-rt/rl1 ]
}
t_rootless_cleanup() { as_rl delete --force rl1 >/dev/null 2>&1; rmdir $CG/vmtest-rl/shell $CG/vmtest-rl 2>/dev/null; return 0; }

check "v2: /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted" t_layout
check "v2: every resource is written with runc's conversions and reads back" t_resources
check "v2: the container sees its limits through its cgroup namespace" t_inside
check "v2: a process over pids.max cannot fork" t_pids
check "v2: a memory hog is OOM-killed and events reports the OOM" t_oom
check "v2: pause/resume with cgroup.freeze; no progress while paused" t_pause
check "v2: update changes a live container (flags, --resources), exec sees it" t_update
check "v2: exec joins the container's cgroup (CLONE_INTO_CGROUP)" t_exec_cgroup
check "v2: ps lists exactly cgroup.procs; kill --all empties it" t_ps_killall
check "v2: events --stats prints runc's JSON shape with live numbers" t_stats
check "v2: eBPF device filter: no rule, mknod (runc's default) but no open; rwm: open works; m only: no open" t_devices
check "v2: nested absolute and relative cgroupsPath, controllers enabled, removed on delete" t_paths
check "v2: realtime limits are an error naming the field; v1-only knobs warn" t_errors
check "v2: rootless with a delegated subtree: the leaf is made next to the user's cgroup, limits applied, removed" t_rootless
t_rootless_cleanup

after=$(find $CG -type d | sort)
if [ "$before" = "$after" ]; then ok "v2: no cgroup dir of ours is left"; else
  notok "v2: no cgroup dir of ours is left" "$(echo "$after" | grep -vxF "$before" | tr '\n' ' ')"; fi
[ -z "$(ls /run/oci-rt 2>/dev/null)" ] && ok "v2: no state dir left" || notok "v2: no state dir left" "$(ls /run/oci-rt)"
echo "1..$N"
