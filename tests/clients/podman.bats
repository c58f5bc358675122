#!/usr/bin/env bats
# podman (through conmon) with --runtime oci-rt, and the same scenarios with runc side by side.
# No network: the image is a busybox-static rootfs made here and `podman import`ed. podman's
# storage, run root and config are private to this file; its cgroups go under a parent named
# after this run (removed at the end); tests/run.sh runs this file in a private mount namespace.

load ../integration/helpers
load clients
bats_require_minimum_version 1.5.0

setup_file() {
  setup_template
  export PT=/var/tmp/oci-rt-podman-$$ PRUN=/run/oci-rt-podman-$$
  mkdir -p "$PT"
  cat > "$PT/containers.conf" <<EOF
[containers]
netns = "none"
log_driver = "k8s-file"
# root here lacks CAP_SYS_RESOURCE: podman's default 1048576 nofile/nproc cannot be set (runc fails too)
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PT/events.log"
# as contrib/podman/containers.conf: podman reads our JSON logs (runc's words)
runtime_supports_json = ["runc", "ocirt"]
[engine.runtimes]
ocirt = ["$OCIRT"]
runc = ["/usr/sbin/runc"]
EOF
  cat > "$PT/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$PRUN"
graphroot = "$PT/storage"
EOF
  export CONTAINERS_CONF=$PT/containers.conf CONTAINERS_STORAGE_CONF=$PT/storage.conf
  export PARENT=/ocirt-podman-test-$$
  # podman puts conmon in <hierarchy>/libpod_parent/conmon whatever the parent: remove it at
  # the end unless it was there before
  export HAD_LIBPOD=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null | head -1)
  # conmon runs oci-rt with its default root: its seccomp cache is made there
  export HAD_SCCACHE=$(ls -d /run/oci-rt/.seccomp-cache 2>/dev/null)
  tar -C "$TEMPLATE/rootfs" -cf "$PT/rootfs.tar" .
  podman import "$PT/rootfs.tar" localhost/ocirt-bb:latest >/dev/null
}

teardown_file() {
  podman rm -a -f -t 0 >/dev/null 2>&1 || true
  podman rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$PT" "$PRUN"
  [ -n "$HAD_SCCACHE" ] || rm -rf /run/oci-rt/.seccomp-cache
  local d
  local extra=""
  [ -n "$HAD_LIBPOD" ] || extra="-o -name libpod_parent"
  for d in $(find /sys/fs/cgroup -maxdepth 3 -type d \( -name "${PARENT#/}" $extra \) 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# the bats helpers' per-test set-up is not needed here
setup() { :; }
teardown() {
  podman rm -a -f -t 0 >/dev/null 2>&1 || true
}

# pr RT ARGS...: podman run with runtime RT (ocirt or runc), our cgroup parent, the image
pr() {
  local rt=$1; shift
  podman --runtime "$rt" run --cgroup-parent "$PARENT" "$@"
}


img=localhost/ocirt-bb:latest

s_output_exit() {
  run pr "$1" --rm $img echo hello
  [ "$status" -eq 0 ] && [ "$output" = hello ] || return 1
  run pr "$1" --rm $img sh -c 'exit 42'
  [ "$status" -eq 42 ] || return 1
  run -127 pr "$1" --rm $img /nonexistent
  [ "$status" -eq 127 ] && [[ "$output" == *"not found"* ]] || { echo "missing binary: $status $output"; return 1; } || { echo "missing binary gave $status: $output"; return 1; }
}
@test "podman: output, exit status, missing executable" { both s_output_exit; }

s_env_user_workdir_hostname() {
  run pr "$1" --rm -e FOO=bar --user 65534:65534 --workdir /tmp --hostname box $img sh -c 'echo $FOO; id -u; id -g; pwd; hostname'
  [ "$status" -eq 0 ] || return 1
  [ "${lines[*]}" = "bar 65534 65534 /tmp box" ] || { echo "got: ${lines[*]}"; return 1; }
}
@test "podman: -e, --user, --workdir, --hostname" { both s_env_user_workdir_hostname; }

s_tty() {
  run pr "$1" --rm -t $img sh -c 'tty; [ -t 0 ] && echo stdin-is-tty' </dev/null
  [ "$status" -eq 0 ] || return 1
  [[ "$output" == *"/dev/pts/0"* && "$output" == *stdin-is-tty* ]]
}
@test "podman: -t gives the container a terminal" { both s_tty; }

s_detach_exec_top() {
  local c=ocirt-pm-$1
  pr "$1" -d --name $c $img sleep 1000 >/dev/null || return 1
  run podman exec $c sh -c 'echo in; exit 5'
  [ "$status" -eq 5 ] && [ "$output" = in ] || { echo "exec: $status $output"; return 1; }
  run podman exec -t $c tty
  [[ "$output" == */dev/pts/* ]] || { echo "exec -t: $output"; return 1; }
  # the exec'd process sees the container's pid namespace and cgroup
  run podman exec $c sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  [[ "$output" == "sleep 1000"* ]] || { echo "exec pid 1: $output"; return 1; }
  run podman top $c pid comm
  [ "$status" -eq 0 ] && [[ "$output" == *sleep* ]] || { echo "top: $output"; return 1; }
  podman rm -f -t 0 $c >/dev/null
}
@test "podman: -d, exec (plain and -t, exit status), top" { both s_detach_exec_top; }

s_pause_stop_kill() {
  local c=ocirt-pm-$1 st
  pr "$1" -d --name $c $img sleep 1000 >/dev/null || return 1
  podman pause $c >/dev/null || { echo "pause failed"; return 1; }
  st=$(podman inspect --format '{{.State.Status}}' $c)
  [ "$st" = paused ] || { echo "after pause: $st"; return 1; }
  podman unpause $c >/dev/null || { echo "unpause failed"; return 1; }
  st=$(podman inspect --format '{{.State.Status}}' $c)
  [ "$st" = running ] || { echo "after unpause: $st"; return 1; }
  podman kill $c >/dev/null || { echo "kill failed"; return 1; }
  podman wait $c >/dev/null
  st=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' $c)
  [ "$st" = "exited 137" ] || { echo "after kill: $st"; return 1; }
  podman rm $c >/dev/null
  pr "$1" -d --name $c $img sh -c 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null || return 1
  local i
  for i in $(seq 100); do podman logs $c 2>/dev/null | grep -q ready && break; sleep 0.1; done
  podman stop -t 10 $c >/dev/null || { echo "stop failed"; return 1; }
  st=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' $c)
  [ "$st" = "exited 3" ] || { echo "after stop: $st"; return 1; }
  podman rm $c >/dev/null
}
@test "podman: pause/unpause, kill, stop (SIGTERM reaches the process)" { both s_pause_stop_kill; }

s_limits() {
  run pr "$1" --rm --memory 64m --pids-limit 50 --cpus 0.5 --cgroupns private $img sh -c \
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
  [ "$status" -eq 0 ] || return 1
  [ "${lines[*]}" = "67108864 50 50000 100000" ] || { echo "got: ${lines[*]}"; return 1; }
}
@test "podman: --memory, --pids-limit, --cpus reach the cgroup" { both s_limits; }

s_security() {
  run pr "$1" --rm --read-only $img touch /x
  [ "$status" -ne 0 ] && [[ "$output" == *"Read-only"* ]] || return 1
  run pr "$1" --rm --cap-drop all --cap-add NET_ADMIN $img grep CapEff /proc/self/status
  [[ "$output" == *"0000000000001000" ]] || { echo "caps: $output"; return 1; }
  run pr "$1" --rm --security-opt no-new-privileges $img grep NoNewPrivs /proc/self/status
  [[ "$output" == *1 ]] || return 1
  # podman's default seccomp profile is in force (filter mode); unconfined has none
  run pr "$1" --rm $img grep "^Seccomp:" /proc/self/status
  [[ "$output" == *"Seccomp:"*2 ]] || { echo "seccomp: $output"; return 1; }
  run pr "$1" --rm --security-opt seccomp=unconfined $img grep "^Seccomp:" /proc/self/status
  [[ "$output" == *"Seccomp:"*0 ]] || { echo "unconfined: $output"; return 1; }
}
@test "podman: --read-only, --cap-drop/--cap-add, no-new-privileges, the default seccomp profile" { both s_security; }

s_volumes_tmpfs_device() {
  mkdir -p "$PT/vol-$1" && echo hi > "$PT/vol-$1/f"
  run pr "$1" --rm -v "$PT/vol-$1:/v:ro" $img sh -c 'cat /v/f; touch /v/g'
  [[ "$output" == *hi* && "$output" == *"Read-only"* ]] || { echo "ro: $output"; return 1; }
  run pr "$1" --rm -v "$PT/vol-$1:/v" $img sh -c 'echo written > /v/g'
  [ "$status" -eq 0 ] && [ "$(cat "$PT/vol-$1/g")" = written ] || return 1
  run pr "$1" --rm --tmpfs /scratch $img sh -c 'grep " /scratch " /proc/mounts'
  [[ "$output" == "tmpfs /scratch tmpfs"* ]] || { echo "tmpfs: $output"; return 1; }
  run pr "$1" --rm --device /dev/loop0 $img sh -c 'ls -l /dev/loop0; dd if=/dev/loop0 of=/dev/null count=1 2>/dev/null && echo readable'
  [ "$status" -eq 0 ] && [[ "$output" == b* && "$output" == *"7,"*"0"* ]] || { echo "device: $output"; return 1; }
  [[ "$output" == *readable* ]]
}
@test "podman: -v ro and rw, --tmpfs, --device" { both s_volumes_tmpfs_device; }

s_stats_update() {
  local c=ocirt-pm-$1
  pr "$1" -d --name $c --memory 64m $img sleep 1000 >/dev/null || return 1
  run podman stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' $c
  [ "$status" -eq 0 ] && [[ "$output" == "$c 1 "* ]] || { echo "stats: $output"; return 1; }
  podman update --memory 128m --cpu-quota 20000 --cpu-period 100000 $c >/dev/null || { echo "update failed"; return 1; }
  run podman exec $c cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us
  [ "${lines[*]}" = "134217728 20000" ] || { echo "after update: ${lines[*]}"; return 1; }
  podman rm -f -t 0 $c >/dev/null
}
@test "podman: stats, update (memory, cpu) of a running container" { both s_stats_update; }

s_many() {
  local i
  for i in $(seq 15); do
    pr "$1" --rm $img true || { echo "run $i failed"; return 1; }
  done
  [ -z "$(podman ps -a -q)" ]
}
@test "podman: 15 runs in a row, nothing left" { both s_many; }

@test "podman: oci-rt leaves no state, cgroup or mount behind" {
  pr ocirt --rm $img true
  [ -z "$(podman ps -a -q)" ]
  # conmon passes --root /run/oci-rt... per runtime; nothing of a removed container remains
  # (the integration tests' roots, /run/oci-rt-test-*, are not podman's: a bats run beside
  # this one has its containers' fifos there)
  [ -z "$(find /run -maxdepth 3 -path '*ocirt*' -not -path '/run/oci-rt-test-*' -name '*.fifo' 2>/dev/null)" ]
  [ -z "$(find /sys/fs/cgroup -mindepth 3 -maxdepth 4 -path "*${PARENT}/libpod-*" -type d 2>/dev/null)" ]
  run ! grep -q "$PT" /proc/self/mountinfo
}
