#!/usr/bin/env bats
# containerd (its runc v2 shim) with --runc-binary oci-rt, and the same scenarios with runc.
# A private containerd (own root, state and socket) is started and stopped here, by pid; the
# busybox image is a local OCI archive (podman save of the imported rootfs), no network.

load ../integration/helpers
load clients
bats_require_minimum_version 1.5.0

setup_file() {
  setup_template
  export CT=/var/tmp/oci-rt-containerd-$$ CS=/run/oci-rt-containerd-$$ CGP=ocirt-ctd-$$
  mkdir -p "$CT" "$CS"
  cat > "$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CS/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CS/containerd.sock"
[ttrpc]
  address = "$CS/containerd-ttrpc.sock"
EOF
  containerd --config "$CT/config.toml" >"$CT/containerd.log" 2>&1 &
  echo $! > "$CT/pid"
  local i
  for i in $(seq 100); do [ -S "$CS/containerd.sock" ] && break; sleep 0.1; done
  # the image: the test rootfs as an OCI archive (through a private podman store)
  export CONTAINERS_STORAGE_CONF=$CT/storage.conf
  printf '[storage]\ndriver = "vfs"\nrunroot = "%s/podman-run"\ngraphroot = "%s/podman"\n' "$CS" "$CT" > "$CT/storage.conf"
  tar -C "$TEMPLATE/rootfs" -cf "$CT/rootfs.tar" .
  podman import "$CT/rootfs.tar" localhost/ocirt-bb:latest >/dev/null
  podman save --format oci-archive -o "$CT/image.tar" localhost/ocirt-bb:latest >/dev/null 2>&1
  podman rmi -a -f >/dev/null 2>&1
  ctr --address "$CS/containerd.sock" -n ocirt-test images import --base-name localhost/ocirt-bb "$CT/image.tar" >/dev/null
}

teardown_file() {
  local pid
  pid=$(cat "$CT/pid" 2>/dev/null)
  # the shims of this containerd (by the address they were given), then containerd, by pid
  for p in $(grep -l -- "$CS/containerd.sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" = "$pid" ] || kill -9 "$p" 2>/dev/null
  done
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$CT" "$CS"
  for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$CGP" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

setup() { :; }
teardown() {
  local t
  for t in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$t" >/dev/null 2>&1; done
  sleep 0.2
  for t in $(c task ls -q 2>/dev/null); do c task rm -f "$t" >/dev/null 2>&1; done
  for t in $(c containers ls -q 2>/dev/null); do c containers rm "$t" >/dev/null 2>&1; done
}

c() { ctr --address "$CS/containerd.sock" -n ocirt-test "$@"; }

# binary RT: the runtime binary; the shim keeps its state in RUNC_ROOT (ours, per runtime)
binary() { [ "$1" = ocirt ] && echo "$OCIRT" || echo /usr/sbin/runc; }
# cr RT ARGS... NAME CMD...: ctr run with that runtime binary, a private runtime root, our cgroup parent
cr() {
  local rt=$1; shift
  c run --runc-binary "$(binary "$rt")" --runc-root "$CS/root-$rt" "$@"
}


img=localhost/ocirt-bb:latest
cg() { echo "/$CGP/$1"; }

s_run_rm() {
  run cr "$1" --rm --cgroup "$(cg a-$1)" $img a-$1 echo hello
  [ "$status" -eq 0 ] && [ "$output" = hello ] || { echo "$status $output"; return 1; }
  run cr "$1" --rm --cgroup "$(cg b-$1)" $img b-$1 sh -c 'exit 7'
  [ "$status" -eq 7 ] || { echo "exit: $status"; return 1; }
  # nothing left in the runtime's root after delete
  [ -z "$(ls "$CS/root-$1/ocirt-test" 2>/dev/null)" ] || { ls -la "$CS/root-$1/ocirt-test"; return 1; }
}
@test "containerd: ctr run --rm: output, exit status, empty runtime root afterwards" { both s_run_rm; }

s_env_memory_mount() {
  mkdir -p "$CT/share-$1" && echo data > "$CT/share-$1/f"
  run cr "$1" --rm --cgroup "$(cg m-$1)" --env FOO=bar --mount "type=bind,src=$CT/share-$1,dst=/share,options=rbind:ro" \
    $img m-$1 sh -c 'echo $FOO; cat /share/f; touch /share/x 2>&1 | grep -c Read-only'
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "${lines[*]}" = "bar data 1" ] || { echo "got: ${lines[*]}"; return 1; }
  # ctr's spec mounts no cgroupfs: the limit is read on the host while the task runs
  local t=l-$1
  cr "$1" -d --cgroup "$(cg $t)" --memory-limit 67108864 $img $t sleep 1000 >/dev/null || return 1
  local f=/sys/fs/cgroup/memory/$CGP/$t/memory.limit_in_bytes
  [ -e "$f" ] || f=/sys/fs/cgroup/$CGP/$t/memory.max
  [ "$(cat "$f")" = 67108864 ] || { echo "limit: $(cat "$f")"; return 1; }
  c task kill -s KILL $t >/dev/null
  local i
  for i in $(seq 50); do [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = STOPPED ] && break; sleep 0.1; done
  c task rm $t >/dev/null && c containers rm $t
}
@test "containerd: env, memory limit, a read-only bind mount" { both s_env_memory_mount; }

s_exec_ps_pause_kill_metrics() {
  local t=d-$1
  cr "$1" -d --cgroup "$(cg $t)" $img $t sleep 1000 >/dev/null || return 1
  run c task exec --exec-id e1 $t sh -c 'echo execd; exit 4'
  [ "$status" -eq 4 ] && [ "$output" = execd ] || { echo "exec: $status $output"; return 1; }
  run c task ps $t
  [ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || { echo "ps: $output"; return 1; }
  local pid; pid=$(c task ls | awk -v t=$t '$1 == t {print $2}')
  [[ "$output" == *"$pid"* ]] || return 1
  c task pause $t || return 1
  [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = PAUSED ] || return 1
  c task resume $t || return 1
  [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = RUNNING ] || return 1
  run c task metrics $t
  [ "$status" -eq 0 ] && [[ "$output" == *"pids.current"* || "$output" == *"pids"* ]] || { echo "metrics: $output"; return 1; }
  c task kill -s KILL $t || return 1
  local i
  for i in $(seq 50); do [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = STOPPED ] && break; sleep 0.1; done
  [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = STOPPED ] || return 1
  c task rm $t >/dev/null && c containers rm $t || return 1
  [ -z "$(ls "$CS/root-$1/ocirt-test" 2>/dev/null)" ] || { echo "state left: $(ls "$CS/root-$1/ocirt-test")"; return 1; }
}
@test "containerd: -d, task exec, task ps, pause/resume, metrics, kill, delete" { both s_exec_ps_pause_kill_metrics; }

s_tty() {
  run script -qec "ctr --address $CS/containerd.sock -n ocirt-test run --runc-binary $(binary "$1") --runc-root $CS/root-$1 --rm -t --cgroup $(cg t-$1) $img t-$1 tty" /dev/null
  [ "$status" -eq 0 ] && [[ "$output" == *"/dev/pts/0"* ]] || { echo "tty: $status $output"; return 1; }
}
@test "containerd: ctr run -t gives the container a terminal" { both s_tty; }

# The shim's `exec --process FILE --console-socket SOCK --detach` with "terminal": true in the
# file and no --tty (kubectl exec -it on a containerd node takes this path).
s_exec_tty() {
  local t=x-$1
  cr "$1" -d --cgroup "$(cg $t)" $img $t sleep 1000 >/dev/null || return 1
  run script -qec "ctr --address $CS/containerd.sock -n ocirt-test task exec -t --exec-id e2 $t sh -c 'tty; exit 3'" /dev/null
  [ "$status" -eq 3 ] && [[ "$output" == *"/dev/pts/"* ]] || { echo "exec -t: $status $output"; return 1; }
  c task kill -s KILL $t >/dev/null || return 1
  local i
  for i in $(seq 50); do [ "$(c task ls | awk -v t=$t '$1 == t {print $3}')" = STOPPED ] && break; sleep 0.1; done
  c task rm $t >/dev/null && c containers rm $t
}
@test "containerd: task exec -t (the terminal comes from the process file, as with runc)" { both s_exec_tty; }
