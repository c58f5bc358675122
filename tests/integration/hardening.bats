#!/usr/bin/env bats
# The safety rules of docs/security.md, each attacked with a real container: what the created
# init holds, what a container owns, options that fail closed, host facts decided on the host,
# what reaches hooks and the container (fds, signal dispositions), the create-time config.

load helpers

# second_bundle DIR [jq options...] FILTER: a second bundle (rootfs copy) in DIR with this
# test's config edited by jq
second_bundle() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cp -a "$TEMPLATE/rootfs" "$dir/rootfs"
  jq "$@" "$BUNDLE/config.json" > "$dir/config.json"
}

# leaf DIR-OF-HIERARCHY: the container's cgroup in the hierarchy mounted at /sys/fs/cgroup/$1
leaf_of() {
  jq -r --arg h "/sys/fs/cgroup/$1/" '.cgroupLeaves[] | select(startswith($h))' "$ROOT/${2:-$ID}/state.json"
}

@test "created init: a sibling joining its pid namespace (a pod) reaches no host path through it" {
  args sleep 100
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  # everything the created init has open, its root and cwd, as seen by a pod sibling with the
  # default capabilities; the host's /proc would list this test's own pid
  probe='for f in /proc/1/fd/* /proc/1/root /proc/1/cwd; do ls -a "$f/" 2>/dev/null; done
         cat /proc/1/fd/*/sys/kernel/core_pattern 2>/dev/null && echo CORE-READABLE; echo END'
  second_bundle "$BATS_TEST_TMPDIR/b" --arg p "/proc/$pid/ns/pid" --arg s "$probe" \
    '.linux.namespaces = [.linux.namespaces[] | select(.type != "pid")] + [{type: "pid", path: $p}] |
     .process.args = ["sh", "-c", $s]'
  run "$OCIRT" --root "$ROOT" run --bundle "$BATS_TEST_TMPDIR/b" "$ID-b"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *END* ]]
  [[ "$output" != *CORE-READABLE* ]]
  [[ $'\n'"$output"$'\n' != *$'\n'"$$"$'\n'* ]]
  # the same through `exec` before start
  run ocirt exec "$ID" sh -c "$probe"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *END* ]]
  [[ "$output" != *CORE-READABLE* ]]
  [[ $'\n'"$output"$'\n' != *$'\n'"$$"$'\n'* ]]
  # and the init is non-dumpable until it execs (then it is the container's process)
  [ "$(stat -c %u "/proc/$pid/fd")" = 0 ]
  ocirt start "$ID"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "delete: a container owns only its leaf; a sibling under a parent we created runs on" {
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no memory hierarchy"
  parent=/ocirt-test-$$-$BATS_TEST_NUMBER-pod
  args sleep 1000
  cfg --arg p "$parent/a" '.linux.cgroupsPath = $p'
  second_bundle "$BATS_TEST_TMPDIR/b" --arg p "$parent/b" '.linux.cgroupsPath = $p'
  ocirt run -d --bundle "$BUNDLE" "$ID-a"
  ocirt run -d --bundle "$BATS_TEST_TMPDIR/b" "$ID-b"
  pidb=$(ocirt state "$ID-b" | jq -r .pid)
  mem=/sys/fs/cgroup/memory
  [ -d "$mem$parent/a" ] && [ -d "$mem$parent/b" ]
  ocirt kill "$ID-a" KILL
  for i in $(seq 100); do [ "$(status_of "$ID-a")" = stopped ] && break; sleep 0.05; done
  ocirt delete "$ID-a"
  [ ! -d "$mem$parent/a" ]
  # the neighbour is untouched: running, its cgroup and the shared parent still there
  [ "$(status_of "$ID-b")" = running ]
  kill -0 "$pidb"
  [ -d "$mem$parent/b" ]
  grep -qx "$pidb" "$mem$parent/b/cgroup.procs"
  ocirt delete --force "$ID-b"
  [ ! -d "$mem$parent/b" ]
  # the parent is A's; B never owned it, so it stays (as with runc), now empty
  for d in /sys/fs/cgroup/*"$parent"; do rmdir "$d"; done
  # a parent we made is removed when the container that made it goes and it is empty
  cfg --arg p "$parent/c" '.linux.cgroupsPath = $p'
  ocirt run -d --bundle "$BUNDLE" "$ID-c"
  [ -d "$mem$parent/c" ]
  ocirt delete --force "$ID-c"
  [ ! -d "$mem$parent" ]
  no_leftovers "$ID-a"
  no_leftovers "$ID-b"
}

@test "mounts: rro and rnoexec hold for submounts of a bind (the host's files stay unwritten)" {
  src=$BATS_TEST_TMPDIR/src
  mkdir -p "$src/sub"
  mount -t tmpfs tmpfs "$src/sub"
  UMOUNTS="$src/sub"
  cp /bin/busybox "$src/sub/bb"
  cfg --arg s "$src" '.mounts += [{destination: "/mnt", type: "bind", source: $s, options: ["rbind", "rro", "rnoexec"]}]'
  args sh -c 'touch /mnt/top; touch /mnt/sub/deep; /mnt/sub/bb true && echo EXEC-OK; grep " /mnt" /proc/self/mountinfo; echo END'
  run_ctr
  echo "$output"
  [[ "$output" == *END* ]]
  [ ! -e "$src/top" ]
  [ ! -e "$src/sub/deep" ]
  [[ "$output" != *EXEC-OK* ]]
  [[ "$output" == *"Read-only file system"* ]]
  # both mounts read-only and noexec as the container sees them
  [ "$(grep -c ' /mnt.* ro,.*noexec' <<<"$output")" -eq 2 ]
  no_leftovers
}

@test "mounts: an option we do not know on a bind mount is refused, naming it; filesystem data is a warning" {
  cfg '.mounts += [{destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "rro", "bogus"]}]'
  n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"mounts[$n].options[2]: unknown mount option \"bogus\""* ]]
  no_leftovers
  # KEY=VALUE is data (runtime-tools' mounts test has mode= and size= on a bind): it runs
  cfg ".mounts[$n].options = [\"rbind\", \"rro\", \"mode=755\", \"size=1k\"]"
  run ocirt run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"mounts[$n].options[2]: \"mode=755\" is filesystem data, which a bind mount ignores"* ]]
  no_leftovers
}

@test "LSM: the image cannot make the runtime believe AppArmor is on (decided on the host)" {
  [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "AppArmor is enabled on this host"
  # no /sys mount: the container's /sys is the image's, which claims AppArmor
  cfg '.mounts = [.mounts[] | select(.destination != "/sys")] | .process.apparmorProfile = "oci-rt-test-profile"'
  mkdir -p "$BUNDLE/rootfs/sys/module/apparmor/parameters"
  echo Y > "$BUNDLE/rootfs/sys/module/apparmor/parameters/enabled"
  args echo ran
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *ran* ]]
  no_leftovers
}

@test "sysctl: written through a verified procfs even when the container's /proc is not one" {
  # a tmpfs over /proc: a plain path would write into it (or fail); the runtime uses a procfs of its own
  cfg '.mounts += [{destination: "/proc", type: "tmpfs", source: "tmpfs"}] | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  args sleep 100
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  [ "$(nsenter -t "$pid" -n cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "signals: the container's process gets default dispositions and an empty mask, hooks or not" {
  cfg '.hooks = {createContainer: [{path: "/bin/true"}], startContainer: [{path: "/bin/true"}], prestart: [{path: "/bin/true"}]}'
  args grep -E '^Sig(Ign|Blk)' /proc/self/status
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"SigIgn:	0000000000000000"* ]]
  [[ "$output" == *"SigBlk:	0000000000000000"* ]]
  # a caller that ignores SIGPIPE and SIGHUP passes nothing of it on
  run bash -c 'trap "" PIPE HUP; exec "$0" --root "$1" run --bundle "$2" "$3"' "$OCIRT" "$ROOT" "$BUNDLE" "$ID"
  [[ "$output" == *"SigIgn:	0000000000000000"* ]]
  # the same for exec
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID-2"
  run bash -c 'trap "" PIPE HUP; exec "$0" --root "$1" exec "$2" grep -E "^Sig(Ign|Blk)" /proc/self/status' "$OCIRT" "$ROOT" "$ID-2"
  [[ "$output" == *"SigIgn:	0000000000000000"* ]]
  [[ "$output" == *"SigBlk:	0000000000000000"* ]]
  ocirt delete --force "$ID-2"
  no_leftovers
}

@test "fds: no hook of any type gets the log file or the caller's --preserve-fds; the container gets no log fd" {
  d=$BATS_TEST_TMPDIR
  printf '#!/bin/sh\nls -l /proc/self/fd > "$1"\n' > "$d/hook.sh"
  chmod +x "$d/hook.sh"
  for fmt in text json; do
    rm -f "$d"/fds-* "$BUNDLE"/rootfs/fds-*
    cfg --arg h "$d/hook.sh" --arg d "$d" '.root.readonly = false | .hooks = {
        prestart: [{path: $h, args: ["hook", ($d + "/fds-prestart")]}],
        createRuntime: [{path: $h, args: ["hook", ($d + "/fds-createRuntime")]}],
        createContainer: [{path: $h, args: ["hook", ($d + "/fds-createContainer")]}],
        startContainer: [{path: "/bin/sh", args: ["sh", "-c", "ls -l /proc/self/fd > /fds-startContainer"]}],
        poststart: [{path: $h, args: ["hook", ($d + "/fds-poststart")]}],
        poststop: [{path: $h, args: ["hook", ($d + "/fds-poststop")]}]}'
    args sh -c 'ls -l /proc/self/fd > /fds-container'
    "$OCIRT" --root "$ROOT" --log "$d/oci-rt-$fmt.log" --log-format $fmt --debug \
      run --preserve-fds 1 --bundle "$BUNDLE" "$ID" 3>"$d/preserved-file"
    [ -s "$d/oci-rt-$fmt.log" ]
    for h in prestart createRuntime createContainer poststart poststop; do
      cat "$d/fds-$h"
      if grep -qE "oci-rt-$fmt.log|preserved-file" "$d/fds-$h"; then echo "hook $h got an fd it must not have"; false; fi
    done
    cat "$BUNDLE/rootfs/fds-startContainer"
    ! grep -qE "oci-rt-$fmt.log|preserved-file" "$BUNDLE/rootfs/fds-startContainer" || false
    # the container has what the caller preserved for it, and nothing of our log
    grep -q preserved-file "$BUNDLE/rootfs/fds-container"
    ! grep -q "oci-rt-$fmt.log" "$BUNDLE/rootfs/fds-container" || false
  done
  no_leftovers
}

@test "exec and update use the config of create, not the bundle's config.json of today" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  # edit the bundle: another env, no mount namespace, every capability
  cfg '.process.env += ["EDITED=1"] | .linux.namespaces = [.linux.namespaces[] | select(.type != "mount")] |
       .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] |
       .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  run ocirt exec "$ID" sh -c 'env; readlink /proc/self/ns/mnt; grep CapEff /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *EDITED=1* ]]
  [[ "$output" == *"$(readlink /proc/$pid/ns/mnt)"* ]]
  [[ "$output" == *"CapEff:	0000000020000420"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "update (v1 devices): /dev/null never disappears while the rules are rewritten" {
  [ -f /sys/fs/cgroup/devices/devices.list ] || skip "no v1 devices controller"
  cfg '.root.readonly = false'
  # `command :` opens /dev/null each round; a failed open is counted, not fatal to the shell
  args sh -c 'exec 2>>/errs; while :; do if ! command : </dev/null; then echo lost >> /lost; fi; done'
  ocirt run -d --bundle "$BUNDLE" "$ID"
  echo '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]}' > "$BATS_TEST_TMPDIR/res.json"
  for i in $(seq 200); do ocirt update -r "$BATS_TEST_TMPDIR/res.json" "$ID"; done
  sleep 0.2
  [ ! -e "$BUNDLE/rootfs/lost" ] || { echo "/dev/null was denied $(wc -l < "$BUNDLE/rootfs/lost") times"; false; }
  list=$(cat "$(leaf_of devices)/devices.list")
  grep -qx 'c 1:3 rwm' <<<"$list"
  grep -qx 'c 1:11 r' <<<"$list"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "ps and kill --all reach a process in a sub-cgroup (exec --cgroup)" {
  # no pid namespace of its own: the init's death takes nothing else down
  cfg '.linux.namespaces = [.linux.namespaces[] | select(.type != "pid")]'
  args sleep 1000
  ocirt run -d --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  for l in $(jq -r '.cgroupLeaves[]' "$ROOT/$ID/state.json"); do mkdir "$l/sub"; done
  ocirt exec -d --pid-file "$BATS_TEST_TMPDIR/sub.pid" --cgroup sub "$ID" sleep 1001
  sub=$(cat "$BATS_TEST_TMPDIR/sub.pid")
  KILL_PIDS="$sub"
  grep -qx "$sub" "$(leaf_of memory)/sub/cgroup.procs"
  run ocirt ps --format json "$ID"
  [ "$status" -eq 0 ]
  [ "$(jq --argjson p "$sub" 'index($p) != null' <<<"$output")" = true ]
  [ "$(jq --argjson p "$pid" 'index($p) != null' <<<"$output")" = true ]
  ocirt kill --all "$ID" KILL
  for i in $(seq 100); do [ -d "/proc/$sub" ] || break; grep -q '^State:.*Z' "/proc/$sub/status" && break; sleep 0.05; done
  [ ! -d "/proc/$sub" ] || grep -q '^State:.*Z' "/proc/$sub/status"
  ocirt delete --force "$ID"
  no_leftovers
}

@test "devices: a deny inside a wildcard allow is refused (the kernel would ignore it)" {
  cfg '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
  args true
  run ocirt create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.resources.devices"*"c 1:3 rwm"*"wildcard"* ]]
  no_leftovers
}

@test "devices: mknod of any device is allowed (runc's default), opening it is not" {
  cfg '.root.readonly = false | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
  args sh -c 'mknod /tmp/mem c 1 1 && echo MKNOD-OK; head -c1 /tmp/mem >/dev/null 2>&1 || echo OPEN-DENIED'
  run_ctr
  echo "$output"
  [[ "$output" == *MKNOD-OK* ]]
  [[ "$output" == *OPEN-DENIED* ]]
  no_leftovers
}

@test "HOME: from the user's entry in the container's /etc/passwd, / without one (runc)" {
  args sh -c 'echo "home=$HOME"'
  run_ctr
  [[ "$output" == *"home=/root"* ]]
  cfg '.process.user.uid = 1234'
  run_ctr
  [[ "$output" == *"home=/"* ]]
  # a HOME in the config wins
  cfg '.process.env += ["HOME=/custom"]'
  run_ctr
  [[ "$output" == *"home=/custom"* ]]
  no_leftovers
}

@test "exec --user NAME[:GROUP] is resolved in the container's passwd and group files" {
  printf 'app:x:1500:1600::/home/app:/bin/sh\n' >> "$BUNDLE/rootfs/etc/passwd"
  printf 'appgrp:x:1600:\nextra:x:1700:app\nother:x:1800:\n' >> "$BUNDLE/rootfs/etc/group"
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  run ocirt exec --user app "$ID" id
  [ "$status" -eq 0 ]
  [[ "$output" == *"uid=1500"*"gid=1600"*"1700"* ]]
  run ocirt exec --user app:other "$ID" id -g
  [ "$output" = 1800 ]
  run ocirt exec --user app "$ID" sh -c 'echo $HOME'
  [ "$output" = /home/app ]
  run ocirt exec --user nosuchuser "$ID" true
  [ "$status" -ne 0 ]
  [[ "$output" == *"unable to find user nosuchuser"* ]]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "readonlyPaths: a symlink is followed inside the root; its target becomes read-only" {
  mkdir -p "$BUNDLE/rootfs/data"
  ln -s /data "$BUNDLE/rootfs/link"
  cfg '.root.readonly = false | .linux.readonlyPaths = ["/link"]'
  args sh -c 'touch /data/x 2>&1; echo end'
  run_ctr
  echo "$output"
  [[ "$output" == *"Read-only file system"* ]]
  [ ! -e "$BUNDLE/rootfs/data/x" ]
  no_leftovers
}

@test "hooks: startContainer gets the container's pid in its state, not 0" {
  cfg '.root.readonly = false | .hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "cat > /state.json"]}]}'
  args true
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq .pid)
  ocirt start "$ID"
  for i in $(seq 50); do [ -s "$BUNDLE/rootfs/state.json" ] && break; sleep 0.05; done
  [ "$(jq .pid "$BUNDLE/rootfs/state.json")" = "$pid" ]
  [ "$(jq -r .status "$BUNDLE/rootfs/state.json")" = created ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "seccomp: a profile without openat2 (an older one) still starts: our own steps come before the filter" {
  cfg '.process.noNewPrivileges = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
       syscalls: [{action: "SCMP_ACT_ALLOW", names: ["read", "write", "open", "openat", "close", "fstat", "newfstatat",
         "stat", "lstat", "execve", "exit", "exit_group", "brk", "mmap", "munmap", "mprotect", "arch_prctl",
         "set_tid_address", "set_robust_list", "rseq", "prlimit64", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
         "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "uname", "ioctl", "fcntl", "dup2", "dup3",
         "getcwd", "chdir", "capget", "capset", "prctl", "setresuid", "setresgid", "setgroups", "umask", "getrandom",
         "wait4", "clone", "fork", "vfork", "readlink", "readlinkat", "futex", "sched_getaffinity", "poll", "ppoll",
         "sendmsg", "recvmsg", "sendto", "recvfrom", "fchown", "getgroups", "statfs", "fstatfs", "gettid"]}]}'
  args echo started
  ocirt create --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1
  ocirt start "$ID"
  for i in $(seq 50); do [ "$(status_of)" = stopped ] && break; sleep 0.05; done
  cat "$BATS_TEST_TMPDIR/out"
  grep -q started "$BATS_TEST_TMPDIR/out"
  ocirt delete "$ID"
  no_leftovers
}
