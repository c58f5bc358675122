#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# contrib/bench's systemd mode, the part that runs in the systemd VM (see systemd-vm.sh here):
# BENCH_N rounds; in each, every runtime runs /bin/true once with --systemd-cgroup (a transient
# scope per container), in shuffled order. Prints, per runtime, the CPU of the runtime and its
# children per run (the kernel's cutime+cstime of this shell, in ticks summed over the rounds)
# and the median wall time. systemd's own work (PID 1) is not in anyone's figure.
cd /opt/ocirt-vm || exit 1
N=${BENCH_N:-40}
TICK=$(getconf CLK_TCK)
jq '.process.args = ["true"] | .process.terminal = false | .ociVersion = "1.0.2" | .linux.cgroupsPath = ""' \
  bundle/config.json > bundle/b.json && mv bundle/b.json bundle/config.json
declare -A BIN CPU
BIN[oci-rt]=/opt/ocirt-vm/oci-rt
for r in crun runc; do command -v $r >/dev/null && BIN[$r]=$(command -v $r); done
children_ticks() { awk '{print $16 + $17}' /proc/$$/stat; }
fails=0
for name in "${!BIN[@]}"; do : > "/tmp/wall-$name"; CPU[$name]=0; done
for i in $(seq "$N"); do
  for name in $(printf '%s\n' "${!BIN[@]}" | shuf); do
    c0=$(children_ticks)
    t0=$(date +%s%N)
    "${BIN[$name]}" --root "/run/bench-$name" --systemd-cgroup run --bundle bundle "b$i" >/dev/null 2>&1 || fails=$((fails + 1))
    t1=$(date +%s%N)
    c1=$(children_ticks)
    CPU[$name]=$((CPU[$name] + c1 - c0))
    echo $(((t1 - t0) / 1000)) >> "/tmp/wall-$name"
    "${BIN[$name]}" --root "/run/bench-$name" delete --force "b$i" >/dev/null 2>&1
  done
done
if [ "$fails" = 0 ]; then echo "ok 1 - systemd bench: every run succeeded"; else echo "not ok 1 - systemd bench: $fails runs failed"; fi
echo "1..1"
echo "# systemd mode ($MODE), n = $N, --systemd-cgroup run of /bin/true; CPU = the runtime and its children"
for name in $(printf '%s\n' "${!BIN[@]}" | sort); do
  med=$(sort -n "/tmp/wall-$name" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  echo "# $name: CPU $(awk -v t="${CPU[$name]}" -v n="$N" -v k="$TICK" 'BEGIN {printf "%.2f", t * 1000 / k / n}') ms/run, median wall $(awk -v m="$med" 'BEGIN {printf "%.2f", m / 1000}') ms"
done
