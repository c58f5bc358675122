#!/usr/bin/env python3
# Seed corpora made at run time (never committed): gen_seeds.py OCIRT OUTDIR
#   config:       `oci-rt spec` (and --rootless), that template edited by every `cfg '...'` jq
#                 expression of tests/integration/*.bats, with containers-common's seccomp.json,
#                 and `runc spec` when runc is installed
#   mountinfo:    this host's /proc/self/mountinfo (prefixed by one of its mount ids), /proc/self/stat
#   cgroup_files: this host's /proc/self/cgroup and the stats files of the root cgroups
import glob, json, os, re, struct, subprocess, sys, tempfile

ocirt, out = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
n = 0


def put(target, data):
    global n
    if isinstance(data, str):
        data = data.encode()
    if len(data) > 65536:  # the bench's huge configs: slow to mutate, and the targets cut at 64 KiB
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    n += 1
    with open(os.path.join(d, "gen-%04d" % n), "wb") as f:
        f.write(data)


def spec(*flags):
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as t:
        r = subprocess.run([ocirt, "spec", "--bundle", t, *flags], capture_output=True)
        if r.returncode == 0:
            return open(os.path.join(t, "config.json")).read()
    return None


template = spec()
if template:
    put("config", template)
    rl = spec("--rootless")
    if rl:
        put("config", rl)
    exprs = []
    for f in sorted(glob.glob(os.path.join(here, "..", "integration", "*.bats"))):
        exprs += re.findall(r"^\s*cfg '([^']*)'", open(f).read(), re.M)
    for e in exprs:
        r = subprocess.run(["jq", e], input=template, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            put("config", r.stdout)
    if os.path.exists("/usr/share/containers/seccomp.json"):
        cfg = json.loads(template)
        cfg["linux"]["seccomp"] = json.load(open("/usr/share/containers/seccomp.json"))
        put("config", json.dumps(cfg))
for runc in ("/usr/sbin/runc", "/usr/bin/runc"):
    if os.access(runc, os.X_OK):
        with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as t:
            if subprocess.run([runc, "spec"], cwd=t, capture_output=True).returncode == 0:
                put("config", open(os.path.join(t, "config.json")).read())
        break

info = open("/proc/self/mountinfo").read()
ids = [int(l.split()[0]) for l in info.splitlines() if l.split()]
for i in ids[:3]:
    put("mountinfo", struct.pack("<Q", i) + info.encode())
put("mountinfo", open("/proc/self/stat").read())

put("cgroup_files", open("/proc/self/cgroup").read())
for pat in ("/sys/fs/cgroup/*/memory.stat", "/sys/fs/cgroup/*/cpu.stat", "/sys/fs/cgroup/*/cpuacct.usage_percpu",
            "/sys/fs/cgroup/*/cpuacct.stat", "/sys/fs/cgroup/*/blkio.throttle.io_service_bytes_recursive",
            "/sys/fs/cgroup/*/devices.list", "/sys/fs/cgroup/*/memory.events", "/sys/fs/cgroup/*/io.stat",
            "/sys/fs/cgroup/memory.stat", "/sys/fs/cgroup/cpu.stat", "/sys/fs/cgroup/io.stat"):
    for f in sorted(glob.glob(pat))[:1]:
        try:
            data = open(f, "rb").read(65536)
        except OSError:
            continue
        if data:
            put("cgroup_files", data)
print(n)
