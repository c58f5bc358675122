#!/bin/sh
# contrib/bench/config-size.sh [RUNTIME...]: the cost of a `run` (config read, validated,
# container made, `true` run, deleted) as a config grows, for each runtime given (default:
# oci-rt of this tree, then runc and crun when installed). One line per kind and size: the
# wall time and CPU of the run, its exit status and the first words of any error. A step that
# is linear in the config's size shows as time proportional to the size; the deep-nesting row
# must be refused at once. Busybox bundle from contrib/make-bundle.sh; state in a temp root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "config-size: run as root" >&2; exit 1; }
[ $# -gt 0 ] || set -- "${OCIRT:-$repo/build/oci-rt}" $(command -v runc crun || true)
dir=$(mktemp -d /var/tmp/oci-rt-config-size.XXXXXX)
trap 'for rt in "$@"; do "$rt" --root "$dir/state" delete -f cs >/dev/null 2>&1 || true; done; rm -rf "$dir"' EXIT
sh "$repo/contrib/make-bundle.sh" "$dir/bundle" >/dev/null
cp "$dir/bundle/config.json" "$dir/template.json"
gen() {  # gen KIND N: the template with N of KIND
  python3 - "$dir/template.json" "$1" "$2" > "$dir/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); kind, n = sys.argv[2], int(sys.argv[3])
c["process"]["args"] = ["true"]; c["process"]["terminal"] = False
if kind == "env":          # n bytes of environment, 1 KB a variable
    c["process"]["env"] += ["V%d=%s" % (i, "x" * 1000) for i in range(n // 1000)]
elif kind == "mounts":     # n tmpfs mounts
    c["mounts"] += [{"destination": "/m/%d" % i, "type": "tmpfs", "source": "tmpfs", "options": ["size=4k"]} for i in range(n)]
elif kind == "seccomp":    # n distinct argument rules (past 4096 no kernel can load them)
    c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"],
        "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": i, "op": "SCMP_CMP_EQ"}]} for i in range(n)]}
elif kind == "devices":    # n device cgroup rules
    c["linux"].setdefault("resources", {})["devices"] = [{"allow": False, "type": "c", "major": 1 + i // 256,
        "minor": i % 256, "access": "rwm"} for i in range(n)]
elif kind == "annotations":
    c["annotations"] = {"k%d" % i: "v" for i in range(n)}
s = json.dumps(c)
if kind == "nesting":      # an unknown key nested n levels deep
    s = s[:-1] + ', "zz": ' + "[" * n + "]" * n + "}"
print(s)
PY
}
printf '%-10s %-12s %9s %10s %9s  %s\n' runtime kind size wall_s cpu_s "status / error"
for rt in "$@"; do
  name=$(basename "$rt")
  for spec in "env 100000" "env 1000000" "env 2000000" "mounts 1000" "mounts 5000" "mounts 10000" \
      "seccomp 500" "seccomp 1000" "seccomp 2000" "seccomp 10000" "devices 10000" "devices 50000" "devices 100000" \
      "annotations 10000" "annotations 100000" "nesting 1000" "nesting 10000" "nesting 100000"; do
    set -- $spec
    gen "$1" "$2"
    /usr/bin/time -f "%e %U %S" "$rt" --root "$dir/state" run -b "$dir/bundle" cs >/dev/null 2>"$dir/err" || true
    t=$(tail -1 "$dir/err")
    msg=$(grep -vE '^[0-9.]+ [0-9.]+ [0-9.]+$|^Command exited' "$dir/err" | head -1 | cut -c1-70)
    st=$(grep -oE 'Command exited with non-zero status [0-9]+' "$dir/err" | grep -oE '[0-9]+$' || echo 0)
    printf '%-10s %-12s %9s %10s %9s  %s\n' "$name" "$1" "$2" "$(echo "$t" | cut -d' ' -f1)" \
      "$(echo "$t" | awk '{printf "%.2f", $2 + $3}')" "$st${msg:+ $msg}"
    "$rt" --root "$dir/state" delete -f cs >/dev/null 2>&1 || true
  done
done
