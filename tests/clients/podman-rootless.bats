#!/usr/bin/env bats
# Rootless podman (as a user made for this file, with subordinate ranges of its own): podman
# runs the runtime as root in its own user namespace, without privileges on the host. vfs
# storage, --network none, the cgroupfs manager (on this host the user has no delegated
# cgroup: podman runs without one). Every scenario with oci-rt, then runc.

load ../integration/helpers
load ../integration/rootless
load clients
bats_require_minimum_version 1.5.0

setup_file() {
  setup_template
  RL_SUBID_START=400000 setup_rootless_user ocirt-prl
  export RL_SUBID_START=400000
  mkdir -p "$RL_DIR/.config/containers"
  cat > "$RL_DIR/.config/containers/containers.conf" <<EOF2
[containers]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime_supports_json = ["runc", "ocirt"]
[engine.runtimes]
ocirt = ["$RL_BIN"]
runc = ["/usr/sbin/runc"]
EOF2
  cat > "$RL_DIR/.config/containers/storage.conf" <<EOF2
[storage]
driver = "vfs"
EOF2
  tar -C "$TEMPLATE/rootfs" -cf "$RL_DIR/rootfs.tar" .
  chown -R "$RL_UID:$RL_GID" "$RL_DIR"
  as_user podman import "$RL_DIR/rootfs.tar" localhost/ocirt-bb:latest >/dev/null 2>&1
}

teardown_file() {
  as_user podman rm -a -f -t 0 >/dev/null 2>&1 || true
  teardown_rootless_user
}

setup() { :; }
teardown() {
  as_user podman rm -a -f -t 0 >/dev/null 2>&1 || true
}

img=localhost/ocirt-bb:latest
# pu RT ARGS...: podman run as the user with runtime RT
pu() {
  local rt=$1; shift
  # (--log-level error: without it podman warns that / is not a shared mount, on every call)
  as_user podman --log-level error --runtime "$rt" run "$@"
}

s_run() {
  run pu "$1" --rm $img sh -c 'echo hello; id -u; cat /proc/self/uid_map | wc -l'
  [ "$status" -eq 0 ] && [ "${lines[*]}" = "hello 0 2" ] || { echo "run: $status ${lines[*]}"; return 1; }
  run pu "$1" --rm $img sh -c 'exit 42'
  [ "$status" -eq 42 ] || { echo "exit status: $status"; return 1; }
  run -127 pu "$1" --rm $img /nonexistent
  [ "$status" -eq 127 ] || { echo "missing binary: $status $output"; return 1; }
}
@test "rootless podman: run (output, the user namespace podman made, exit status, missing binary)" { both s_run; }

s_user_tty() {
  # --user 1000: a subordinate id of the test user (podman maps them)
  run pu "$1" --rm --user 1000:1000 $img sh -c 'id -u; id -g; touch /dev/shm/x && stat -c %u /dev/shm/x'
  [ "$status" -eq 0 ] && [ "${lines[*]}" = "1000 1000 1000" ] || { echo "user: $status ${lines[*]}"; return 1; }
  run pu "$1" --rm -t $img sh -c 'tty; [ -t 0 ] && echo stdin-is-tty' </dev/null
  [ "$status" -eq 0 ] && [[ "$output" == *"/dev/pts/0"* && "$output" == *stdin-is-tty* ]] || { echo "tty: $output"; return 1; }
}
@test "rootless podman: --user, -t" { both s_user_tty; }

s_exec_stop_rm() {
  local c=ocirt-prl-$1 st
  pu "$1" -d --name $c $img sh -c 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null || return 1
  run as_user podman exec $c sh -c 'echo in; cat /proc/1/cmdline | tr "\0" " "; exit 5'
  [ "$status" -eq 5 ] && [[ "$output" == "in"*"sh -c"* ]] || { echo "exec: $status $output"; return 1; }
  run as_user podman exec -t $c tty
  [[ "$output" == */dev/pts/* ]] || { echo "exec -t: $output"; return 1; }
  run as_user podman exec --user 1000 $c id -u
  [ "$output" = 1000 ] || { echo "exec --user: $output"; return 1; }
  local i
  for i in $(seq 100); do as_user podman logs $c 2>/dev/null | grep -q ready && break; sleep 0.1; done
  as_user podman stop -t 10 $c >/dev/null || { echo "stop failed"; return 1; }
  st=$(as_user podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' $c)
  [ "$st" = "exited 3" ] || { echo "after stop: $st"; return 1; }
  as_user podman rm $c >/dev/null || { echo "rm failed"; return 1; }
  [ -z "$(as_user podman ps -a -q)" ] || { echo "containers left"; return 1; }
}
@test "rootless podman: -d, exec (status, -t, --user), stop (SIGTERM reaches the trap), rm" { both s_exec_stop_rm; }

s_pod() {
  local pod=ocirt-prl-pod-$1
  # a pod sharing its infra container's pid namespace: the runtime (root in podman's user
  # namespace) may enter it but not come back, so the init joins it itself
  as_user podman --runtime "$1" pod create --name $pod --share pid,ipc,uts >/dev/null || return 1
  # started on its own: its conmon would otherwise keep the output pipe of the first `run`
  as_user podman pod start $pod </dev/null >/dev/null 2>&1 || { echo "pod start failed"; return 1; }
  run pu "$1" --rm --pod $pod $img sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; hostname'
  [ "$status" -eq 0 ] && [[ "${lines[0]}" == *catatonit* ]] || { echo "pod: $status $output"; return 1; }
  pu "$1" -d --name $pod-c --pod $pod $img sleep 1000 >/dev/null || return 1
  run as_user podman exec $pod-c sh -c 'ps -o comm | grep -c sleep'
  [ "$output" = 1 ] || { echo "exec in pod: $output"; return 1; }
  as_user podman pod rm -f -t 0 $pod >/dev/null || { echo "pod rm failed"; return 1; }
}
@test "rootless podman: a pod sharing pid, ipc and uts (containers join the infra's namespaces by path)" { both s_pod; }

@test "rootless podman: oci-rt leaves no state or process behind" {
  pu ocirt --rm $img true
  [ -z "$(as_user podman ps -a -q)" ]
  # conmon gives oci-rt a --root below the user's XDG_RUNTIME_DIR: no container is left there
  run sh -c "find '$RL_XDG' -name state.json -path '*ocirt*'"
  [ -z "$output" ]
  # the user's processes: podman's pause process (holding its user namespace) and nothing else
  # (conmon runs podman's cleanup after a --rm container as the user: it gets a few seconds)
  local p left= pause i
  pause=$(cat "$RL_XDG/libpod/tmp/pause.pid" 2>/dev/null)
  for i in $(seq 50); do
    left=
    for p in $(pgrep -u "$RL_UID"); do
      grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && continue
      [ "$p" = "$pause" ] && continue
      left="$left $p"
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || { for p in $left; do ps -o pid,args -p $p; done; false; }
}
