#!/usr/bin/env bats
# Attacks that must fail: each guarantee of the runtime is tested by trying to break it.

load helpers

@test "CVE-2019-5736: a container cannot overwrite the runtime binary through /proc/PID/exe" {
  # Run the attack against a copy of the binary, never the one the other tests use.
  # (VICTIM lets a developer point it at an unprotected build to see the attack succeed.)
  cp "${VICTIM:-$OCIRT}" "$BATS_TEST_TMPDIR/oci-rt-copy"
  cp "${VICTIM:-$OCIRT}" "$BATS_TEST_TMPDIR/oci-rt-orig"
  victim=$BATS_TEST_TMPDIR/oci-rt-copy
  mkdir -p "$BATS_TEST_TMPDIR/out"
  chmod 777 "$BATS_TEST_TMPDIR/out"
  # Container B's init is the runtime's image until start. The attacker (container A, in B's
  # pid namespace) holds B's /proc/1/exe from before start and writes through it once the init
  # has exec'd its program and the runtime's binary is no longer busy: the 2019 exploit. (Its
  # `#!/proc/self/exe` entrypoint variant gives the attacker the same handle; this kernel
  # refuses that interpreter inside a container, the handle from before start always works.)
  args sleep 100
  "$victim" --root "$ROOT" create --bundle "$BUNDLE" "$ID-b"
  pid=$("$victim" --root "$ROOT" state "$ID-b" | jq -r .pid)
  # Container A shares B's pid namespace: it grabs B's init's /proc/1/exe, waits for B to run
  # and exit, then writes through the fd it kept (the 2019 exploit).
  cp -a "$BUNDLE" "$BATS_TEST_TMPDIR/attacker"
  B=$BATS_TEST_TMPDIR/attacker
  jq --arg p "/proc/$pid/ns/pid" --arg out "$BATS_TEST_TMPDIR/out" '
      .linux.namespaces |= map(if .type == "pid" then .path = $p else . end)
      | .mounts += [{destination: "/out", type: "bind", source: $out, options: ["bind"]}]
      | .process.args = ["sh", "-c", "command exec 3</proc/1/exe || { echo NOFD > /out/result; exit 0; }; echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done; if { echo PWNED > /proc/self/fd/3; } 2>/out/err; then echo WROTE > /out/result; else echo FAILED > /out/result; fi"]' \
      "$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"
  "$OCIRT" --root "$ROOT" run -d --bundle "$B" "$ID-a"
  for i in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/out/ready" ] || [ -e "$BATS_TEST_TMPDIR/out/result" ] && break; sleep 0.05; done
  # B's init execs its program: the runtime's image is gone from it
  "$victim" --root "$ROOT" start "$ID-b"
  [ "$("$victim" --root "$ROOT" state "$ID-b" | jq -r .status)" = running ]
  touch "$BATS_TEST_TMPDIR/out/go"
  for i in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/out/result" ] && break; sleep 0.05; done
  cat "$BATS_TEST_TMPDIR/out/result"
  # Two layers stop it: the created init is non-dumpable, so the handle cannot be had (NOFD);
  # and were it had, the runtime's image is a read-only bind (FAILED with EROFS).
  result=$(cat "$BATS_TEST_TMPDIR/out/result")
  [ "$result" = NOFD ] || { [ "$result" = FAILED ] && grep -q "Read-only file system" "$BATS_TEST_TMPDIR/out/err"; }
  cmp "$victim" "$BATS_TEST_TMPDIR/oci-rt-orig"
  "$OCIRT" --root "$ROOT" delete --force "$ID-a"
  "$victim" --root "$ROOT" delete --force "$ID-b"
}

@test "CVE-2019-5736: the container init's /proc/PID/exe is on a read-only mount" {
  args true
  ocirt create --bundle "$BUNDLE" "$ID"
  pid=$(ocirt state "$ID" | jq -r .pid)
  run sh -c "echo x > /proc/$pid/exe"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  ocirt delete --force "$ID"
}

@test "CVE-2024-21626: cwd /proc/self/fd/N never reaches a host directory" {
  for n in 3 4 5 6 7 8 9; do
    cfg --arg c "/proc/self/fd/$n" '.process.cwd = $c'
    args sh -c 'pwd'
    run_ctr
    [[ "$output" != *unreachable* ]]
    [ "$status" -ne 0 ]
    [[ "$output" == *"process.cwd"* ]]
    no_leftovers
  done
}

@test "devices: with the default capabilities a block device cannot be made or opened" {
  dev=$(lsblk -ndo MAJ:MIN | head -1)
  args sh -c "mknod /tmp/blk b ${dev%:*} ${dev#*:} && echo MADE; head -c1 /tmp/blk >/dev/null 2>&1 && echo READ; echo end"
  cfg '.root.readonly = false'
  run_ctr
  [[ "$output" == *end* ]]
  [[ "$output" != *MADE* ]]
  [[ "$output" != *READ* ]]
}

@test "readonly root: writes to / and to readonly paths fail" {
  args sh -c 'touch /x 2>/dev/null && echo ROOT-WRITABLE; echo 1 > /proc/sys/vm/overcommit_memory 2>/dev/null && echo SYS-WRITABLE; echo end'
  run_ctr
  [[ "$output" == *end* ]]
  [[ "$output" != *WRITABLE* ]]
}

@test "CVE-2025-31133: a planted /dev/null never becomes the mask of a masked path" {
  # the image's own /dev is used (no /dev tmpfs): its "null" is a symlink to a procfs file
  cfg '.mounts |= map(select(.destination | startswith("/dev") | not))'
  mkdir -p "$BUNDLE/rootfs/dev"
  ln -sfn /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/dev/null"
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"/dev/null in the container is not the null device"* ]]
  no_leftovers
  # a regular file planted there is refused too
  rm "$BUNDLE/rootfs/dev/null"
  echo fake > "$BUNDLE/rootfs/dev/null"
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"not the null device"* ]]
  no_leftovers
}

@test "seccomp NOTIFY: the listener receives the state and the fd, and answers the syscall" {
  out=$BATS_TEST_TMPDIR/listener
  mkdir -p "$out"
  "$BATS_TEST_DIRNAME/seccomp-listener.py" "$out/sock" "$out" &
  KILL_PIDS=$!
  for i in $(seq 100); do [ -e "$out/listening" ] && break; sleep 0.05; done
  cfg --arg sock "$out/sock" '.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": $sock, "listenerMetadata": "meta-1",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
  args sh -c 'mkdir /made; echo rc=$?; [ -d /made ] && echo exists || echo absent'
  run_ctr
  [ "$status" -eq 0 ]
  # the listener answered "success" without doing it
  [[ "$output" == *"rc=0"* ]]
  [[ "$output" == *absent* ]]
  [ -s "$out/handled" ]
  jq -e --arg id "$ID" '.fds == ["seccompFd"] and .metadata == "meta-1" and (.pid > 0) and .state.id == $id and .state.status == "creating"' "$out/state.json"
  no_leftovers
}

@test "seccomp NOTIFY: an unreachable listener fails create with the field, nothing left" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/nonexistent/sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
  args true
  run_ctr
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.seccomp.listenerPath: failed to connect with seccomp agent at /nonexistent/sock"* ]]
  no_leftovers
}

@test "fds: descriptors 3-9 open in the caller are absent in the container" {
  args sh -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && readlink "$f"; done; echo end'
  run bash -c "exec 3>'$BATS_TEST_TMPDIR/f3' 4>'$BATS_TEST_TMPDIR/f4' 5>'$BATS_TEST_TMPDIR/f5' 6</etc/hostname 7>'$BATS_TEST_TMPDIR/f7' 8</dev/null 9>'$BATS_TEST_TMPDIR/f9'; \"$OCIRT\" --root '$ROOT' run --bundle '$BUNDLE' '$ID'"
  [ "$status" -eq 0 ]
  [ "$output" = end ]
  no_leftovers
}

@test "seccomp: argument conditions, KILL_PROCESS, LOG, architectures, flags" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [
          {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
           "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
          {"names": ["sync"], "action": "SCMP_ACT_KILL_PROCESS"},
          {"names": ["getcwd"], "action": "SCMP_ACT_LOG"}]}'
  args sh -c 'kill -USR1 $$ 2>/dev/null; echo usr1=$?; trap "" USR2; kill -USR2 $$; echo usr2=$?; pwd; sh -c sync; echo sync-rc=$?'
  run_ctr
  [[ "$output" == *"usr1=1"* ]]        # EQ on the signal number (SIGUSR1 = 10): errno 1
  [[ "$output" == *"usr2=0"* ]]        # other signals pass
  [[ "$output" == *"/"* ]]             # LOG allows
  [[ "$output" == *"sync-rc=159"* ]]   # KILL_PROCESS: SIGSYS, 128+31
}

@test "seccomp: defaultAction ERRNO with defaultErrnoRet" {
  # allow every syscall the kernel headers name but mkdir/mkdirat; the default returns ENOSYS (38)
  allow=$(sed -nE 's/^#define __NR_([a-z0-9_]+) [0-9]+$/\1/p' /usr/include/x86_64-linux-gnu/asm/unistd_64.h |
          grep -vx -e mkdir -e mkdirat | jq -R . | jq -sc .)
  cfg --argjson a "$allow" '.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": $a, "action": "SCMP_ACT_ALLOW"}]}'
  args sh -c 'mkdir /newdir; echo mkdir=$?'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"Function not implemented"* ]]
  [[ "$output" == *"mkdir=1"* ]]
}

@test "devices: a /dev symlink planted in the image never puts nodes on the host" {
  mkdir -p "$BATS_TEST_TMPDIR/hostdev"
  rm -rf "$BUNDLE/rootfs/dev"
  ln -s "$BATS_TEST_TMPDIR/hostdev" "$BUNDLE/rootfs/dev"
  # the image's own /dev is used: no tmpfs over it
  cfg '.mounts |= map(select(.destination | startswith("/dev") | not)) | .linux.maskedPaths = [] |
       .linux.devices = [{"path": "/dev/evilnull", "type": "c", "major": 1, "minor": 3}]'
  args true
  run_ctr
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdev")" ]
  no_leftovers
}

# bpf_prog FILE: replace the program of a seccomp cache file with "allow everything", key kept
allow_all_program() {
  /usr/bin/python3 - "$1" <<'PY'
import struct, sys
p = sys.argv[1]
d = open(p, "rb").read()
klen = struct.unpack_from("<I", d, 8)[0]
head = d[:12 + klen]
ret_allow = struct.pack("<HBBI", 0x06, 0, 0, 0x7fff0000)  # BPF_RET|BPF_K, SECCOMP_RET_ALLOW
open(p, "wb").write(head + struct.pack("<I", 1) + ret_allow)
PY
}

@test "seccomp cache: the compiled filter is reused; a changed profile gets its own; a writable or corrupt file is never trusted" {
  cfg '.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
       "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  args sh -c 'mkdir /d 2>&1 || true'
  run_ctr
  [[ "$output" == *"Operation not permitted"* ]]
  local cache="$ROOT/.seccomp-cache"
  [ "$(ls "$cache" | wc -l)" -eq 1 ]
  local f; f=$(ls "$cache"/*.bpf)
  [ "$(stat -c %a "$cache")" = 700 ] && [ "$(stat -c %a "$f")" = 600 ]
  # a hit: same file, and the debug log says so
  run "$OCIRT" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID"
  [[ "$output" == *"from the cache"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
  # list does not show the cache
  [ -z "$("$OCIRT" --root "$ROOT" list -q)" ]
  # another profile (errno differs): another file, its own behaviour
  cfg '.linux.seccomp.syscalls[0].errnoRet = 13'
  run_ctr
  [[ "$output" == *"Permission denied"* ]]
  [ "$(ls "$cache" | wc -l)" -eq 2 ]
  cfg '.linux.seccomp.syscalls[0] |= del(.errnoRet)'
  # a file others may write is not trusted, even with the right key: recompiled and replaced
  allow_all_program "$f"
  chmod 666 "$f"
  run_ctr
  [[ "$output" == *"Operation not permitted"* ]]
  [ "$(stat -c %a "$f")" = 600 ]
  # a corrupt file (wrong size, bad magic) is a miss
  head -c 20 /dev/urandom > "$f"; chmod 600 "$f"
  run_ctr
  [[ "$output" == *"Operation not permitted"* ]]
  no_leftovers
}

@test "seccomp cache: bounded at 64 programs, the least recently used dropped first" {
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
  args true
  run_ctr
  [ "$status" -eq 0 ]
  local cache="$ROOT/.seccomp-cache" first
  first=$(ls "$cache"/*.bpf)
  local i
  for i in $(seq 2 70); do
    cfg --argjson e "$i" '.linux.seccomp.syscalls[0].errnoRet = $e'
    run_ctr
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    if [ "$i" -eq 40 ]; then  # the first profile used again: it becomes the most recent
      cfg '.linux.seccomp.syscalls[0].errnoRet = 1'
      run "$OCIRT" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID"
      [[ "$output" == *"from the cache"* ]]
    fi
  done
  [ "$(ls "$cache" | wc -l)" -eq 64 ]
  [ -e "$first" ]                      # used at 40: kept
  cfg '.linux.seccomp.syscalls[0].errnoRet = 2'
  run "$OCIRT" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID"
  [[ "$output" != *"from the cache"* ]]  # profile 2, among the oldest, was dropped
  no_leftovers
}
