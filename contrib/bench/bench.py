#!/usr/bin/python3
"""oci-rt start-cost benchmark: oci-rt against whatever other runtimes are installed (crun,
runc), side by side on the same busybox bundle running /bin/true. Rounds are shuffled so that
load from the rest of the machine falls on all runtimes alike. For each runtime and mode it
prints the median wall time, the median CPU time (user+sys of the runtime and the container,
from wait4) and both as ratios to oci-rt. Modes: `run` (one `run` at a time), `lifecycle`
(create, start, wait for stopped, delete) and `floor` (the smallest
linux.resources.memory.limit, swap included, with which `run` still succeeds three times in a
row, found by bisection to a page). With --seccomp PROFILE every runtime also runs the bundle
with that profile (podman's: /usr/share/containers/seccomp.json). Run it through bench.sh
(root, private mount ns).
"""
import argparse, json, os, random, resource, shutil, statistics, subprocess, sys, tempfile, time

VERBOSE = False

def spawn(argv):
    """Run argv; return (exit status, wall seconds, cpu seconds of it and its children).
    posix_spawn (a vfork): a fork of this Python process would add its page-table copy to the
    child's CPU time."""
    t0 = time.perf_counter()
    devnull = os.open(os.devnull, os.O_RDWR)
    acts = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in ((0, 1) if VERBOSE else (0, 1, 2))]
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=acts)
    except OSError:
        os.close(devnull)
        return 127, time.perf_counter() - t0, 0.0
    os.close(devnull)
    _, status, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - t0, ru.ru_utime + ru.ru_stime

def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # microseconds (os.times() counts 10 ms ticks)
    return r.ru_utime + r.ru_stime

def one_run(rt, root, bundle, cid):
    code, wall, cpu = spawn([rt, "--root", root, "run", "--bundle", bundle, cid])
    return code == 0, wall, cpu

def one_lifecycle(rt, root, bundle, cid):
    t0 = time.perf_counter()
    c0 = cpu_of_children()
    ok = spawn([rt, "--root", root, "create", "--bundle", bundle, cid])[0] == 0
    ok = ok and spawn([rt, "--root", root, "start", cid])[0] == 0
    for _ in range(2000):  # until stopped (reaping the container: we are its subreaper)
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        out = subprocess.run([rt, "--root", root, "state", cid], capture_output=True, text=True)
        if out.returncode != 0 or json.loads(out.stdout).get("status") == "stopped":
            break
        time.sleep(0.0005)
    ok = spawn([rt, "--root", root, "delete", "--force", cid])[0] == 0 and ok
    return ok, time.perf_counter() - t0, cpu_of_children() - c0

def run_ok(rt, root, bundle, cid):
    ok = spawn([rt, "--root", root, "run", "--bundle", bundle, cid])[0] == 0
    spawn([rt, "--root", root, "delete", "--force", cid])  # whatever a failed start left
    return ok

def oci_seccomp(profile, caps, arch="SCMP_ARCH_X86_64", docker_arch="amd64"):
    """A Docker/podman-format profile (/usr/share/containers/seccomp.json) as linux.seccomp for
    one architecture and a set of capabilities, the way podman and Docker generate it."""
    p = json.load(open(profile))
    arches = [arch]
    for m in p.get("archMap") or []:
        if m["architecture"] == arch:
            arches += m.get("subArchitectures") or []
    out = {"defaultAction": p["defaultAction"], "architectures": arches, "syscalls": []}
    if "defaultErrnoRet" in p:
        out["defaultErrnoRet"] = p["defaultErrnoRet"]
    for sc in p.get("syscalls") or []:
        inc, exc = sc.get("includes") or {}, sc.get("excludes") or {}
        if inc.get("arches") and docker_arch not in inc["arches"]:
            continue
        if exc.get("arches") and docker_arch in exc["arches"]:
            continue
        if inc.get("caps") and not all(c in caps for c in inc["caps"]):
            continue
        if exc.get("caps") and any(c in caps for c in exc["caps"]):
            continue
        rule = {"names": sc["names"], "action": sc["action"]}
        for k in ("args", "errnoRet"):
            if sc.get(k) is not None and sc.get(k) != []:
                rule[k] = sc[k]
        out["syscalls"].append(rule)
    return out

def seccomp_bundle(bundle, profile, state):
    """A copy of the bundle's config with the profile as linux.seccomp (same rootfs)."""
    cfg = json.load(open(os.path.join(bundle, "config.json")))
    cfg["root"]["path"] = os.path.abspath(os.path.join(bundle, cfg["root"]["path"]))
    caps = ((cfg.get("process") or {}).get("capabilities") or {}).get("bounding") or []
    cfg.setdefault("linux", {})["seccomp"] = oci_seccomp(profile, caps)
    b = os.path.join(state, "seccomp-bundle")
    os.makedirs(b, exist_ok=True)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    n = sum(len(r["names"]) for r in cfg["linux"]["seccomp"]["syscalls"])
    print(f"bench: --seccomp {profile}: {len(cfg['linux']['seccomp']['syscalls'])} rules, {n} syscall names, "
          f"architectures {','.join(cfg['linux']['seccomp']['architectures'])}")
    return b

def floor(rts, bundle, state):
    """Per runtime: the smallest memory limit (bytes) at which run succeeds 3 times in a row."""
    base = json.load(open(os.path.join(bundle, "config.json")))
    base["root"]["path"] = os.path.abspath(os.path.join(bundle, base["root"]["path"]))
    print(f"\n== floor: smallest linux.resources.memory.limit (= swap) at which `run` works 3 times")
    print(f"{'runtime':<10} {'floor_KiB':>10} {'probes':>7}")
    for name, path in rts:
        b = os.path.join(state, "floor-" + name)
        os.makedirs(b, exist_ok=True)
        root = os.path.join(state, name)
        probes = 0
        def works(limit):
            nonlocal probes
            probes += 1
            cfg = json.loads(json.dumps(base))
            cfg.setdefault("linux", {}).setdefault("resources", {})["memory"] = {"limit": limit, "swap": limit}
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(cfg, f)
            return all(run_ok(path, root, b, f"f{os.getpid()}-{probes}-{i}") for i in range(3))
        lo, hi = 0, 64 << 20  # lo fails (nothing runs in 0 bytes), hi is checked
        if not works(hi):
            print(f"{name:<10} {'>65536':>10} {probes:>7}")
            continue
        while hi - lo > 4096:
            mid = (lo + hi) // 2 // 4096 * 4096
            if mid <= lo:
                break
            if works(mid):
                hi = mid
            else:
                lo = mid
        print(f"{name:<10} {hi // 1024:>10} {probes:>7}")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=50, help="containers per runtime and mode")
    ap.add_argument("-m", default="run,lifecycle", help="modes: run,lifecycle,floor")
    ap.add_argument("-s", type=int, default=1, help="shuffle seed")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--seccomp", metavar="PROFILE", help="also run every runtime with this Docker/podman-format "
                    "seccomp profile added to the bundle (rows NAME+sc), and print what the profile costs")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the runtimes' errors")
    ap.add_argument("runtimes", nargs="+", help="NAME=PATH, the first is the reference")
    a = ap.parse_args()
    global VERBOSE
    VERBOSE = a.verbose
    import ctypes
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: reap containers like a shim
    rts = [r.split("=", 1) for r in a.runtimes]
    random.seed(a.s)
    state = tempfile.mkdtemp(prefix="oci-rt-bench.")
    failed = 0
    sc_bundle = None
    try:
        for mode in a.m.split(","):
            if mode == "floor":
                floor(rts, a.bundle, state)
                continue
            fn = one_run if mode == "run" else one_lifecycle
            cases = [(name, path, a.bundle) for name, path in rts]
            if a.seccomp:
                scb = sc_bundle or seccomp_bundle(a.bundle, a.seccomp, state)
                sc_bundle = scb
                cases += [(name + "+sc", path, scb) for name, path in rts]
            res = {name: {"wall": [], "cpu": [], "fail": 0} for name, _, _ in cases}
            for _ in range(2):  # warm up the page cache (and the seccomp caches)
                for name, path, bundle in cases:
                    fn(path, os.path.join(state, name), bundle, f"warm-{os.getpid()}-{_}")
            for i in range(a.n):
                order = cases[:]
                random.shuffle(order)
                for name, path, bundle in order:
                    ok, wall, cpu = fn(path, os.path.join(state, name), bundle, f"b{os.getpid()}-{i}")
                    if ok:
                        res[name]["wall"].append(wall * 1000)
                        res[name]["cpu"].append(cpu * 1000)
                    else:
                        res[name]["fail"] += 1
            ref = rts[0][0]
            refw = statistics.median(res[ref]["wall"]) if res[ref]["wall"] else float("nan")
            refc = statistics.median(res[ref]["cpu"]) if res[ref]["cpu"] else float("nan")
            print(f"\n== {mode} (n={a.n}, ratios to {ref})")
            print(f"{'runtime':<10} {'ok':>4} {'fail':>4} {'wall_ms':>9} {'x_wall':>7} {'cpu_ms':>8} {'x_cpu':>7}")
            med = {}
            for name, _, _ in cases:
                r = res[name]
                failed += r["fail"]
                if not r["wall"]:
                    print(f"{name:<10} {0:>4} {r['fail']:>4}  (every container failed)")
                    continue
                w, c = statistics.median(r["wall"]), statistics.median(r["cpu"])
                med[name] = c
                print(f"{name:<10} {len(r['wall']):>4} {r['fail']:>4} {w:>9.2f} {w / refw:>7.2f} {c:>8.2f} {c / refc:>7.2f}")
            if a.seccomp:
                print(f"seccomp profile cost (CPU ms with it minus without; and as % of each runtime's total with it):")
                for name, _ in rts:
                    if name in med and name + "+sc" in med:
                        cost = med[name + "+sc"] - med[name]
                        of = "  ".join(f"{100 * cost / med[o + '+sc']:.1f}% of {o}'s" for o, _ in rts if o + "+sc" in med)
                        print(f"  {name:<10} {cost:>+7.2f} ms   {of}")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(f"\nbench: {'all containers ran' if not failed else f'{failed} containers failed'}")
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
