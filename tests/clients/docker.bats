#!/usr/bin/env bats
# Docker (Debian 12's docker.io 20.10: dockerd -> containerd -> the io.containerd.runc.v2 shim ->
# the runtime) with oci-rt registered as contrib/docker/daemon.json does it, and the same
# scenarios with runc. A private containerd and dockerd (own data root, exec root, sockets,
# pidfiles, config file; no bridge, no iptables) are started here and stopped by pid; the image
# is the test rootfs `docker import`ed, no network; cgroups go under /ocirt-dk-<pid>.
# /usr/local/bin/docker may be another Docker's client: /usr/bin/docker is called by its path.

load ../integration/helpers
load clients
bats_require_minimum_version 1.5.0

setup_file() {
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || skip "docker.io is not installed (contrib/install-deps.sh --tests)"
  command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null ||
    skip "containerd is not installed (contrib/install-deps.sh --tests)"
  setup_template
  export DT=/var/tmp/ocirt-dk-$$ DS=/run/ocirt-dk-$$ CGP=ocirt-dk-$$
  mkdir -p "$DT" "$DS"
  # our own containerd: dockerd would otherwise use the host's /run/containerd/containerd.sock
  # when it exists, or start one of its own
  cat > "$DT/containerd.toml" <<EOF
version = 2
root = "$DT/containerd"
state = "$DS/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$DS/containerd.sock"
[ttrpc]
  address = "$DS/containerd-ttrpc.sock"
EOF
  containerd --config "$DT/containerd.toml" >"$DT/containerd.log" 2>&1 &
  echo $! > "$DS/containerd.pid"
  local i
  for i in $(seq 100); do [ -S "$DS/containerd.sock" ] && break; sleep 0.1; done
  # the shipped snippet, with the binary under test
  jq --arg p "$OCIRT" '.runtimes["oci-rt"].path = $p' "$REPO/contrib/docker/daemon.json" > "$DT/daemon.json"
  /usr/sbin/dockerd --config-file "$DT/daemon.json" --data-root "$DT/data" --exec-root "$DS/exec" \
    -H "unix://$DS/docker.sock" --pidfile "$DS/docker.pid" --containerd "$DS/containerd.sock" \
    --bridge none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
    --storage-driver vfs --cgroup-parent "/$CGP" >"$DT/dockerd.log" 2>&1 &
  echo $! > "$DS/dockerd.pid"
  for i in $(seq 300); do d version >/dev/null 2>&1 && break; sleep 0.1; done
  d version >/dev/null || { tail -20 "$DT/dockerd.log"; return 1; }
  # the image: the test rootfs, with a user that has a home
  tar -C "$TEMPLATE/rootfs" --exclude ./etc/passwd -cf "$DT/rootfs.tar" .
  mkdir -p "$DT/extra/etc" "$DT/extra/home/u"
  { cat "$TEMPLATE/rootfs/etc/passwd"; echo "u:x:1001:1001::/home/u:/bin/sh"; } > "$DT/extra/etc/passwd"
  tar -C "$DT/extra" --no-recursion -rf "$DT/rootfs.tar" ./etc/passwd ./home ./home/u
  d import "$DT/rootfs.tar" ocirt-bb:latest >/dev/null
}

teardown_file() {
  [ -n "${DS:-}" ] || return 0
  d rm -f $(d ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  local p pid
  pid=$(cat "$DS/dockerd.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for p in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # shims left (by the containerd address they were given; their socket is under
  # /run/containerd/s, named sha256(address/namespace/id)), then containerd, by pid
  pid=$(cat "$DS/containerd.pid" 2>/dev/null)
  for p in $(grep -l -- "$DS/containerd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = containerd-shim ] || continue
    local id
    id=$(tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -A1 -x -- -id | tail -1)
    kill -9 "$p" 2>/dev/null || true
    [ -n "$id" ] && rm -f "/run/containerd/s/$(printf '%s' "$DS/containerd.sock/moby/$id" | sha256sum | cut -d' ' -f1)"
  done
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for p in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # mounts under our dirs (dockerd's own bind of its data root, a netns left by a kill -9), deepest first
  local m
  for m in $(awk -v a="$DT" -v b="$DS" 'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$DT" "$DS"
  # processes left in our cgroups (a container whose shim was gone), thawed, then killed by pid
  local c procs
  for c in $(find /sys/fs/cgroup/freezer/$CGP -name freezer.state 2>/dev/null); do echo THAWED > "$c" || true; done
  for p in $(seq 50); do
    procs=$(find /sys/fs/cgroup -path "*/$CGP/*" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [ -n "$procs" ] || break
    kill -9 $procs 2>/dev/null || true
    sleep 0.1
  done
  for c in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "$CGP" 2>/dev/null); do
    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # what is left is said (and fails the file)
  local left
  left=$(grep -E "$DT|$DS" /proc/self/mountinfo; find /sys/fs/cgroup -maxdepth 2 -name "$CGP" 2>/dev/null; ls -d "$DT" "$DS" 2>/dev/null)
  [ -z "$left" ] || { echo "# left behind: $left" >&3; return 1; }
}

setup() { :; }
teardown() {
  d rm -f $(d ps -aq 2>/dev/null) >/dev/null 2>&1 || true
}

d() { /usr/bin/docker -H "unix://$DS/docker.sock" "$@"; }
# the runtime's name in dockerd (the snippet calls oci-rt "oci-rt")
rtname() { [ "$1" = ocirt ] && echo oci-rt || echo runc; }
img=ocirt-bb:latest
# dr RT ARGS...: docker run with runtime RT (ocirt or runc), no network
dr() {
  local rt=$1; shift
  d run --network none --runtime "$(rtname "$rt")" "$@"
}
# cgf CONTAINER V1-CONTROLLER V1-FILE V2-FILE: a cgroup file of the container, read on the host
cgf() {
  local id parent
  id=$(d inspect -f '{{.Id}}' "$1") && parent=$(d inspect -f '{{.HostConfig.CgroupParent}}' "$1") || return 1
  parent=${parent:-/$CGP}
  if [ -e "/sys/fs/cgroup/$2$parent/$id/$3" ]; then cat "/sys/fs/cgroup/$2$parent/$id/$3"
  else cat "/sys/fs/cgroup$parent/$id/$4"; fi
}
# cgmem PATH: the memory cgroup directory of a cgroup path (v1 memory hierarchy, or cgroup2)
cgmem() { [ -d /sys/fs/cgroup/memory ] && echo "/sys/fs/cgroup/memory$1" || echo "/sys/fs/cgroup$1"; }
# st CONTAINER: status and exit code
st() { d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"; }
# until_logs CONTAINER WORD: wait until the container printed WORD
until_logs() {
  local i
  for i in $(seq 100); do d logs "$1" 2>&1 | grep -q "$2" && return 0; sleep 0.1; done
  return 1
}

s_run_exit() {
  run dr "$1" --rm $img echo hello
  [ "$status" -eq 0 ] && [ "$output" = hello ] || { echo "run: $status $output"; return 1; }
  run dr "$1" --rm $img sh -c 'exit 42'
  [ "$status" -eq 42 ] || { echo "exit: $status"; return 1; }
  # Docker's 127 and 126 come from the runtime's error words (dockerd and the client read them)
  run -127 dr "$1" --rm $img /nonexistent
  [ "$status" -eq 127 ] && [[ "$output" == *'exec: "/nonexistent"'*"no such file or directory"* ]] || { echo "missing: $status $output"; return 1; }
  run -127 dr "$1" --rm $img nonexistent
  [ "$status" -eq 127 ] && [[ "$output" == *'exec: "nonexistent": executable file not found in $PATH'* ]] || { echo "not in PATH: $status $output"; return 1; }
  run -126 dr "$1" --rm $img /etc/passwd
  [ "$status" -eq 126 ] && [[ "$output" == *'exec: "/etc/passwd": permission denied'* ]] || { echo "not executable: $status $output"; return 1; }
  # nothing of these containers is left in the shim's runtime root (dockerd gives every
  # runtime <exec-root>/runtime-runc) but oci-rt's seccomp cache
  local left
  left=$(ls -A "$DS/exec/runtime-runc/moby" 2>/dev/null | grep -vx .seccomp-cache)
  [ -z "$left" ] || { echo "state left: $left"; return 1; }
}
@test "docker: run --rm output, exit status, 127 and 126 in Docker's words, no state left" { both s_run_exit; }

s_env_user_workdir_hostname() {
  # a uid without a passwd entry: gid 0, HOME /
  run dr "$1" --rm -e FOO=bar --user 1000 -w /tmp --hostname box $img sh -c 'echo $FOO; id -u; id -g; pwd; hostname; echo $HOME'
  [ "$status" -eq 0 ] && [ "${lines[*]}" = "bar 1000 0 /tmp box /" ] || { echo "got: $status ${lines[*]}"; return 1; }
  # a named user: its ids and home from the image's passwd
  run dr "$1" --rm --user u $img sh -c 'id -u; id -g; echo $HOME'
  [ "${lines[*]}" = "1001 1001 /home/u" ] || { echo "u: ${lines[*]}"; return 1; }
  run dr "$1" --rm $img sh -c 'id -u; echo $HOME'
  [ "${lines[*]}" = "0 /root" ] || { echo "root: ${lines[*]}"; return 1; }
}
@test "docker: -e, --user (numeric, named, root; HOME), -w, --hostname" { both s_env_user_workdir_hostname; }

s_tty() {
  run script -qec "/usr/bin/docker -H unix://$DS/docker.sock run --rm -t --network none --runtime $(rtname "$1") $img sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; exit 3'" /dev/null
  [ "$status" -eq 3 ] && [[ "$output" == *"/dev/pts/0"* && "$output" == *stdin-is-tty* ]] || { echo "tty: $status $output"; return 1; }
}
@test "docker: run -t gives the container a terminal" { both s_tty; }

s_exec_top_pause_kill_stop() {
  local c=dk-x-$1
  dr "$1" -d --name $c $img sleep 1000 >/dev/null || return 1
  run d exec $c sh -c 'echo in; exit 5'
  [ "$status" -eq 5 ] && [ "$output" = in ] || { echo "exec: $status $output"; return 1; }
  run script -qec "/usr/bin/docker -H unix://$DS/docker.sock exec -t $c sh -c 'tty; exit 3'" /dev/null
  [ "$status" -eq 3 ] && [[ "$output" == *"/dev/pts/"* ]] || { echo "exec -t: $status $output"; return 1; }
  run d exec $c sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  [ "$output" = "sleep 1000 " ] || { echo "exec pid 1: $output"; return 1; }
  run d top $c
  local pid; pid=$(d inspect -f '{{.State.Pid}}' $c)
  [ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] && [[ "${lines[1]}" == *" $pid "*"sleep 1000" ]] || { echo "top (pid $pid): $output"; return 1; }
  d pause $c >/dev/null || { echo "pause failed"; return 1; }
  [ "$(st $c)" = "paused 0" ] || { echo "after pause: $(st $c)"; return 1; }
  [ "$(cgf $c freezer freezer.state cgroup.freeze)" = FROZEN ] || { echo "freezer: $(cgf $c freezer freezer.state cgroup.freeze)"; return 1; }
  d unpause $c >/dev/null || { echo "unpause failed"; return 1; }
  [ "$(st $c)" = "running 0" ] || { echo "after unpause: $(st $c)"; return 1; }
  d kill $c >/dev/null || { echo "kill failed"; return 1; }
  d wait $c >/dev/null
  [ "$(st $c)" = "exited 137" ] || { echo "after kill: $(st $c)"; return 1; }
  d rm $c >/dev/null || return 1
  # stop: SIGTERM reaches the container's trap (exit 3 well before the 10 s of the SIGKILL)
  dr "$1" -d --name $c $img sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null || return 1
  until_logs $c ready || { echo "not ready: $(d logs $c 2>&1)"; return 1; }
  d stop -t 10 $c >/dev/null || { echo "stop failed"; return 1; }
  [ "$(st $c)" = "exited 3" ] && [ "$(d logs $c 2>&1 | tail -1)" = got-term ] || { echo "after stop: $(st $c) $(d logs $c 2>&1)"; return 1; }
  d rm $c >/dev/null
}
@test "docker: -d, exec (plain, -t, exit status), top, pause/unpause, kill, stop (SIGTERM to a trap)" { both s_exec_top_pause_kill_stop; }

s_limits_stats_update() {
  local c=dk-l-$1
  dr "$1" -d --name $c --memory 64m --pids-limit 50 --cpus 0.5 $img sleep 1000 >/dev/null || return 1
  local got
  got="$(cgf $c memory memory.limit_in_bytes memory.max) $(cgf $c pids pids.max pids.max) $(cgf $c cpu cpu.cfs_quota_us cpu.max)"
  [ "$got" = "67108864 50 50000" ] || [ "$got" = "67108864 50 50000 100000" ] || { echo "limits: $got"; return 1; }
  run d stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' $c
  [ "$status" -eq 0 ] && [[ "$output" == "$c 1 "*"/ 64MiB" ]] || { echo "stats: $output"; return 1; }
  d update --memory 128m --memory-swap 256m --pids-limit 60 $c >/dev/null || { echo "update failed"; return 1; }
  got="$(cgf $c memory memory.limit_in_bytes memory.max) $(cgf $c pids pids.max pids.max)"
  [ "$got" = "134217728 60" ] || { echo "after update: $got"; return 1; }
  d rm -f $c >/dev/null
}
@test "docker: --memory, --pids-limit, --cpus in the container's cgroup; stats; update" { both s_limits_stats_update; }

s_security() {
  # CHOWN (bit 0) and NET_ADMIN (bit 12) only
  run dr "$1" --rm --read-only --cap-drop ALL --cap-add NET_ADMIN --cap-add CHOWN --security-opt no-new-privileges $img \
    sh -c 'exec 2>&1; touch /x; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status'
  [ "$status" -eq 0 ] && [ "${lines[0]}" = "touch: /x: Read-only file system" ] &&
    [ "${lines[*]:1}" = "$(printf 'CapEff:\t0000000000001001 CapBnd:\t0000000000001001 NoNewPrivs:\t1')" ] ||
    { echo "read-only, caps, nnp: $output"; return 1; }
  # the defaults: Docker's capability set, its seccomp profile in filter mode (loaded with
  # CAP_SYS_ADMIN, so NoNewPrivs stays 0), which refuses unshare(CLONE_NEWUSER) (no capability needed)
  run dr "$1" --rm $img sh -c 'exec 2>&1; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; unshare -U true'
  [ "$status" -eq 1 ] && [ "${lines[*]:0:3}" = "$(printf 'CapEff:\t00000000a80425fb NoNewPrivs:\t0 Seccomp:\t2')" ] &&
    [[ "${lines[3]}" == *"Operation not permitted"* ]] || { echo "defaults: $status $output"; return 1; }
  run dr "$1" --rm --security-opt seccomp=unconfined $img sh -c 'grep "^Seccomp:" /proc/self/status; unshare -U true'
  [ "$status" -eq 0 ] && [ "$output" = "$(printf 'Seccomp:\t0')" ] || { echo "unconfined: $status $output"; return 1; }
}
@test "docker: --read-only, --cap-drop/--cap-add, no-new-privileges, default seccomp and unconfined" { both s_security; }

s_volumes_tmpfs_devices() {
  local v=$DT/vol-$1
  mkdir -p "$v" && echo hi > "$v/f"
  run dr "$1" --rm -v "$v:/ro:ro" -v "$v:/rw" --tmpfs /scratch:size=1m --device /dev/null:/dev/mynull $img sh -c \
    'exec 2>&1; cat /ro/f; touch /ro/g; echo written > /rw/g; grep " /scratch " /proc/mounts; ls -l /dev/mynull; echo x > /dev/mynull && echo wrote'
  [ "$status" -eq 0 ] && [ "${lines[0]}" = hi ] && [ "${lines[1]}" = "touch: /ro/g: Read-only file system" ] &&
    [ "$(cat "$v/g")" = written ] || { echo "-v: $output"; return 1; }
  [[ "${lines[2]}" == "tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,"*"size=1024k"* ]] || { echo "tmpfs: $output"; return 1; }
  [[ "${lines[3]}" == crw-rw-rw-*"1, "*3*/dev/mynull && "${lines[4]}" = wrote ]] || { echo "--device renamed: $output"; return 1; }
  # --device: the node is made and the device cgroup lets it be opened; inside, a node may be
  # made (Docker's rules allow mknod of any) but opened only where the rules allow it (c 1:3 yes)
  if [ -c /dev/fuse ]; then
    run dr "$1" --rm --device /dev/fuse $img sh -c 'ls -l /dev/fuse; exec 3<>/dev/fuse && echo opened'
    [ "$status" -eq 0 ] && [[ "${lines[0]}" == c*"10, "*229*/dev/fuse && "${lines[1]}" = opened ]] || { echo "device: $output"; return 1; }
  fi
  run dr "$1" --rm $img sh -c 'exec 2>&1; mknod /tmp/null c 1 3 && echo x > /tmp/null && echo null-ok; mknod /tmp/fuse c 10 229 && echo made; exec 3<>/tmp/fuse && echo opened'
  [ "$status" -ne 0 ] && [ "${lines[*]:0:2}" = "null-ok made" ] && [[ "${lines[2]}" == *"Operation not permitted"* ]] ||
    { echo "mknod: $status $output"; return 1; }
}
@test "docker: -v ro and rw, --tmpfs, --device, mknod under Docker's device rules" { both s_volumes_tmpfs_devices; }

s_restart_init() {
  local c=dk-r-$1 i
  dr "$1" -d --name $c --restart on-failure:2 $img sh -c 'exit 3' >/dev/null || return 1
  for i in $(seq 100); do
    [ "$(d inspect -f '{{.RestartCount}} {{.State.Status}}' $c)" = "2 exited" ] && break
    sleep 0.1
  done
  [ "$(d inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' $c)" = "2 exited 3" ] ||
    { echo "restart: $(d inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' $c)"; return 1; }
  d rm $c >/dev/null || return 1
  run dr "$1" --rm --init $img sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$'
  [ "$status" -eq 0 ] && [[ "${lines[0]}" == "/sbin/docker-init -- sh -c "* ]] && [ "${lines[1]}" != 1 ] ||
    { echo "init: $output"; return 1; }
}
@test "docker: --restart on-failure:2 (restart count), --init (pid 1 is docker-init)" { both s_restart_init; }

# Two containers under one cgroup parent: removing one (rm -f: kill, then delete) and stopping
# a third leave the other running, its cgroup and exec working.
s_neighbour() {
  local p=/$CGP/pair-$1 a=dk-a-$1 b=dk-b-$1 c=dk-c-$1
  dr "$1" -d --name $a --cgroup-parent $p $img sleep 1000 >/dev/null || return 1
  dr "$1" -d --name $b --cgroup-parent $p $img sleep 1000 >/dev/null || return 1
  local ida idb pidb
  ida=$(d inspect -f '{{.Id}}' $a) idb=$(d inspect -f '{{.Id}}' $b) pidb=$(d inspect -f '{{.State.Pid}}' $b)
  d rm -f $a >/dev/null || return 1
  [ "$(st $b)" = "running 0" ] && kill -0 "$pidb" || { echo "b after rm of a: $(st $b)"; return 1; }
  [ ! -e "$(cgmem $p/$ida)" ] || { echo "a's cgroup left"; return 1; }
  grep -qx "$pidb" "$(cgmem $p/$idb)/cgroup.procs" || { echo "b not in its cgroup"; return 1; }
  dr "$1" -d --name $c --cgroup-parent $p $img sleep 1000 >/dev/null || return 1
  d stop -t 1 $c >/dev/null && d rm $c >/dev/null || return 1
  [ "$(st $b)" = "running 0" ] && kill -0 "$pidb" || { echo "b after stop of c: $(st $b)"; return 1; }
  run d exec $b echo alive
  [ "$output" = alive ] || { echo "exec in b: $output"; return 1; }
  d rm -f $b >/dev/null || return 1
  [ -z "$(find /sys/fs/cgroup/*$p /sys/fs/cgroup$p -mindepth 1 -type d 2>/dev/null)" ] ||
    { echo "cgroups left: $(find /sys/fs/cgroup/*$p /sys/fs/cgroup$p -mindepth 1 -type d 2>/dev/null)"; return 1; }
}
@test "docker: two containers under one cgroup parent, one removed, the other keeps running" { both s_neighbour; }

@test "docker: nothing left after the containers are removed (state, cgroups, mounts)" {
  dr ocirt --rm $img true
  dr runc --rm $img true
  [ -z "$(d ps -aq)" ]
  # no container's state in the runtime root (oci-rt's seccomp cache is not one)
  run ls -A "$DS/exec/runtime-runc/moby"
  [ -z "$(echo "$output" | grep -vx .seccomp-cache)" ]
  # no container cgroup under our parent (the pair-* parents were made by Docker's --cgroup-parent)
  run find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -path "*/$CGP/*" -type d -regex '.*/[0-9a-f]\{64\}'
  [ -z "$output" ]
  # no mount under dockerd's or containerd's dirs but dockerd's own bind of its data root
  run awk -v a="$DT" -v b="$DS" '(index($5, a) == 1 || index($5, b) == 1) && $5 != a "/data" {print $5}' /proc/self/mountinfo
  [ -z "$output" ]
}
