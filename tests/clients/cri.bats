#!/usr/bin/env bats
# Kubernetes pods the way the kubelet makes them: CRI calls to containerd's CRI plugin, its runc v2
# shim, then the runtime. Two runtime handlers: "ocirt" (BinaryName = oci-rt) and "runc"; every
# scenario runs with both. The containerd is private (own root, state, sockets, opt dir; stopped by
# pid), its CNI network is a bridge private to this file (no gateway, no masquerading, host-local
# IPAM state in our dir), the images (a static pause built here, the busybox test rootfs) are OCI
# archives made here and imported: no registry, no network. The CRI client is ours
# (cri/cri-client.py: Debian's python3-grpcio and python3-protobuf, cri/cri.proto compiled here
# by protoc); Exec and its terminal go through the CRI streaming server over WebSocket.

load ../integration/helpers
load clients
bats_require_minimum_version 1.5.0

CRID=$BATS_TEST_DIRNAME/cri
PY=/usr/bin/python3
BRIDGE=ocirt-cri0
SUBNET=10.229.0

# what is missing for this file, if anything
missing() {
  local x
  for x in containerd ctr protoc gcc jq ip; do
    command -v "$x" >/dev/null || { echo "no $x"; return; }
  done
  "$PY" -c 'import grpc, google.protobuf' 2>/dev/null || { echo "no python3-grpcio / python3-protobuf"; return; }
  for x in bridge host-local loopback; do
    [ -x /usr/lib/cni/$x ] || { echo "no /usr/lib/cni/$x (containernetworking-plugins)"; return; }
  done
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || ls /usr/lib/*/libc.a >/dev/null 2>&1 || { echo "no static libc (libc6-dev)"; return; }
  # our bridge: one with ports is in use (another run); one without is a crashed run's, removed
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    [ -z "$(ip -o link show master "$BRIDGE")" ] || { echo "bridge $BRIDGE exists and is in use"; return; }
    ip link del "$BRIDGE" || { echo "bridge $BRIDGE exists"; return; }
  fi
  return 0
}

setup_file() {
  export SKIP_WHY
  SKIP_WHY=$(missing)
  [ -z "$SKIP_WHY" ] || return 0
  setup_template
  export CT=/var/tmp/ocirt-cri-$$ CS=/run/ocirt-cri-$$ CGP=ocirt-cri-$$ NET=ocirt-cri-$$
  export CRI_SOCK=$CS/containerd.sock CRI_PB=$CT/pb
  export HAD_CNI_CACHE=$(ls -d /var/lib/cni 2>/dev/null)
  mkdir -p "$CT/cni" "$CT/pb" "$CT/logs" "$CT/pause/rootfs" "$CS"
  cat > "$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CS/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CRI_SOCK"
[ttrpc]
  address = "$CS/containerd-ttrpc.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/ocirt-pause:latest"
  # root here cannot lower oom_score_adj; the sandbox asks for -998
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$CS/root-runc"
        SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirt]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirt.options]
        BinaryName = "$OCIRT"
        Root = "$CS/root-ocirt"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CT/cni"
    max_conf_num = 1
EOF
  cat > "$CT/cni/10-ocirt-cri.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NET",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": false, "isDefaultGateway": false,
     "ipMasq": false, "hairpinMode": false,
     "ipam": {"type": "host-local", "dataDir": "$CT/ipam", "ranges": [[{"subnet": "$SUBNET.0/24"}]]}},
    {"type": "loopback"}
  ]
}
EOF
  containerd --config "$CT/config.toml" >"$CT/containerd.log" 2>&1 &
  echo $! > "$CT/pid"
  protoc -I "$CRID" --python_out="$CRI_PB" cri.proto
  # the client's gRPC side in one process for the whole file (cri-client.py forwards to it)
  "$PY" "$CRID/cri-client.py" serve "$CT/client.sock" >"$CT/client.log" 2>&1 &
  echo $! > "$CT/client.pid"
  export CRI_CLIENT_SOCK=$CT/client.sock
  gcc -static -s -O2 -o "$CT/pause/rootfs/pause" "$CRID/pause.c"
  "$PY" "$CRID/oci-image.py" "$CT/pause/rootfs" localhost/ocirt-pause:latest "$CT/pause.tar" /pause
  "$PY" "$CRID/oci-image.py" "$TEMPLATE/rootfs" localhost/ocirt-bb:latest "$CT/bb.tar"
  local i
  for i in $(seq 100); do [ -S "$CRI_SOCK" ] && [ -S "$CRI_CLIENT_SOCK" ] && break; sleep 0.1; done
  ctr --address "$CRI_SOCK" -n k8s.io images import "$CT/pause.tar" >/dev/null
  ctr --address "$CRI_SOCK" -n k8s.io images import "$CT/bb.tar" >/dev/null
}

teardown_file() {
  [ -n "${CT:-}" ] || return 0
  local pid p m d
  pid=$(cat "$CT/client.pid" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  pid=$(cat "$CT/pid" 2>/dev/null)
  # the shims of this containerd (by the address they were given), then containerd, by pid
  for p in $(grep -l -- "$CRI_SOCK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" = "$pid" ] || kill -9 "$p" 2>/dev/null
  done
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  # what a failure may have left mounted (rootfs, shm, network namespaces): under our dirs only
  for m in $(awk -v a="$CT/" -v b="$CS/" 'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$CT" "$CS"
  ip link del "$BRIDGE" 2>/dev/null || true
  # libcni's result cache (its path is not configurable in containerd 1.6), emptied by a clean
  # teardown: what a failed one left of ours (our network, or containerd's loopback in our netns)
  rm -f /var/lib/cni/results/"$NET"-* $(grep -l -F -- "$CS/" /var/lib/cni/results/cni-loopback-* 2>/dev/null) 2>/dev/null || true
  [ -n "$HAD_CNI_CACHE" ] || rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
  for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$CGP" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

setup() {
  [ -z "$SKIP_WHY" ] || skip "$SKIP_WHY"
}

teardown() {
  [ -z "$SKIP_WHY" ] || return 0
  "$PY" "$CRID/cri-client.py" remove-pods >/dev/null || true
}

# cri METHOD [JSON]: one CRI call, JSON in and out
cri() { "$PY" "$CRID/cri-client.py" call "$@"; }
# xs [--timeout S] CONTAINER CMD...: ExecSync; its stdout/stderr, its exit code
xs() { "$PY" "$CRID/cri-client.py" exec-sync "$@"; }
# stream [--stdin TEXT] [--resize COLSxROWS] URL: an Exec URL over WebSocket
stream() { "$PY" "$CRID/cri-client.py" stream "$@"; }
binary() { [ "$1" = ocirt ] && echo "$OCIRT" || echo /usr/sbin/runc; }
img=localhost/ocirt-bb:latest

# pod RT NAME [PIDMODE]: a pod sandbox on runtime handler RT (pid namespace CONTAINER unless
# PIDMODE=POD), its cgroups under /$CGP/NAME; prints its id. Its config is kept in $CT/pod-NAME.json
pod() {
  local rt=$1 name=$2 pidmode=${3:-CONTAINER}
  jq -n --arg n "$name" --arg cg "/$CGP/$name" --arg logs "$CT/logs/$name" --arg pid "$pidmode" \
    '{metadata: {name: $n, uid: ("uid-" + $n), namespace: "ocirt-cri", attempt: 0}, hostname: $n,
      log_directory: $logs, labels: {test: "ocirt-cri"},
      linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: $pid, ipc: "POD"}}}}' \
    > "$CT/pod-$name.json"
  cri RunPodSandbox "$(jq -c --arg rt "$rt" '{config: ., runtime_handler: $rt}' "$CT/pod-$name.json")" | jq -r .pod_sandbox_id
}
# the kubelet's default masked and read-only paths (pkg/securitycontext, procMount Default)
MASKED='["/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"]'
READONLY='["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]'
# ctr_create POD PODNAME NAME ARGS...: container NAME in that pod running ARGS (the pod's
# namespace options and the masked and read-only paths, as the kubelet passes them; $EXTRA, a JSON
# object, merged into its config); prints its id
ctr_create() {
  local p=$1 podname=$2 name=$3
  shift 3
  local cmd='[]' x
  for x in "$@"; do cmd=$(jq -c --arg x "$x" '. + [$x]' <<<"$cmd"); done
  jq -n --arg p "$p" --arg n "$name" --arg img "$img" --slurpfile sb "$CT/pod-$podname.json" --argjson cmd "$cmd" \
    --argjson masked "$MASKED" --argjson ro "$READONLY" --argjson extra "${EXTRA:-null}" \
    '{pod_sandbox_id: $p, sandbox_config: $sb[0],
      config: ({metadata: {name: $n}, image: {image: $img}, command: $cmd, log_path: ($n + ".log"),
               linux: {security_context: {namespace_options: $sb[0].linux.security_context.namespace_options,
                                          masked_paths: $masked, readonly_paths: $ro}}} * ($extra // {}))}' \
    | cri CreateContainer | jq -r .container_id
}
start() { cri StartContainer "{\"container_id\":\"$1\"}" >/dev/null; }
# verbose status info of a sandbox / a container (the pid, the runtime options, the OCI spec)
pod_info() { cri PodSandboxStatus "{\"pod_sandbox_id\":\"$1\",\"verbose\":true}" | jq -c '.info.info | fromjson'; }
ctr_state() { cri ContainerStatus "{\"container_id\":\"$1\"}" | jq -r .status.state; }
# the runtime's own view of a container (its state dir is under the handler's Root, namespace k8s.io)
rt_status() { "$(binary "$1")" --root "$CS/root-$1/k8s.io" state "$2" 2>/dev/null | jq -r .status; }

# RunPodSandbox with CNI, containers in it: they share the sandbox's network, ipc and uts
# namespaces (not pid: CONTAINER mode, not mnt), see the pod IP and hostname; their output goes to
# the CRI log; ListContainers, ContainerStatus, ListPodSandbox, PodSandboxStatus agree.
s_pod_namespaces() {
  local rt=$1 p st info ip spid c1 c2 c i n pids=()
  p=$(pod "$rt" ns-$rt) && [ -n "$p" ] || return 1
  st=$(cri PodSandboxStatus "{\"pod_sandbox_id\":\"$p\",\"verbose\":true}") || return 1
  [ "$(jq -r .status.state <<<"$st")" = SANDBOX_READY ] || { echo "sandbox: $st"; return 1; }
  [ "$(jq -r .status.runtime_handler <<<"$st")" = "$rt" ] || return 1
  ip=$(jq -r .status.network.ip <<<"$st")
  [[ "$ip" == $SUBNET.* ]] || { echo "pod ip: $ip"; return 1; }
  # the handler's runtime made it: its options name the binary, its Root holds the sandbox
  info=$(jq -c '.info.info | fromjson' <<<"$st")
  [ "$(jq -r .runtimeOptions.binary_name <<<"$info")" = "$(binary "$rt")" ] || { echo "$info"; return 1; }
  [ "$(rt_status "$rt" "$p")" = running ] || { echo "runtime state of the sandbox: $(rt_status "$rt" "$p")"; return 1; }
  spid=$(jq -r .pid <<<"$info")
  [ "$(cat /proc/$spid/comm)" = pause ] || return 1
  c1=$(ctr_create "$p" ns-$rt c1 sh -c 'echo hello-log; echo err-log >&2; exec sleep 1000') && [ -n "$c1" ] || return 1
  c2=$(ctr_create "$p" ns-$rt c2 sleep 1000) && [ -n "$c2" ] || return 1
  start "$c1" && start "$c2" || return 1
  for c in "$c1" "$c2"; do
    run xs "$c" sh -c 'for n in net ipc uts pid mnt; do readlink /proc/self/ns/$n; done; hostname; ip -4 -o addr show eth0'
    [ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 7 ] || { echo "exec: $status $output"; return 1; }
    i=0
    for n in net ipc uts; do
      [ "${lines[i]}" = "$(readlink /proc/$spid/ns/$n)" ] || { echo "$n of $c differs: ${lines[i]}"; return 1; }
      i=$((i + 1))
    done
    for n in pid mnt; do
      [ "${lines[i]}" != "$(readlink /proc/$spid/ns/$n)" ] || { echo "$n of $c shared"; return 1; }
      i=$((i + 1))
    done
    pids+=("${lines[3]}")
    [ "${lines[5]}" = ns-$rt ] || { echo "hostname: ${lines[5]}"; return 1; }
    [[ "${lines[6]}" == *"inet $ip/24 "* ]] || { echo "address: ${lines[6]}"; return 1; }
    # the container's process is in its cgroup under the pod's parent
    local cpid
    cpid=$(cri ContainerStatus "{\"container_id\":\"$c\",\"verbose\":true}" | jq -r '.info.info | fromjson | .pid')
    grep -q ":memory:/$CGP/ns-$rt/$c\$" /proc/$cpid/cgroup || grep -q "^0::/$CGP/ns-$rt/$c\$" /proc/$cpid/cgroup ||
      { echo "cgroup of $c:"; cat /proc/$cpid/cgroup; return 1; }
  done
  [ "${pids[0]}" != "${pids[1]}" ] || { echo "c1 and c2 share ${pids[0]}"; return 1; }
  run cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$p\"}}"
  [ "$(jq -r '[.containers[] | .metadata.name + "=" + .state] | sort | join(" ")' <<<"$output")" = "c1=CONTAINER_RUNNING c2=CONTAINER_RUNNING" ] ||
    { echo "list: $output"; return 1; }
  run cri ContainerStatus "{\"container_id\":\"$c1\"}"
  [ "$(jq -r '.status | .metadata.name + " " + .state + " " + .log_path' <<<"$output")" = "c1 CONTAINER_RUNNING $CT/logs/ns-$rt/c1.log" ] ||
    { echo "status: $output"; return 1; }
  run cri ListPodSandbox "{\"filter\":{\"id\":\"$p\"}}"
  [ "$(jq -r '.items[] | .metadata.name + " " + .state + " " + .runtime_handler' <<<"$output")" = "ns-$rt SANDBOX_READY $rt" ] ||
    { echo "pods: $output"; return 1; }
  # the CRI log of c1: the runtime gave the shim's pipes as stdout and stderr
  grep -q ' stdout F hello-log$' "$CT/logs/ns-$rt/c1.log" && grep -q ' stderr F err-log$' "$CT/logs/ns-$rt/c1.log" ||
    { cat "$CT/logs/ns-$rt/c1.log"; return 1; }
  [ "$(rt_status "$rt" "$c1")" = running ] || return 1
}
@test "CRI: a pod with a CNI network; its containers share net/ipc/uts, see the pod IP; lists and status" { both s_pod_namespaces; }

# namespace_options.pid = POD (shareProcessNamespace): the container sees the pause process
s_shared_pid() {
  local rt=$1 p spid c
  p=$(pod "$rt" pid-$rt POD) && [ -n "$p" ] || return 1
  spid=$(pod_info "$p" | jq -r .pid)
  c=$(ctr_create "$p" pid-$rt c1 sleep 1000) && [ -n "$c" ] && start "$c" || return 1
  [ "$(xs "$c" readlink /proc/self/ns/pid)" = "$(readlink /proc/$spid/ns/pid)" ] || return 1
  run xs "$c" ps -o pid,comm
  [ "$status" -eq 0 ] && [[ "$output" == *"1 pause"* ]] && [[ "$output" == *" sleep"* ]] || { echo "ps: $output"; return 1; }
}
@test "CRI: a pod sharing its pid namespace: the container sees pause as PID 1" { both s_shared_pid; }

# ExecSync (output, exit code, timeout) and Exec through the streaming server: a terminal with
# its size, stdin, separate stdout/stderr, the exit code; Attach to a container's terminal
s_exec() {
  local rt=$1 p c url
  p=$(pod "$rt" ex-$rt) && [ -n "$p" ] || return 1
  c=$(ctr_create "$p" ex-$rt c1 sleep 1000) && [ -n "$c" ] && start "$c" || return 1
  run --separate-stderr xs "$c" sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ] && [ "$output" = out ] && [ "$stderr" = err ] || { echo "exec-sync: $status $output / $stderr"; return 1; }
  run --separate-stderr xs --timeout 1 "$c" sh -c 'exec sleep 30'
  [ "$status" -eq 125 ] && [[ "$stderr" == *DEADLINE_EXCEEDED*timeout* ]] || { echo "timeout: $status $stderr"; return 1; }
  # the timed-out process is gone
  run xs "$c" ps -o args
  [[ "$output" != *"sleep 30"* ]] || { echo "left: $output"; return 1; }
  url=$(cri Exec "{\"container_id\":\"$c\",\"cmd\":[\"sh\"],\"tty\":true,\"stdin\":true,\"stdout\":true}" | jq -r .url)
  run stream --resize 100x30 --stdin $'tty; stty size; exit 4\n' "$url"
  [ "$status" -eq 4 ] && [[ "$output" == *"/dev/pts/"* ]] && [[ "$output" == *"30 100"* ]] || { echo "exec -t: $status $output"; return 1; }
  url=$(cri Exec "{\"container_id\":\"$c\",\"cmd\":[\"sh\",\"-c\",\"head -n1; echo err >&2; exit 5\"],\"stdin\":true,\"stdout\":true,\"stderr\":true}" | jq -r .url)
  run --separate-stderr stream --stdin $'line1\nline2\n' "$url"
  [ "$status" -eq 5 ] && [ "$output" = line1 ] && [ "$stderr" = err ] || { echo "exec: $status $output / $stderr"; return 1; }
  run xs "$c" tty
  [ "$status" -eq 1 ] && [ "$output" = "not a tty" ] || { echo "exec-sync has no tty: $status $output"; return 1; }
  # a container with a terminal (its init's pty comes through the runtime's console socket) and
  # stdin, attached to: what it reads from the attach stream, its output, its exit code
  local t
  t=$(EXTRA='{"tty": true, "stdin": true, "stdin_once": true}' ctr_create "$p" ex-$rt t1 sh -c 'tty; read x; echo got-$x; exit 7') &&
    [ -n "$t" ] && start "$t" || return 1
  url=$(cri Attach "{\"container_id\":\"$t\",\"stdin\":true,\"tty\":true,\"stdout\":true}" | jq -r .url)
  run stream --stdin $'hello\n' "$url"
  [ "$status" -eq 0 ] && [[ "$output" == *got-hello* ]] || { echo "attach: $status $output"; return 1; }
  local i
  for i in $(seq 50); do [ "$(ctr_state "$t")" = CONTAINER_EXITED ] && break; sleep 0.1; done
  run cri ContainerStatus "{\"container_id\":\"$t\"}"
  [ "$(jq -r '.status.state + " " + (.status.exit_code|tostring)' <<<"$output")" = "CONTAINER_EXITED 7" ] || { echo "t1: $output"; return 1; }
  grep -q ' stdout F /dev/pts/0$' "$CT/logs/ex-$rt/t1.log" || { cat "$CT/logs/ex-$rt/t1.log"; return 1; }
}
@test "CRI: ExecSync (output, exit code, timeout); Exec with a terminal and without; Attach to a container with a terminal" { both s_exec; }

# What a process in the container sees, with what differs from run to run made constant (ids,
# the pod's name). Known differences left out: /sys/fs/cgroup (oci-rt mounts its tmpfs read-only
# as the spec asks, runc 1.1 leaves it writable; oci-rt also mounts the hybrid cgroup2 hierarchy
# at unified; the controllers' order), and a masked directory's tmpfs options (both read-only;
# oci-rt adds nosuid,nodev,noexec): its mount shows only ro/rw.
PROBE='exec 2>&1; grep -E "^(Cap|NoNewPrivs|Seccomp|Uid|Gid|Groups|Umask)" /proc/self/status; cat /proc/self/oom_score_adj
cat /proc/self/limits; pwd; env | sort; id; hostname; cat /etc/hostname /etc/hosts
ls /proc/self/fd; ls /proc/self/ns
awk "{ split(\$0, a, \" - \"); split(a[2], b, \" \"); mp = \$5; o = \$6
  if (mp ~ \"^/sys/fs/cgroup\") next
  if (b[1] == \"tmpfs\" && mp ~ \"^/(proc|sys)/\") { split(o, x, \",\"); o = x[1] }
  print \$4, mp, o, b[1] }" /proc/self/mountinfo
stat -c "%A %u %g %t:%T %N" /dev/* /dev/pts/*; cat /proc/self/cgroup
wc -c < /proc/keys; touch /proc/sys/probe 2>&1; echo x > /sys/probe 2>&1; df -k /dev/shm | tail -1'
norm() { sed -E "s/[0-9a-f]{64}/ID/g; s/cmp-$1/cmp-RT/g; s/^[^ ]+ (stdout|stderr) [FP] //"; }

# The container's init (its CRI log) and a process ExecSync runs in it see what they see with runc
@test "CRI: a container sees under oci-rt what it sees under runc (init and exec: ids, caps, limits, mounts, /dev, fds)" {
  local rt p c spid
  for rt in ocirt runc; do
    p=$(pod "$rt" cmp-$rt) && [ -n "$p" ]
    c=$(ctr_create "$p" cmp-$rt c1 sh -c "$PROBE; echo probe-done; exec sleep 1000") && [ -n "$c" ]
    start "$c"
    xs "$c" sh -c "$PROBE" | norm "$rt" > "$CT/exec-$rt"
    for i in $(seq 50); do grep -q probe-done "$CT/logs/cmp-$rt/c1.log" && break; sleep 0.1; done
    norm "$rt" < "$CT/logs/cmp-$rt/c1.log" > "$CT/init-$rt"
    # the sandbox's pause, seen from the host
    spid=$(pod_info "$p" | jq -r .pid)
    { grep -E '^(Cap|NoNewPrivs|Seccomp|Uid|Gid|Groups)' /proc/$spid/status; cat /proc/$spid/oom_score_adj; } > "$CT/pause-$rt"
  done
  grep -q probe-done "$CT/init-runc" && grep -q '^CapBnd:' "$CT/exec-runc" || { cat "$CT/init-runc" "$CT/exec-runc"; false; }
  run diff -u "$CT/init-runc" "$CT/init-ocirt"
  [ "$status" -eq 0 ] || { echo "init: $output"; false; }
  run diff -u "$CT/exec-runc" "$CT/exec-ocirt"
  [ "$status" -eq 0 ] || { echo "exec: $output"; false; }
  grep -q '^CapBnd:' "$CT/pause-runc" || { cat "$CT/pause-runc"; false; }
  run diff -u "$CT/pause-runc" "$CT/pause-ocirt"
  [ "$status" -eq 0 ] || { echo "pause: $output"; false; }
}

# cg_file POD CONTAINER V1-CONTROLLER FILE V2-FILE: the container's cgroup file on the host
cg_file() {
  local f=/sys/fs/cgroup/$3/$CGP/$1/$2/$4
  [ -e "$f" ] || f=/sys/fs/cgroup/$CGP/$1/$2/$5
  echo "$f"
}

# UpdateContainerResources (seen in the host cgroup); StopContainer with a grace period (the
# SIGTERM handled, or ignored then SIGKILL); a container created and removed, never started; one
# killed for memory (OOMKilled)
s_update_stop_remove() {
  local rt=$1 p c1 c2 c3 c4 c v
  p=$(pod "$rt" up-$rt) && [ -n "$p" ] || return 1
  c1=$(ctr_create "$p" up-$rt c1 sleep 1000) && [ -n "$c1" ] && start "$c1" || return 1
  c2=$(ctr_create "$p" up-$rt c2 sh -c 'trap "exit 42" TERM; sleep 1000 & wait') && [ -n "$c2" ] && start "$c2" || return 1
  c3=$(ctr_create "$p" up-$rt c3 sleep 1000) && [ -n "$c3" ] || return 1
  # over its memory limit: killed by the kernel, which the shim sees in the cgroup the runtime made
  c4=$(EXTRA='{"linux": {"resources": {"memory_limit_in_bytes": "33554432"}}}' \
    ctr_create "$p" up-$rt c4 sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo ${#x}') && [ -n "$c4" ] && start "$c4" || return 1
  cri UpdateContainerResources "{\"container_id\":\"$c1\",\"linux\":{\"memory_limit_in_bytes\":\"67108864\",\"cpu_period\":\"100000\",\"cpu_quota\":\"50000\",\"cpu_shares\":\"512\"}}" >/dev/null || return 1
  v=$(cat "$(cg_file up-$rt "$c1" memory memory.limit_in_bytes memory.max)")
  [ "$v" = 67108864 ] || { echo "memory: $v"; return 1; }
  v=$(cat "$(cg_file up-$rt "$c1" cpu cpu.cfs_quota_us cpu.max)")
  [ "$v" = 50000 ] || [ "$v" = "50000 100000" ] || { echo "cpu quota: $v"; return 1; }
  v=$(cat "$(cg_file up-$rt "$c1" cpu cpu.shares cpu.weight)")
  [ "$v" = 512 ] || [ "$v" = 20 ] || { echo "cpu shares: $v"; return 1; }
  # created, not started: containerd 1.6's CRI makes the task (runtime create) at StartContainer
  # only, so the runtime has not seen it; removed: gone, no state, no cgroup
  [ "$(ctr_state "$c3")" = CONTAINER_CREATED ] || return 1
  [ ! -e "$CS/root-$rt/k8s.io/$c3" ] || { echo "runtime state of c3: $(rt_status "$rt" "$c3")"; return 1; }
  cri RemoveContainer "{\"container_id\":\"$c3\"}" >/dev/null || return 1
  run cri ContainerStatus "{\"container_id\":\"$c3\"}"
  [ "$status" -eq 125 ] && [[ "$output" == *NOT_FOUND* ]] || { echo "removed c3: $output"; return 1; }
  [ ! -e "$CS/root-$rt/k8s.io/$c3" ] || { echo "state of c3 left"; return 1; }
  [ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$c3")" ] || { echo "cgroups of c3 left"; return 1; }
  # stop: c2 handles SIGTERM (exit 42); c1 is sleep as PID 1, which ignores it: killed after 1 s
  cri StopContainer "{\"container_id\":\"$c2\",\"timeout\":\"10\"}" >/dev/null || return 1
  run cri ContainerStatus "{\"container_id\":\"$c2\"}"
  [ "$(jq -r '.status.state + " " + (.status.exit_code|tostring)' <<<"$output")" = "CONTAINER_EXITED 42" ] || { echo "c2: $output"; return 1; }
  cri StopContainer "{\"container_id\":\"$c1\",\"timeout\":\"1\"}" >/dev/null || return 1
  run cri ContainerStatus "{\"container_id\":\"$c1\"}"
  [ "$(jq -r '.status.state + " " + (.status.exit_code|tostring)' <<<"$output")" = "CONTAINER_EXITED 137" ] || { echo "c1: $output"; return 1; }
  local i
  for i in $(seq 100); do [ "$(ctr_state "$c4")" = CONTAINER_EXITED ] && break; sleep 0.1; done
  run cri ContainerStatus "{\"container_id\":\"$c4\"}"
  [ "$(jq -r '.status.state + " " + (.status.exit_code|tostring) + " " + .status.reason' <<<"$output")" = "CONTAINER_EXITED 137 OOMKilled" ] ||
    { echo "c4: $output"; return 1; }
  for c in "$c1" "$c2" "$c4"; do cri RemoveContainer "{\"container_id\":\"$c\"}" >/dev/null || return 1; done
  run cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$p\"}}"
  [ "$(jq '.containers | length' <<<"$output")" = 0 ] || { echo "list: $output"; return 1; }
  # the runtime's root holds the sandbox only
  [ "$(ls "$CS/root-$rt/k8s.io")" = "$p" ] || { ls "$CS/root-$rt/k8s.io"; return 1; }
}
@test "CRI: UpdateContainerResources, StopContainer (graceful and killed), a container removed unstarted, OOMKilled" { both s_update_stop_remove; }

# StopPodSandbox + RemovePodSandbox with a running container: nothing left of the pod
s_pod_teardown() {
  local rt=$1 p c ip spid netns
  p=$(pod "$rt" td-$rt) && [ -n "$p" ] || return 1
  c=$(ctr_create "$p" td-$rt c1 sleep 1000) && [ -n "$c" ] && start "$c" || return 1
  ip=$(cri PodSandboxStatus "{\"pod_sandbox_id\":\"$p\"}" | jq -r .status.network.ip)
  netns=$(pod_info "$p" | jq -r '.runtimeSpec.linux.namespaces[] | select(.type == "network") | .path')
  [ -e "$CT/ipam/$NET/$ip" ] && [ -e "$netns" ] || { echo "ip $ip netns $netns"; return 1; }
  cri StopPodSandbox "{\"pod_sandbox_id\":\"$p\"}" >/dev/null || return 1
  run cri PodSandboxStatus "{\"pod_sandbox_id\":\"$p\"}"
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_NOTREADY ] || { echo "stopped: $output"; return 1; }
  [ "$(ctr_state "$c")" = CONTAINER_EXITED ] || return 1
  cri RemovePodSandbox "{\"pod_sandbox_id\":\"$p\"}" >/dev/null || return 1
  run cri ListPodSandbox "{\"filter\":{\"id\":\"$p\"}}"
  [ "$(jq '.items | length' <<<"$output")" = 0 ] || { echo "pods: $output"; return 1; }
  run cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$p\"}}"
  [ "$(jq '.containers | length' <<<"$output")" = 0 ] || { echo "containers: $output"; return 1; }
  [ -z "$(ls "$CS/root-$rt/k8s.io")" ] || { echo "runtime state left:"; ls "$CS/root-$rt/k8s.io"; return 1; }
  [ -z "$(find /sys/fs/cgroup -mindepth 3 -maxdepth 5 -type d -path "*/$CGP/td-$rt/*")" ] || { echo "cgroups left:"; find /sys/fs/cgroup -type d -path "*/$CGP/td-$rt/*"; return 1; }
  run grep -e "$p" -e "$c" /proc/self/mountinfo
  [ "$status" -eq 1 ] || { echo "mounts left: $output"; return 1; }
  [ ! -e "$netns" ] && [ ! -e "$CT/ipam/$NET/$ip" ] || { echo "netns or address left"; return 1; }
  [ -z "$(ip -o link show master "$BRIDGE")" ] || { echo "veth left:"; ip -o link show master "$BRIDGE"; return 1; }
  [ -z "$(grep -l -- "$p" /proc/[0-9]*/cmdline 2>/dev/null)" ] || { echo "shim left"; return 1; }
}
@test "CRI: StopPodSandbox and RemovePodSandbox leave no runtime state, cgroup, mount, netns, address or shim" { both s_pod_teardown; }
