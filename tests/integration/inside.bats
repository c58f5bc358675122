#!/usr/bin/env bats
# What the process inside the container sees: namespaces, mounts, devices, identity, limits.

load helpers

@test "namespaces: pid, net, ipc, uts, mount differ from the host's; pid 1 inside" {
  args sh -c 'for n in pid net ipc uts mnt; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "self $$"'
  run_ctr
  [ "$status" -eq 0 ]
  for n in pid net ipc uts mnt; do
    inside=$(echo "$output" | awk -v n=$n '$1 == n {print $2}')
    [ -n "$inside" ]
    [ "$inside" != "$(readlink /proc/self/ns/$n)" ]
  done
  [[ "$output" == *"self 1"* ]]
}

@test "namespaces: cgroup and time namespaces when asked for, with time offsets" {
  cfg '.linux.namespaces += [{"type": "cgroup"}, {"type": "time"}] | .linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0}}'
  args sh -c 'readlink /proc/self/ns/cgroup; readlink /proc/self/ns/time; cat /proc/self/timens_offsets; cat /proc/uptime'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$(readlink /proc/self/ns/cgroup)" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/time)" ]
  # the namespace's offsets: monotonic as asked, boottime untouched ("clock secs nanosecs")
  [ "$(echo "${lines[2]}" | tr -s ' ')" = "monotonic 86400 0" ]
  [ "$(echo "${lines[3]}" | tr -s ' ')" = "boottime 0 0" ]
  # /proc/uptime is the boottime clock: not offset, so within a few seconds of the host's
  up=$(echo "${lines[4]}" | cut -d. -f1)
  host=$(cut -d. -f1 /proc/uptime)
  [ "$up" -le "$host" ] && [ "$up" -ge $((host - 5)) ]
}

@test "namespaces: time offsets reach the container's clocks" {
  cfg '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}}'
  args cat /proc/uptime
  run_ctr
  [ "$status" -eq 0 ]
  inside=$(echo "$output" | cut -d. -f1)
  host=$(cut -d. -f1 /proc/uptime)
  [ "$inside" -ge $((host + 864000 - 5)) ]
}

@test "namespaces: joining an existing network namespace by path" {
  ip netns add "ocirt-test-$$" 
  cfg --arg p "/run/netns/ocirt-test-$$" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
  args readlink /proc/self/ns/net
  run_ctr
  want=$(ip netns exec "ocirt-test-$$" readlink /proc/self/ns/net)
  ip netns delete "ocirt-test-$$"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
}

@test "namespaces: a bad namespace path names the field" {
  cfg '.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent/netns" else . end)'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.namespaces"*"/nonexistent/netns"*"No such file or directory"* ]]
  no_leftovers
}

@test "hostname and domainname" {
  cfg '.hostname = "box1" | .domainname = "example.org"'
  args sh -c 'hostname; cat /proc/sys/kernel/domainname'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = box1 ]
  [ "${lines[1]}" = example.org ]
  [ "$(hostname)" != box1 ]
}

@test "mounts: proc, sysfs (ro), /dev tmpfs, devpts, shm, mqueue, cgroup; readonly root" {
  args cat /proc/self/mountinfo
  run_ctr
  [ "$status" -eq 0 ]
  echo "$output" | awk '$5 == "/" {print}' | grep -q ' ro[, ]'
  echo "$output" | grep -qE ' /proc .* - proc '
  echo "$output" | grep -qE ' /sys ro,.* - sysfs '
  echo "$output" | grep -qE ' /dev .* - tmpfs '
  echo "$output" | grep -qE ' /dev/pts .* - devpts '
  echo "$output" | grep -qE ' /dev/shm .* - tmpfs '
  echo "$output" | grep -qE ' /dev/mqueue .* - mqueue '
  echo "$output" | grep -qE ' /sys/fs/cgroup ro,.* - tmpfs '
  echo "$output" | grep -qE ' /sys/fs/cgroup/memory .* - cgroup '
  # nothing of the host's mount table leaks in
  run ! grep -q ' /run ' <<<"$output"
}

@test "mounts: the host sees none of the container's mounts" {
  args sleep 100
  before=$(wc -l < /proc/self/mountinfo)
  ocirt run -d --bundle "$BUNDLE" "$ID"
  [ "$(wc -l < /proc/self/mountinfo)" -eq "$before" ]
  run ! grep -q "$BUNDLE" /proc/self/mountinfo
  ocirt delete --force "$ID"
}

@test "mounts: bind (ro, rw), rbind, tmpfs with options, relative source, file bind" {
  mkdir -p "$BATS_TEST_TMPDIR/src/sub" "$BUNDLE/rel"
  echo data > "$BATS_TEST_TMPDIR/src/file"
  echo rel > "$BUNDLE/rel/x"
  echo single > "$BATS_TEST_TMPDIR/single"
  cfg --arg s "$BATS_TEST_TMPDIR/src" --arg f "$BATS_TEST_TMPDIR/single" '.mounts += [
    {"destination": "/mnt/ro", "type": "bind", "source": $s, "options": ["bind", "ro"]},
    {"destination": "/mnt/rw", "type": "none", "source": $s, "options": ["rbind", "rw", "nosuid"]},
    {"destination": "/mnt/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777", "noexec"]},
    {"destination": "/mnt/rel", "type": "bind", "source": "rel", "options": ["bind"]},
    {"destination": "/etc/single", "type": "bind", "source": $f, "options": ["bind", "ro"]}]'
  args sh -c 'cat /mnt/ro/file; touch /mnt/ro/x 2>/dev/null && echo ro-writable; touch /mnt/rw/new && echo rw-ok;
              cat /mnt/rel/x; cat /etc/single; grep " /mnt/tmp " /proc/self/mountinfo; stat -c %a /mnt/tmp'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = data ]
  [[ "$output" != *ro-writable* ]]
  [[ "$output" == *rw-ok* ]]
  [ -f "$BATS_TEST_TMPDIR/src/new" ]
  [[ "$output" == *rel* ]]
  [[ "$output" == *single* ]]
  [[ "$output" == *noexec*tmpfs*size=1024k* ]]
  [[ "$output" == *1777* ]]
}

@test "mounts: a missing bind source names the mount and errno; nothing left behind" {
  cfg '.mounts += [{"destination": "/mnt/x", "type": "bind", "source": "/nonexistent/dir", "options": ["bind"]}]'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"mounts[7]"*"/nonexistent/dir"*"No such file or directory"* ]]
  no_leftovers
}

@test "mounts: a target that is a symlink out of the rootfs lands inside it" {
  mkdir -p "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/hostdir"
  echo payload > "$BATS_TEST_TMPDIR/src/file"
  ln -s "$BATS_TEST_TMPDIR/hostdir" "$BUNDLE/rootfs/abs"
  ln -s ../../../../../../../../../.."$BATS_TEST_TMPDIR/hostdir" "$BUNDLE/rootfs/rel"
  cfg --arg s "$BATS_TEST_TMPDIR/src" '.mounts += [
    {"destination": "/abs", "type": "bind", "source": $s, "options": ["bind"]},
    {"destination": "/rel/sub", "type": "bind", "source": $s, "options": ["bind"]}]'
  args sh -c 'cat /abs/file'
  run_ctr
  [ "$status" -eq 0 ]
  # the host directory the symlinks point to was never mounted on or written to
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdir")" ]
  run ! grep -q "$BATS_TEST_TMPDIR/hostdir" /proc/self/mountinfo
}

@test "devices: default nodes, /dev symlinks, linux.devices with mode and owner" {
  cfg '.linux.devices = [{"path": "/dev/fuse-test", "type": "c", "major": 10, "minor": 229, "fileMode": 384, "uid": 12, "gid": 34}]'
  args sh -c 'for d in null zero full random urandom tty fuse-test; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done;
              for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo null-ok'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/null character special file 1:3 666 0:0"* ]]
  [[ "$output" == *"/dev/zero character special file 1:5 666"* ]]
  [[ "$output" == *"/dev/full character special file 1:7"* ]]
  [[ "$output" == *"/dev/urandom character special file 1:9"* ]]
  [[ "$output" == *"/dev/tty character special file 5:0"* ]]
  [[ "$output" == *"/dev/fuse-test character special file a:e5 600 12:34"* ]]
  [[ "$output" == *"/proc/self/fd"* ]]
  [[ "$output" == *"pts/ptmx"* ]]
  [[ "$output" == *null-ok* ]]
}

@test "devices: /dev/core -> /proc/kcore only where the kernel has /proc/kcore (runc's rule)" {
  args sh -c 'readlink /dev/core || echo no-core'
  run_ctr
  [ "$status" -eq 0 ]
  if [ -e /proc/kcore ]; then
    [ "$output" = /proc/kcore ]
  else
    [ "$output" = no-core ]
  fi
}

@test "masked paths are empty or unreadable; absent ones are skipped" {
  cfg '.linux.maskedPaths += ["/proc/does-not-exist"]'
  args sh -c 'cat /proc/keys | wc -c; ls /proc/acpi 2>/dev/null | wc -l; ls /sys/firmware | wc -l; grep -c " /proc/keys " /proc/self/mountinfo'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = 1 ]
}

@test "readonly paths cannot be written" {
  args sh -c 'echo 1 > /proc/sys/kernel/domainname && echo WROTE; grep " /proc/sys " /proc/self/mountinfo'
  run_ctr
  [[ "$output" != *WROTE* ]]
  [[ "$output" == *" /proc/sys ro,"* ]]
}

@test "readonly paths are read-only all through: a mount below one is read-only too, and nosuid,nodev,noexec at the top" {
  cfg '.root.readonly = false | .mounts += [{"destination": "/mnt/ro/sub", "type": "tmpfs", "source": "tmpfs"}] | .linux.readonlyPaths += ["/mnt/ro"]'
  args sh -c '(echo x > /mnt/ro/sub/f) 2>/dev/null && echo WROTE; grep -E " /mnt/ro(/sub)? " /proc/self/mountinfo'
  run_ctr
  [[ "$output" != *WROTE* ]]
  echo "$output" | grep -E " /mnt/ro ro,nosuid,nodev,noexec"
  echo "$output" | grep -E " /mnt/ro/sub ro[, ]"
}

@test "root.readonly false gives a writable root" {
  cfg '.root.readonly = false'
  args sh -c 'touch /newfile && echo ok'
  run_ctr
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ -f "$BUNDLE/rootfs/newfile" ]
}

@test "user: uid, gid, additionalGids, umask" {
  cfg '.root.readonly = false | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7], "umask": 63}'
  args sh -c 'id -u; id -g; grep ^Groups: /proc/self/status; umask; grep ^Uid: /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1001 ]
  [[ "${lines[2]}" == *"5 7"* ]]
  [ "${lines[3]}" = 0077 ]
  [[ "${lines[4]}" == *"1000"*"1000"*"1000"*"1000"* ]]
}

@test "capabilities: the config's sets, nothing more" {
  cfg '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
  args grep ^Cap /proc/self/status
  run_ctr
  [ "$status" -eq 0 ]
  # CAP_CHOWN = bit 0 (1), CAP_KILL = bit 5 (0x20); the exec recomputes: eff = prm = amb
  [[ "$output" == *"CapBnd:	0000000000000021"* ]]
  [[ "$output" == *"CapInh:	0000000000000020"* ]]
  [[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "capabilities: all five sets in /proc/self/status equal the config's (non-root user)" {
  caps='["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]'
  cfg --argjson c "$caps" '.process.user = {"uid": 1000, "gid": 1000}
       | .process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c, "inheritable": $c, "ambient": $c}'
  args grep ^Cap /proc/self/status
  run_ctr
  [ "$status" -eq 0 ]
  # CHOWN bit 0, KILL bit 5, NET_RAW bit 13: 0x2021
  for set in CapInh CapPrm CapEff CapBnd CapAmb; do
    [[ "$output" == *"$set:	0000000000002021"* ]] || { echo "$set differs"; false; }
  done
}

@test "capabilities: root with bounding = effective = permitted, nothing else" {
  cfg '.process.capabilities = {"bounding": ["CAP_SETUID", "CAP_SETGID"], "effective": ["CAP_SETUID", "CAP_SETGID"], "permitted": ["CAP_SETUID", "CAP_SETGID"]}'
  args grep ^Cap /proc/self/status
  run_ctr
  # SETGID bit 6, SETUID bit 7: 0xc0
  for set in CapPrm CapEff CapBnd; do [[ "$output" == *"$set:	00000000000000c0"* ]]; done
  [[ "$output" == *"CapInh:	0000000000000000"* ]]
  [[ "$output" == *"CapAmb:	0000000000000000"* ]]
}

@test "capabilities: an unknown name is left out with a warning naming it (runc's rule), the rest applied" {
  cfg '.process.capabilities.bounding += ["CAP_NOT_A_CAP"] | .process.capabilities.effective += ["CAP_NOT_A_CAP", "CAP_NEWER_THAN_KERNEL"]'
  args grep CapBnd /proc/self/status
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *'ignoring unknown or unavailable capabilities: [CAP_NOT_A_CAP CAP_NEWER_THAN_KERNEL]'* ]]
  # the known ones are there: AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10)
  bnd=$(grep -o 'CapBnd:.*' <<<"$output" | awk '{print $2}')
  [ "$bnd" = 0000000020000420 ]
  no_leftovers
}

@test "noNewPrivileges" {
  args grep NoNewPrivs /proc/self/status
  run_ctr
  [[ "$output" == *"NoNewPrivs:	1"* ]]
  cfg '.process.noNewPrivileges = false'
  run_ctr
  [[ "$output" == *"NoNewPrivs:	0"* ]]
}

@test "rlimits are applied" {
  cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_NPROC", "soft": 777, "hard": 777}]'
  args sh -c 'ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -u'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 123 ]
  [ "${lines[1]}" = 456 ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = 777 ]
}

@test "rlimits: raising a hard limit the host forbids fails with the field and errno" {
  hard=$(ulimit -Hn)
  cfg --argjson h $((hard * 2)) '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": $h}]'
  args true
  run_ctr
  if [ "$status" -eq 0 ]; then skip "this host lets root raise hard limits (CAP_SYS_RESOURCE)"; fi
  [[ "$output" == *"process.rlimits[0] (RLIMIT_NOFILE): setrlimit (a hard limit above the current $hard needs CAP_SYS_RESOURCE): Operation not permitted"* ]]
  no_leftovers
}

@test "oomScoreAdj" {
  cfg '.process.oomScoreAdj = 345'
  args cat /proc/self/oom_score_adj
  run_ctr
  [ "$output" = 345 ]
}

@test "sysctl in the container's namespaces" {
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}'
  args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 123456789 ]
  [ "$(cat /proc/sys/kernel/shmmax)" != 123456789 ]
}

@test "sysctl: a host-wide sysctl is refused by name" {
  cfg '.linux.sysctl = {"vm.swappiness": "1"}'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.sysctl.vm.swappiness: sysctl is not in a separate kernel namespace"* ]]
  no_leftovers
}

@test "cwd (created if missing) and env" {
  cfg '.process.cwd = "/work/dir" | .process.env += ["FOO=bar baz"]'
  args sh -c 'pwd; echo "$FOO"'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = /work/dir ]
  [ "${lines[1]}" = "bar baz" ]
}

@test "executable lookup: PATH from process.env; runc's words for missing and forbidden" {
  args nosuchprog
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *'exec: "nosuchprog": executable file not found in $PATH'* ]]
  no_leftovers
  args /bin/nosuchprog
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *'exec: "/bin/nosuchprog": stat /bin/nosuchprog: no such file or directory'* ]]
  no_leftovers
  printf '#!/bin/sh\necho hi\n' > "$BUNDLE/rootfs/bin/noexec"
  chmod 0644 "$BUNDLE/rootfs/bin/noexec"
  args /bin/noexec
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *'exec: "/bin/noexec": permission denied'* ]]
  no_leftovers
  # in PATH, a file that is not executable is skipped (Go's LookPath, runc)
  args noexec
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *'exec: "noexec": executable file not found in $PATH'* ]]
  no_leftovers
}

@test "cgroup: the container is placed in its cgroup in every hierarchy; removed on delete" {
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  n=0
  while IFS=: read -r num ctrl path; do
    [ -n "$ctrl" ] || [ "$num" = 0 ] || continue
    [ "$path" = "/$ID" ] || { echo "bad cgroup line: $num:$ctrl:$path"; false; }
    n=$((n + 1))
  done < "/proc/$pid/cgroup"
  [ "$n" -ge 1 ]
  ocirt delete --force "$ID"
  no_leftovers
}

@test "cgroup: cgroupsPath absolute and nested; parents we made are removed too" {
  cfg --arg p "/ocirt-test-$$-parent/$ID" '.linux.cgroupsPath = $p'
  args sh -c 'cat /proc/self/cgroup'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"/ocirt-test-$$-parent/$ID"* ]]
  [ -z "$(find /sys/fs/cgroup -maxdepth 2 -name "ocirt-test-$$-parent")" ]
}

@test "cgroup: '..' in cgroupsPath is refused" {
  cfg '.linux.cgroupsPath = "/a/../../etc"'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.cgroupsPath"* ]]
  no_leftovers
}

@test "no-pivot: chroot instead of pivot_root still runs" {
  args sh -c 'cat /proc/self/mountinfo | wc -l; echo ok'
  run "$OCIRT" --root "$ROOT" run --no-pivot --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *ok* ]]
}

@test "rootfsPropagation shared and private show in the container's mountinfo" {
  cfg '.linux.rootfsPropagation = "shared"'
  args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *shared:* ]]
  cfg '.linux.rootfsPropagation = "private"'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" != *shared:* ]]
  [[ "$output" != *master:* ]]
}

# Kubernetes' Bidirectional volumes (CSI drivers): rootfsPropagation rshared with an rbind,rshared
# volume. A mount made in the container under the volume reaches the host and one made on the
# host reaches the container; none of the container's own mounts (proc, dev, the rootfs bind)
# appears on the host. Run in a private mount namespace whose / is made rshared (as on systemd hosts).
@test "rootfsPropagation rshared: a volume's mounts propagate both ways, the container's own stay inside" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol/m" "$vol/h"
  cfg --arg v "$vol" '.linux.rootfsPropagation = "rshared"
    | .mounts += [{"destination": "/v", "type": "bind", "source": $v, "options": ["rbind", "rshared", "rw"]}]
    | .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
    | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  args sh -c 'mount -t tmpfs none /v/m && echo in > /v/m/f || exit 1
    i=0; while [ ! -e /v/h/f ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; cat /v/h/f'
  cat > "$BATS_TEST_TMPDIR/scenario.sh" <<EOF
set -u
mount --make-rshared /
mount --bind "$vol" "$vol"  # a volume on its own mount, as Bidirectional needs (and critest makes)
"$OCIRT" --root "$ROOT" run --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1 &
i=0; while [ ! -e "$vol/m/f" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
echo "host sees: \$(cat "$vol/m/f")"
mount -t tmpfs none "$vol/h" && echo out > "$vol/h/f"
wait \$!; echo "container status \$?"
echo "container saw: \$(cat "$BATS_TEST_TMPDIR/out")"
echo "leaked: \$(grep -c " $BUNDLE/rootfs" /proc/self/mountinfo)"
umount -l "$vol/h" "$vol/m" "$vol"
EOF
  run unshare -m --propagation private bash "$BATS_TEST_TMPDIR/scenario.sh"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "host sees: in" ]
  [ "${lines[1]}" = "container status 0" ]
  [ "${lines[2]}" = "container saw: out" ]
  [ "${lines[3]}" = "leaked: 0" ]
}

@test "fds: nothing the caller had open reaches the container, --preserve-fds does" {
  args sh -c 'ls /proc/self/fd'
  exec 7>"$BATS_TEST_TMPDIR/seven" 8>"$BATS_TEST_TMPDIR/eight"
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$(echo $output)" == "0 1 2 3" ]]  # 3 is ls's own directory fd
  run "$OCIRT" --root "$ROOT" run --preserve-fds 6 --bundle "$BUNDLE" "$ID"
  exec 7>&- 8>&-
  [[ "$(echo $output)" == *"7 8"* ]]
}

@test "no mount namespace: chroot into the rootfs, no mount touches the host, a warning says so" {
  cfg '.linux.namespaces |= map(select(.type != "mount"))'
  args sh -c 'ls /bin/busybox && readlink /proc/self/ns/mnt 2>/dev/null; echo done'
  before=$(md5sum < /proc/self/mountinfo)
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"/bin/busybox"* ]]
  [[ "$output" == *done* ]]
  [[ "$output" == *"no mount namespace: mounts, masked and readonly paths are not applied"* ]]
  [ "$(md5sum < /proc/self/mountinfo)" = "$before" ]
  no_leftovers
}

@test "user namespace: uid_map/gid_map written, root inside maps to the host range, devices usable" {
  cfg '.linux.namespaces += [{"type": "user"}]
       | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
       | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
  chown -R 200000:200000 "$BUNDLE/rootfs"
  # the mapped root must be able to reach its rootfs: bats' temp dirs are 0700
  d=$BUNDLE; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%u:%g" /bin/busybox; echo x > /dev/null && echo devnull-ok; readlink /proc/self/ns/user'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$(echo ${lines[0]})" == "0 200000 65536" ]]
  [[ "$(echo ${lines[1]})" == "0 200000 65536" ]]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = 0:0 ]
  [ "${lines[4]}" = devnull-ok ]
  [ "${lines[5]}" != "$(readlink /proc/self/ns/user)" ]
  no_leftovers
}

@test "namespaces: joining another container's pid, ipc and uts namespaces by path" {
  args sleep 100
  cfg '.hostname = "first"'
  ocirt run -d --bundle "$BUNDLE" "$ID-a"
  pid=$(ocirt state "$ID-a" | jq -r .pid)
  cfg --arg p "/proc/$pid/ns" '.hostname = "" | .linux.namespaces |= map(
      if .type == "pid" then .path = ($p + "/pid") elif .type == "ipc" then .path = ($p + "/ipc")
      elif .type == "uts" then .path = ($p + "/uts") else . end)'
  args sh -c 'for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname; ps -o comm | grep -c sleep; echo "me $$"'
  run "$OCIRT" --root "$ROOT" run --bundle "$BUNDLE" "$ID-b"
  [ "$status" -eq 0 ]
  [[ "$output" == *"$(readlink /proc/$pid/ns/pid)"* ]]
  [[ "$output" == *"$(readlink /proc/$pid/ns/ipc)"* ]]
  [[ "$output" == *"$(readlink /proc/$pid/ns/uts)"* ]]
  [[ "$output" == *first* ]]      # the joined uts namespace's hostname
  # the first container's sleep is visible: same pid namespace, and we are not pid 1 in it
  echo "$output" | grep -qx 1
  run ! grep -qx "me 1" <<<"$output"
  ocirt delete --force "$ID-a"
  no_leftovers "$ID-a"
  no_leftovers "$ID-b"
}

# Kubernetes pods with hostUsers: false: the sandbox makes the user namespace, the pod's
# containers join it (and its net/ipc/uts) by path and make their own mount, pid and cgroup
# namespaces inside it (owned by it: their root mounts /proc, binds with idmap).
@test "namespaces: a user namespace joined by path, with the pod's net/ipc/uts; exec; mappings checked" {
  local map='[{"containerID": 0, "hostID": 200000, "size": 65536}]'
  cfg --argjson m "$map" '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = $m | .linux.gidMappings = $m'
  chown -R 200000:200000 "$BUNDLE/rootfs"
  d=$BUNDLE; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  args sleep 100
  ocirt run -d --bundle "$BUNDLE" "$ID-a" </dev/null
  local pid; pid=$(ocirt state "$ID-a" | jq -r .pid)
  mkdir -p "$BATS_TEST_TMPDIR/src" && echo x > "$BATS_TEST_TMPDIR/src/f" && chown 0:0 "$BATS_TEST_TMPDIR/src/f"
  cfg --arg p "/proc/$pid/ns" --arg s "$BATS_TEST_TMPDIR/src" '.linux.namespaces = [{"type": "pid"}, {"type": "mount"},
      {"type": "cgroup"}, {"type": "user", "path": ($p + "/user")}, {"type": "network", "path": ($p + "/net")},
      {"type": "ipc", "path": ($p + "/ipc")}, {"type": "uts", "path": ($p + "/uts")}]
    | .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind", "idmap"]}]'
  args sh -c 'id -u; cat /proc/self/uid_map; for n in user net ipc uts; do readlink /proc/self/ns/$n; done
    echo "me $$"; ps -o comm | grep -c sleep; stat -c %u /mnt/f; sleep 100'
  ocirt run -d --bundle "$BUNDLE" "$ID-b" > "$BATS_TEST_TMPDIR/out" 2>&1 </dev/null || { cat "$BATS_TEST_TMPDIR/out"; false; }
  local i; for i in $(seq 50); do [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -ge 9 ] && break; sleep 0.1; done
  mapfile -t lines < "$BATS_TEST_TMPDIR/out"
  printf '%s\n' "${lines[@]}"
  [ "${lines[0]}" = 0 ]
  [ "$(echo ${lines[1]})" = "0 200000 65536" ]
  [ "${lines[2]}" = "$(readlink /proc/$pid/ns/user)" ]
  [ "${lines[3]}" = "$(readlink /proc/$pid/ns/net)" ]
  [ "${lines[4]}" = "$(readlink /proc/$pid/ns/ipc)" ]
  [ "${lines[5]}" = "$(readlink /proc/$pid/ns/uts)" ]
  [ "${lines[6]}" = "me 1" ]       # its own pid namespace: pid 1, the sandbox's sleep not seen
  [ "${lines[7]}" = 0 ]
  [ "${lines[8]}" = 0 ]            # idmap through the joined user namespace: the host's root is its root
  local pid_b; pid_b=$(ocirt state "$ID-b" | jq -r .pid)
  [ "$(readlink /proc/$pid_b/ns/pid)" != "$(readlink /proc/$pid/ns/pid)" ]
  [ "$(readlink /proc/$pid_b/ns/mnt)" != "$(readlink /proc/$pid/ns/mnt)" ]
  run ocirt exec "$ID-b" sh -c 'id -u; readlink /proc/self/ns/user'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = "$(readlink /proc/$pid/ns/user)" ]
  ocirt delete --force "$ID-b"
  no_leftovers "$ID-b"
  # mappings given with the path must be the namespace's own
  cfg '.linux.gidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
  run ocirt run --bundle "$BUNDLE" "$ID-c"
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.gidMappings: not the mappings of the user namespace /proc/$pid/ns/user (its gid_map: 0 200000 65536)"* ]]
  no_leftovers "$ID-c"
  ocirt delete --force "$ID-a"
  no_leftovers "$ID-a"
}

@test "process attributes: personality, ioPriority, scheduler, execCPUAffinity, memoryPolicy" {
  cfg '.linux.personality = {"domain": "LINUX32"}
       | .process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}
       | .process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}
       | .process.execCPUAffinity = {"initial": "0", "final": "0"}
       | .linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0"}'
  args sh -c 'uname -m; ionice -p $$; cut -d" " -f19,41 /proc/self/stat; grep Cpus_allowed_list /proc/self/status; grep -c bind:0 /proc/self/numa_maps'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = i686 ]
  [ "${lines[1]}" = "best-effort: prio 6" ]
  [ "${lines[2]}" = "7 3" ]          # nice 7, policy 3 = SCHED_BATCH
  [[ "${lines[3]}" == *"	0" ]]
  [ "${lines[4]}" -gt 0 ]
}

@test "process attributes: invalid values are refused with the field" {
  cfg '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 0}'
  args true
  run_ctr
  [[ "$output" == *"process.scheduler.priority: must be 1..99 with SCHED_FIFO"* ]]
  cfg 'del(.process.scheduler) | .process.execCPUAffinity = {"initial": "x-y"}'
  run_ctr
  [[ "$output" == *'process.execCPUAffinity.initial: "x-y" is not a list'* ]]
  cfg 'del(.process.execCPUAffinity) | .linux.intelRdt = {"closID": "x"}'
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.intelRdt"* ]]
  no_leftovers
}

@test "LSM: AppArmor and SELinux settings are skipped (debug log) when the host has neither" {
  [ ! -e /sys/fs/selinux/enforce ] || skip "SELinux is enabled here"
  [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "AppArmor is enabled here"
  cfg '.process.apparmorProfile = "some-profile" | .process.selinuxLabel = "system_u:system_r:container_t:s0" | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  args cat /proc/self/attr/current
  run "$OCIRT" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID"
  # (--debug writes runc's logfmt: the message's quotes come escaped)
  [[ "$output" == *'level=debug msg="process.apparmorProfile: AppArmor is not enabled on this host; profile '*'some-profile'*' not applied'* ]]
  [[ "$output" == *'SELinux is not enabled on this host'* ]]
  no_leftovers
}

@test "seccomp: the filter is active (mode 2) and a denied syscall returns the configured errno" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42},
                     {"names": ["no_such_syscall_name"], "action": "SCMP_ACT_KILL"}]}'
  cfg '.root.readonly = false'
  args sh -c 'grep ^Seccomp: /proc/self/status; mkdir /newdir; echo rc=$?'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"Seccomp:	2"* ]]
  # errno 42 is ENOMSG: "No message of desired type"
  [[ "$output" == *"No message of desired type"* ]]
  [[ "$output" == *"rc=1"* ]]
  [ ! -d "$BUNDLE/rootfs/newdir" ]
}

@test "idmapped mounts: explicit uidMappings/gidMappings show mapped owners; the host files are unchanged" {
  mkdir -p "$BATS_TEST_TMPDIR/src/sub"
  echo x > "$BATS_TEST_TMPDIR/src/f"
  echo y > "$BATS_TEST_TMPDIR/src/sub/g"
  chown 0:0 "$BATS_TEST_TMPDIR/src/f"
  chown 7:7 "$BATS_TEST_TMPDIR/src/sub/g"
  cfg --arg s "$BATS_TEST_TMPDIR/src" '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s,
      "options": ["rbind", "ridmap"],
      "uidMappings": [{"containerID": 0, "hostID": 1234, "size": 100}],
      "gidMappings": [{"containerID": 0, "hostID": 5678, "size": 100}]}]'
  args sh -c 'stat -c %u:%g /mnt/f /mnt/sub/g; grep " /mnt " /proc/self/mountinfo'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1234:5678 ]
  [ "${lines[1]}" = 1241:5685 ]
  [[ "${lines[2]}" == *idmapped* ]]
  [ "$(stat -c %u:%g "$BATS_TEST_TMPDIR/src/f")" = 0:0 ]
  no_leftovers
}

@test "idmapped mounts: idmap without mappings uses the container's user namespace" {
  mkdir -p "$BATS_TEST_TMPDIR/src"
  echo x > "$BATS_TEST_TMPDIR/src/f"
  chown 0:0 "$BATS_TEST_TMPDIR/src/f"
  cfg --arg s "$BATS_TEST_TMPDIR/src" '.linux.namespaces += [{"type": "user"}]
       | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
       | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
       | .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind", "idmap"]}]'
  chown -R 200000:200000 "$BUNDLE/rootfs"
  d=$BUNDLE; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  args sh -c 'stat -c %u:%g /mnt/f; echo new > /mnt/new; stat -c %u:%g /mnt/new'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0:0 ]
  [ "${lines[1]}" = 0:0 ]
  # written as the container's root, stored on disk as the host's root
  [ "$(stat -c %u:%g "$BATS_TEST_TMPDIR/src/new")" = 0:0 ]
  no_leftovers
}

@test "idmapped mounts: refused for non-bind mounts and without a user namespace, with the field" {
  cfg '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}]'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"mounts[7]: idmapped mounts are supported for bind mounts only"* ]]
  cfg '.mounts[7] = {"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]}'
  run_ctr
  [[ "$output" == *"mounts[7].options: idmap without uidMappings needs a user namespace"* ]]
  no_leftovers
}
