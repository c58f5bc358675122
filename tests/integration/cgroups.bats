#!/usr/bin/env bats
# linux.resources on this host's cgroup layout (v1/hybrid here; pure v2 runs in the qemu VM of
# tests/cgroupv2-vm.sh), read back from the cgroup files and seen from inside the container;
# pause/resume, update, ps, kill --all, events. Every test ends with no cgroup dir of ours.

load helpers

# cgdir CONTROLLER: the container's dir for a controller (v1 hierarchy, else the v2 one)
cgdir() {
  local c=$1 leaf
  for leaf in $(ocirt_leaves); do
    case $leaf in
      */unified/*) ;;
      /sys/fs/cgroup/$c/*|/sys/fs/cgroup/*,$c/*|/sys/fs/cgroup/$c,*/*) echo "$leaf"; return ;;
    esac
  done
  for leaf in $(ocirt_leaves); do
    case $leaf in */unified/*) echo "$leaf"; return ;; esac
  done
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && ocirt_leaves | head -1
}

ocirt_leaves() {
  jq -r '.cgroupLeaves[]' "$ROOT/$ID/state.json"
}

v1() { [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; }

@test "resources: every v1 setting is written and reads back (memory, cpu, cpuset, pids, blkio, hugetlb, devices)" {
  v1 || skip "cgroup v1/hybrid host only (v2 runs in the VM)"
  args sleep 100
  cfg '.linux.resources = {
    "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728, "kernelTCP": 50003968,
               "swappiness": 10, "disableOOMKiller": false},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000, "cpus": "0", "mems": "0", "idle": 0},
    "pids": {"limit": 33},
    "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 7, "minor": 0, "rate": 300}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
    "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "b", "major": 7, "minor": 0, "access": "r"}]
  }'
  ocirt create --bundle "$BUNDLE" "$ID"
  local m c s p b h d
  m=$(cgdir memory); c=$(cgdir cpu); s=$(cgdir cpuset); p=$(cgdir pids); b=$(cgdir blkio); h=$(cgdir hugetlb); d=$(cgdir devices)
  [ "$(cat "$m/memory.limit_in_bytes")" = 67108864 ]
  [ "$(cat "$m/memory.soft_limit_in_bytes")" = 33554432 ]
  [ "$(cat "$m/memory.memsw.limit_in_bytes")" = 134217728 ]
  [ "$(cat "$m/memory.kmem.tcp.limit_in_bytes")" = 50003968 ]
  [ "$(cat "$m/memory.swappiness")" = 10 ]
  [ "$(cat "$c/cpu.shares")" = 512 ]
  [ "$(cat "$c/cpu.cfs_quota_us")" = 50000 ]
  [ "$(cat "$c/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$c/cpu.cfs_burst_us")" = 1000 ]
  [ "$(cat "$s/cpuset.cpus")" = 0 ]
  [ "$(cat "$s/cpuset.mems")" = 0 ]
  [ "$(cat "$p/pids.max")" = 33 ]
  w=$(cat "$b/blkio.weight" 2>/dev/null || cat "$b/blkio.bfq.weight")
  [[ "$w" == *500* ]]
  grep -qx '7:0 1048576' "$b/blkio.throttle.read_bps_device"
  grep -qx '7:0 300' "$b/blkio.throttle.write_iops_device"
  if [ -e "$h/hugetlb.2MB.max" ]; then [ "$(cat "$h/hugetlb.2MB.max")" = 4194304 ]; else [ "$(cat "$h/hugetlb.2MB.limit_in_bytes")" = 4194304 ]; fi
  grep -qx 'b 7:0 r' "$d/devices.list"
  grep -qx 'c 1:3 rwm' "$d/devices.list"
  run ! grep -q '^a ' "$d/devices.list"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "resources: the container sees its own limits through its cgroup namespace" {
  v1 || skip "v1 file names"
  cfg '.linux.namespaces += [{"type": "cgroup"}] | .linux.resources = {"memory": {"limit": 50331648}, "pids": {"limit": 21}}'
  args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; cat /proc/self/cgroup | grep memory'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 50331648 ]
  [ "${lines[1]}" = 21 ]
  [ "${lines[2]}" = "4:memory:/" ] || [[ "${lines[2]}" == *":memory:/" ]]
  no_leftovers
}

@test "pids.limit: a process over the limit cannot fork" {
  cfg '.linux.resources = {"pids": {"limit": 4}}'
  args sh -c 'for i in 1 2 3 4 5 6; do sleep 30 & done 2>&1; echo spawned; kill $(jobs -p) 2>/dev/null; exit 0'
  run_ctr
  [[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
  [[ "$output" != *spawned* ]]
  # the same without the limit forks them all
  cfg 'del(.linux.resources.pids)'
  run_ctr
  [ "$status" -eq 0 ]
  [ "$output" = spawned ]
  no_leftovers
}

@test "memory: a hog over memory.limit is OOM-killed and events reports the OOM" {
  cfg '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
  v1 || cfg '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
  args sh -c 'read x < /dev/stdin 2>/dev/null; sleep 0.5; x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  timeout 20 "$OCIRT" --root "$ROOT" events --interval 30s "$ID" > "$BATS_TEST_TMPDIR/events"
  grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events"
  head -1 "$BATS_TEST_TMPDIR/events" | jq -e --arg id "$ID" '.type == "stats" and .id == $id'
  [ "$(status_of)" = stopped ]
  ocirt delete "$ID"
  no_leftovers
}

# cputime PID: utime+stime of a process in clock ticks
cputime() { awk '{print $14 + $15}' "/proc/$1/stat"; }

@test "pause/resume: a busy process makes no progress while paused, and continues after resume" {
  args sh -c 'while :; do :; done'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  local pid; pid=$(ocirt state "$ID" | jq .pid)
  local t0; t0=$(cputime "$pid")
  for i in $(seq 200); do [ "$(cputime "$pid")" -gt "$t0" ] && break; sleep 0.05; done
  [ "$(cputime "$pid")" -gt "$t0" ]
  ocirt pause "$ID"
  [ "$(status_of)" = paused ]
  ocirt list | grep -q "$ID.*paused"
  local a b
  a=$(cputime "$pid"); sleep 0.3; b=$(cputime "$pid")
  [ "$a" = "$b" ]
  run ocirt exec "$ID" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"paused"* ]]
  ocirt resume "$ID"
  [ "$(status_of)" = running ]
  for i in $(seq 200); do [ "$(cputime "$pid")" -gt "$b" ] && break; sleep 0.05; done
  [ "$(cputime "$pid")" -gt "$b" ]
  run ocirt resume "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"not paused"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "pause: a paused container can still be deleted with --force" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  ocirt pause "$ID"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "update: changes a live container (flags and --resources), seen inside" {
  v1 || skip "v1 file names"
  cfg '.linux.namespaces += [{"type": "cgroup"}] | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  ocirt update --memory=128m --memory-swap=256m --pids-limit=40 --cpu-quota=20000 --cpu-period=100000 --cpu-share=256 "$ID"
  [ "$(cat "$(cgdir memory)/memory.limit_in_bytes")" = 134217728 ]
  [ "$(cat "$(cgdir memory)/memory.memsw.limit_in_bytes")" = 268435456 ]
  [ "$(cat "$(cgdir pids)/pids.max")" = 40 ]
  [ "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" = 20000 ]
  [ "$(cat "$(cgdir cpu)/cpu.shares")" = 256 ]
  # lowering memory below memsw: the writes are ordered so the kernel accepts them
  echo '{"memory": {"limit": 33554432, "swap": 33554432}, "pids": {"limit": 7}}' > "$BATS_TEST_TMPDIR/r.json"
  ocirt update --resources "$BATS_TEST_TMPDIR/r.json" "$ID"
  [ "$(cat "$(cgdir memory)/memory.limit_in_bytes")" = 33554432 ]
  run ocirt exec "$ID" cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes
  [ "${lines[0]}" = 7 ]
  [ "${lines[1]}" = 33554432 ]
  # stdin, and a bad field names its path
  echo '{"pids": {"limit": 9}}' | ocirt update -r - "$ID"
  [ "$(cat "$(cgdir pids)/pids.max")" = 9 ]
  run ocirt update -r - "$ID" <<<'{"memory": {"limit": "lots"}}'
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.resources.memory.limit"* ]]
  run ocirt update --memory=12x "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"--memory"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "update: checkBeforeUpdate refuses a limit below the current usage" {
  v1 || skip "v1 file names"
  cfg '.linux.resources = {"memory": {"limit": 67108864}}'
  args sh -c 'x=$(head -c 4000000 /dev/zero | tr "\0" a); echo ready; sleep 100'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  for i in $(seq 100); do [ "$(cat "$(cgdir memory)/memory.usage_in_bytes")" -gt 1000000 ] && break; sleep 0.05; done
  run ocirt update -r - "$ID" <<<'{"memory": {"limit": 65536, "checkBeforeUpdate": true}}'
  [ "$status" -ne 0 ]
  [[ "$output" == *"checkBeforeUpdate"* ]]
  [ "$(cat "$(cgdir memory)/memory.limit_in_bytes")" = 67108864 ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "update: a stopped container is refused" {
  args true
  ocirt create --bundle "$BUNDLE" "$ID"
  ocirt start "$ID"
  for i in $(seq 100); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  run ocirt update --pids-limit=5 "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"stopped"* ]]
  run ocirt pause "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"not running"* ]]
  ocirt delete "$ID"
  no_leftovers
}

@test "ps: lists exactly the container's processes (table and json)" {
  args sh -c 'sleep 100 & sleep 101 & echo ready; wait'
  run_bg_until_ready
  run ocirt ps --format json "$ID"
  [ "$status" -eq 0 ]
  local got want
  got=$(echo "$output" | jq -r '.[]' | sort -n | tr '\n' ' ')
  want=$(cat "$(ocirt_leaves | head -1)/cgroup.procs" | sort -n | tr '\n' ' ')
  [ "$got" = "$want" ]
  [ "$(echo "$output" | jq length)" -eq 3 ]
  for p in $(echo "$output" | jq -r '.[]'); do
    [ "$(readlink /proc/$p/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || [ "$p" = "$(ocirt state "$ID" | jq .pid)" ]
  done
  run ocirt ps "$ID"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID* ]]
  [ "${#lines[@]}" -eq 4 ]
  [[ "$output" == *"sleep 100"* && "$output" == *"sleep 101"* ]]
  run ! grep -q bats <<<"$output"
  run ocirt ps "$ID" -o pid,comm
  [ "${#lines[@]}" -eq 4 ]
  [[ "${lines[0]}" == *COMMAND* ]]
  ocirt kill "$ID" KILL
  wait "$BG_PID" || true
  no_leftovers
}

@test "ps: without ps options, ps reads only the container's processes, not every one on the host" {
  command -v strace >/dev/null || skip "needs strace"
  [ "$(ls -d /proc/[0-9]* | wc -l)" -gt 40 ] || skip "too few processes on the host to tell"
  args sh -c 'sleep 100 & echo ready; wait'
  run_bg_until_ready
  strace -f -o "$BATS_TEST_TMPDIR/trace" -e trace=openat "$OCIRT" --root "$ROOT" ps "$ID" > "$BATS_TEST_TMPDIR/out"
  cat "$BATS_TEST_TMPDIR/out"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 3 ]
  head -1 "$BATS_TEST_TMPDIR/out" | grep -q 'UID  *PID  *PPID  *C  *STIME  *TTY  *TIME  *CMD'
  grep -q 'sleep 100' "$BATS_TEST_TMPDIR/out"
  # the rows are those `ps -ef` gives for these pids
  local p
  for p in $(ocirt ps --format json "$ID" | jq -r '.[]'); do
    [ "$(grep -c "^[^ ]*  *$p " "$BATS_TEST_TMPDIR/out")" -eq 1 ]
    [ "$(ps -ef | grep "^[^ ]*  *$p " | awk '{print $1, $2, $3, $7}')" = \
      "$(grep "^[^ ]*  *$p " "$BATS_TEST_TMPDIR/out" | awk '{print $1, $2, $3, $7}')" ]
  done
  # contrib/bench/scale.sh: with 1,000 containers `ps -ef` read over 2,000 processes for each `ps`
  local read
  read=$(grep -o '"/proc/[0-9]*/stat"' "$BATS_TEST_TMPDIR/trace" | sort -u | wc -l)
  [ "$read" -le 5 ] || { echo "ps read $read processes"; false; }
  ocirt kill "$ID" KILL
  wait "$BG_PID" || true
  no_leftovers
}

# Both kill --all tests run detached and without a pid namespace: the init's death then takes
# nothing else down, so only a runtime that signals every process of the cgroup passes them.
@test "kill --all TERM: every process in the cgroup gets the signal, not only the init" {
  local sh=$BATS_TEST_TMPDIR/shared
  mkdir "$sh"
  cfg --arg s "$sh" '.linux.namespaces |= map(select(.type != "pid"))
    | .mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["bind"]}]'
  printf '%s\n' "trap 'echo child TERM >> /shared/got; exit 0' TERM" 'echo $$ > /shared/child.pid' \
    'while :; do sleep 0.1; done' > "$BUNDLE/rootfs/child.sh"
  args sh -c 'trap "echo init TERM >> /shared/got; exit 0" TERM
    sh /child.sh &
    while [ ! -s /shared/child.pid ]; do sleep 0.05; done
    echo ready > /shared/ready
    while :; do sleep 0.1; done'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  for i in $(seq 100); do [ -s "$sh/ready" ] && break; sleep 0.05; done
  [ -s "$sh/ready" ]
  init=$(ocirt state "$ID" | jq .pid)
  child=$(cat "$sh/child.pid")
  # the child: not the init, in the container's cgroup, in the host's pid namespace
  [ "$child" != "$init" ]
  grep -qx "$child" "$(ocirt_leaves | head -1)/cgroup.procs"
  [ "$(readlink /proc/$child/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
  ocirt kill --all "$ID" TERM
  for i in $(seq 100); do pid_gone "$init" && pid_gone "$child" && break; sleep 0.05; done
  cat "$sh/got"
  grep -qx 'init TERM' "$sh/got"
  grep -qx 'child TERM' "$sh/got"
  pid_gone "$init"
  pid_gone "$child"
  ocirt delete "$ID"
  no_leftovers
}

@test "kill --all KILL: every process in the cgroup dies, not only the init" {
  cfg '.linux.namespaces |= map(select(.type != "pid"))'
  args sh -c 'sleep 200 & sleep 201 & wait'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  local procs pids left p
  procs=$(ocirt_leaves | head -1)/cgroup.procs
  for i in $(seq 100); do [ "$(wc -l < "$procs")" -ge 3 ] && break; sleep 0.05; done
  pids=$(cat "$procs")
  [ "$(echo "$pids" | wc -l)" -eq 3 ]
  ocirt kill --all "$ID" KILL
  for i in $(seq 100); do
    left=""
    for p in $pids; do pid_gone "$p" || left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.05
  done
  [ -z "$left" ] || { echo "alive after kill --all KILL:$left"; ps -o pid,ppid,args -p "${left# }"; false; }
  [ "$(status_of)" = stopped ]
  ocirt delete "$ID"
  no_leftovers
}

@test "events --stats: one JSON object in runc's shape with live numbers" {
  cfg '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
  args sh -c 'sleep 100 & sleep 100 & echo ready; wait'
  run_bg_until_ready
  run ocirt events --stats "$ID"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e --arg id "$ID" '
    .type == "stats" and .id == $id
    and .data.memory.usage.limit == 67108864 and .data.memory.usage.usage > 0
    and .data.pids.current == 3 and .data.pids.limit == 50
    and .data.cpu.usage.total > 0
    and (.data.blkio | type) == "object" and (.data.hugetlb | type) == "object"'
  run ocirt events --interval 0.1s "$ID" &
  local ev=$!
  ocirt kill "$ID" KILL
  wait "$BG_PID" || true
  wait "$ev" || true
  run ocirt events --stats nosuch-$ID
  [ "$status" -ne 0 ]
  no_leftovers
}

@test "devices: without a rule a block node can be made (runc's default mknod rule) but not opened; with the rule it can" {
  cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
  cfg '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}]} | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}]'
  args sh -c 'mknod /tmp/loop b 7 0 && echo made; dd if=/tmp/loop of=/dev/null count=1 2>&1 && echo opened; exit 0'
  run_ctr
  [[ "$output" == *made* ]]
  [[ "$output" != *opened* ]]
  [[ "$output" == *"Operation not permitted"* ]]
  cfg '.linux.resources.devices += [{"allow": true, "type": "b", "major": 7, "minor": 0, "access": "rwm"}]'
  run_ctr
  [[ "$output" == *made* ]]
  [[ "$output" == *opened* ]]
  # mknod allowed but not read: made, but open is refused
  cfg '.linux.resources.devices[1].access = "m"'
  run_ctr
  [[ "$output" == *made* ]]
  [[ "$output" != *opened* ]]
  no_leftovers
}

@test "devices: the default devices stay usable under deny-all (null, zero, urandom, tty)" {
  cfg '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}]}'
  args sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 4 ]
  [ "${lines[1]}" = 4 ]
  no_leftovers
}

@test "cgroupsPath: absolute nested, relative, and what we created is removed" {
  args sleep 100
  cfg --arg p "/ocirt-test-$$-$BATS_TEST_NUMBER-a/b/$ID" '.linux.cgroupsPath = $p'
  ocirt create --bundle "$BUNDLE" "$ID"
  for leaf in $(ocirt_leaves); do
    [[ "$leaf" == */ocirt-test-$$-$BATS_TEST_NUMBER-a/b/$ID ]]
    [ -d "$leaf" ]
    grep -qx "$(ocirt state "$ID" | jq .pid)" "$leaf/cgroup.procs"
  done
  ocirt delete --force "$ID"
  [ -z "$(find /sys/fs/cgroup -maxdepth 2 -name "ocirt-test-$$-$BATS_TEST_NUMBER-a")" ]
  # relative: below our own cgroup in each v1 hierarchy
  cfg --arg p "ocirt-test-$$-$BATS_TEST_NUMBER-rel" '.linux.cgroupsPath = $p'
  ocirt create --bundle "$BUNDLE" "$ID"
  local own mem
  own=$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3)
  if [ -n "$own" ]; then
    mem=$(cgdir memory)
    [ "$mem" = "/sys/fs/cgroup/memory${own%/}/ocirt-test-$$-$BATS_TEST_NUMBER-rel" ]
  fi
  ocirt delete --force "$ID"
  no_leftovers "ocirt-test-$$-$BATS_TEST_NUMBER-rel"
  # ".." is refused before anything is made
  cfg '.linux.cgroupsPath = "/a/../../etc"'
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.cgroupsPath"* ]]
  no_leftovers
}

@test "v2: an ancestor with processes of its own refuses controllers (EBUSY): create goes on without them, as runc" {
  # critest with containerd in the root of a cgroup namespace (as in a kind node): the root
  # holds the daemon, and the kernel refuses to enable controllers for its children
  local v2=/sys/fs/cgroup/unified
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && v2=/sys/fs/cgroup
  [ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ] || skip "no cgroup v2 hierarchy"
  local name=ocirt-test-$$-$BATS_TEST_NUMBER-busy
  local busy=$v2/$name c key
  c=$(sed 's/ .*//' "$v2/cgroup.subtree_control")
  [ -n "$c" ] || skip "the v2 root enables no controller for its children"
  mkdir "$busy"
  CLEANUP_DIRS=$busy
  sleep 1000 </dev/null >/dev/null 2>&1 &
  KILL_PIDS=$!
  echo "$KILL_PIDS" > "$busy/cgroup.procs"
  # the kernel's rule this is about
  run sh -c "echo +$c > $busy/cgroup.subtree_control"
  [ "$status" -ne 0 ]
  args sleep 100
  cfg --arg p "/$name/$ID" '.linux.cgroupsPath = $p'
  ocirt create --bundle "$BUNDLE" "$ID"
  grep -qx "$(ocirt state "$ID" | jq .pid)" "$busy/$ID/cgroup.procs"
  ocirt delete --force "$ID"
  no_leftovers
  # a limit that needs the controller left off fails, naming its key
  case $c in hugetlb) key=hugetlb.2MB.max ;; memory) key=memory.max ;; pids) key=pids.max ;; *) key= ;; esac
  if [ -n "$key" ]; then
    cfg --arg k "$key" '.linux.resources.unified = {($k): "4194304"}'
    run ocirt create --bundle "$BUNDLE" "$ID"
    [ "$status" -ne 0 ]
    [[ "$output" == *"linux.resources.unified.$key"* ]]
    no_leftovers
  fi
  kill -9 "$KILL_PIDS"
  wait "$KILL_PIDS" 2>/dev/null || true
  KILL_PIDS=
  rmdir "$busy"
  CLEANUP_DIRS=
}

@test "unified: v2-only keys; a key for a controller this host has on v1 is refused by name" {
  v1 || skip "hybrid/v1 host only"
  cfg '.linux.resources.unified = {"memory.max": "1000000"}'
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.resources.unified.memory.max"* ]]
  no_leftovers
  if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
    cfg '.linux.resources.unified = {"hugetlb.2MB.max": "2097152"}'
    args sleep 100
    ocirt create --bundle "$BUNDLE" "$ID"
    [ "$(cat "$(cgdir hugetlb)/hugetlb.2MB.max")" = 2097152 ]
    ocirt delete --force "$ID"
  fi
  no_leftovers
}

@test "resources: errors name the field and leave nothing behind" {
  cfg '.linux.resources = {"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}'
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.resources.hugepageLimits[0].pageSize"* ]]
  no_leftovers
  cfg '.linux.resources = {"cpu": {"cpus": "9999"}}'
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.resources.cpu.cpus"* ]]
  no_leftovers
  cfg '.linux.resources = {"memory": {"swappiness": 101}}'
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"swappiness"* ]]
  no_leftovers
}

@test "exec --cgroup: the process joins an existing sub-cgroup; a missing one or .. is refused" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  local leaf; leaf=$(cgdir memory)
  for l in $(ocirt_leaves); do mkdir "$l/sub"; done
  run ocirt exec --cgroup sub "$ID" cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  [[ "$output" == *"$ID/sub"* ]] || [[ "$output" == *":/sub"* ]]
  if v1; then
    # only the memory hierarchy's sub-cgroup; the others stay at the container's
    run ocirt exec --cgroup memory:sub "$ID" cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    grep -E ':memory:.*/sub$' <<<"$output"
    grep -E ':pids:.*'"$ID"'$' <<<"$output"
  fi
  run ocirt exec --cgroup nosuch "$ID" true
  [ "$status" -eq 255 ]
  [[ "$output" == *"--cgroup: adding pid to "*"/nosuch/cgroup.procs: no such file"* ]]
  run ocirt exec --cgroup ../.. "$ID" true
  [ "$status" -eq 255 ]
  [[ "$output" == *"../.. is not a sub cgroup path"* ]]
  run ocirt exec --cgroup nosuchctl:/ "$ID" true
  [[ "$output" == *'unknown controller "nosuchctl"'* ]]
  # "/" is the container's own cgroup; a later --cgroup wins for its controllers
  run ocirt exec --cgroup / "$ID" cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  if [ -d /sys/fs/cgroup/memory ]; then
    run ocirt exec --cgroup sub --cgroup memory:/ "$ID" cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    grep -E ':memory:.*'"$ID"'$' <<<"$output"
    grep -E ':pids:.*/sub$' <<<"$output"
  fi
  # a process left in a sub-cgroup does not keep delete from removing everything
  ocirt exec -d --cgroup sub "$ID" sleep 100
  ocirt delete --force "$ID"
  no_leftovers
}
