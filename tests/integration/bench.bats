#!/usr/bin/env bats
# The benchmark runs (a smoke test: nothing here is about timing).

load helpers

@test "contrib/bench runs oci-rt beside the other installed runtimes and prints ratios" {
  run timeout 120 "$REPO/contrib/bench/bench.sh" -n 2 -m run,lifecycle
  [ "$status" -eq 0 ]
  [[ "$output" == *"== run (n=2, ratios to oci-rt)"* ]]
  [[ "$output" == *"== lifecycle (n=2, ratios to oci-rt)"* ]]
  echo "$output" | grep -qE '^oci-rt +2 +0 +[0-9.]+ +1\.00 '
  [[ "$output" == *"bench: all containers ran"* ]]
  # the cgroup mask for crun lived only in the benchmark's private mount namespace
  run ! grep -q cgroup.controllers /proc/self/mountinfo
}

@test "contrib/bench -m floor finds a memory floor for every runtime and leaves nothing behind" {
  run timeout 180 "$REPO/contrib/bench/bench.sh" -m floor
  [ "$status" -eq 0 ]
  [[ "$output" == *"== floor:"* ]]
  echo "$output" | grep -qE '^oci-rt +[0-9]+ +[0-9]+$'
  run ! grep -qE '>65536' <<<"$output"
  [ -z "$(find /sys/fs/cgroup -maxdepth 2 -name 'f[0-9]*-*' 2>/dev/null)" ]
}

@test "contrib/bench --seccomp runs podman's profile (converted to linux.seccomp) and prints its cost" {
  [ -f /usr/share/containers/seccomp.json ] || skip "no /usr/share/containers/seccomp.json (containers-common)"
  run timeout 120 "$REPO/contrib/bench/bench.sh" -n 2 -m run --seccomp /usr/share/containers/seccomp.json
  [ "$status" -eq 0 ]
  echo "$output" | grep -qE '^bench: --seccomp .*: [0-9]+ rules, [0-9]+ syscall names, architectures SCMP_ARCH_X86_64,'
  echo "$output" | grep -qE '^oci-rt\+sc +2 +0 '
  echo "$output" | grep -qE '^  oci-rt +[-+][0-9.]+ ms'
  [[ "$output" == *"bench: all containers ran"* ]]
}
