#!/usr/bin/env bats
# `features` claims only what the build does.

load helpers

@test "features: valid JSON with the versions, hooks, namespaces and idmap" {
  run "$OCIRT" features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.2.0"
    and (.hooks | length == 6) and (.linux.namespaces | index("time") != null)
    and .linux.mountExtensions.idmap.enabled == true and .linux.cgroup.systemd == true and .linux.cgroup.systemdUser == false
    and .annotations["org.opencontainers.runc.checkpoint.enabled"] == "true"'
  [ "$(echo "$output" | jq -r .ociVersionMax)" = "$("$OCIRT" --version | sed -n 's/^spec: //p')" ]
}

@test "features: every claimed capability (that the host has) reaches the container's bounding set" {
  host=$(( 0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) ))
  caps=$("$OCIRT" features | jq -c '.linux.capabilities')
  n=$(echo "$caps" | jq length)
  keep='[]'; want=0
  for i in $(seq 0 $((n - 1))); do
    name=$(echo "$caps" | jq -r ".[$i]")
    bit=$i   # features lists capabilities in kernel order
    if [ $(( host >> bit & 1 )) -eq 1 ]; then keep=$(echo "$keep" | jq -c --arg c "$name" '. + [$c]'); want=$(( want | 1 << bit )); fi
  done
  cfg --argjson c "$keep" '.process.capabilities = {"bounding": $c}'
  args grep ^CapBnd /proc/self/status
  run_ctr
  [ "$status" -eq 0 ]
  got=$(( 0x${output##*:	} ))
  [ "$got" -eq "$want" ]
}

@test "features: every claimed seccomp action, operator, architecture and flag is accepted" {
  f=$("$OCIRT" features)
  # one harmless syscall per rule: the same syscall with two actions is a conflict libseccomp refuses
  rules=$(echo "$f" | jq -c '
      ["acct", "swapoff", "vhangup", "iopl", "ioperm", "quotactl", "syslog", "nfsservctl"] as $s1
      | ["reboot", "kexec_load", "init_module", "delete_module", "finit_module", "swapon", "setdomainname"] as $s2
      | ([.linux.seccomp.actions[] | select(. != "SCMP_ACT_NOTIFY" and . != "SCMP_ACT_ALLOW")] | to_entries
         | map({names: [$s1[.key]], action: .value}))
      + (.linux.seccomp.operators | to_entries
         | map({names: [$s2[.key]], action: "SCMP_ACT_ERRNO", args: [{index: 1, value: 1, valueTwo: 1, op: .value}]}))')
  cfg --argjson r "$rules" --argjson archs "$(echo "$f" | jq -c .linux.seccomp.archs)" \
      --argjson flags "$(echo "$f" | jq -c .linux.seccomp.supportedFlags)" \
      '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": $archs, "flags": $flags, "syscalls": $r}'
  args sh -c 'grep ^Seccomp: /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"Seccomp:	2"* ]]
}

@test "features: validates against schema/features-schema.json, which refuses what features.md does not allow" {
  "$OCIRT" features > "$BATS_TEST_TMPDIR/f.json"
  local check='import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft4Validator.check_schema(schema)
jsonschema.validate(json.load(open(sys.argv[2])), schema)'
  /usr/bin/python3 -c "$check" "$REPO/schema/features-schema.json" "$BATS_TEST_TMPDIR/f.json"
  jq '.linux.namespaces += ["bogus"]' "$BATS_TEST_TMPDIR/f.json" > "$BATS_TEST_TMPDIR/bad.json"
  run /usr/bin/python3 -c "$check" "$REPO/schema/features-schema.json" "$BATS_TEST_TMPDIR/bad.json"
  [ "$status" -ne 0 ]
  jq 'del(.ociVersionMax)' "$BATS_TEST_TMPDIR/f.json" > "$BATS_TEST_TMPDIR/bad.json"
  run /usr/bin/python3 -c "$check" "$REPO/schema/features-schema.json" "$BATS_TEST_TMPDIR/bad.json"
  [ "$status" -ne 0 ]
}
