#!/usr/bin/python3
"""oci-rt soak and scale benchmarks (run them through soak.sh and scale.sh: root, private mount
namespace). The driver is a stand-in for a shim: it is the long-lived caller, it is the
containers' subreaper (PR_SET_CHILD_SUBREAPER, so their inits are its children and it reaps
them), and it hands every runtime command pipes for stdout/stderr, which must reach EOF once the
command and the container are gone (a runtime that leaves a process or an fd holding the caller's
pipe hangs a shim that waits for EOF).

soak: CYCLES create/start/wait/delete cycles of a container running `true`, then EXECS `exec`s of
`true` into one long-lived container; every STEP cycles (and execs) it samples what must stay
flat: the driver's open fds, cgroup dirs on the host, lines of mountinfo, entries in the state
root, kernel keys (/proc/keys lines and uid 0's count in /proc/key-users), processes on the host,
processes reparented to pid 1 or to the driver that were not there before, pipes of the caller
still held open after their command ended, and the mean time of a cycle (exec) in the window.

scale: containers running `sleep` created in steps up to N; at each step the time of `list`,
`state`, `ps`, `exec` (of `true`) and `kill` (SIGKILL of one extra container) and of the
creates of the step; then `kill` and `delete` of every container, timed in bands as they go.
"""
import argparse, ctypes, json, os, resource, select, signal, statistics, sys, time

VERBOSE = False
DEVNULL = os.open(os.devnull, os.O_RDWR)
held_pipes = 0     # pipes of the caller that a command (or what it left) still held after it ended


def spawn(argv, out=None):
    """Start argv (stdin /dev/null; stdout+stderr a fresh pipe, or `out` when given); return
    (pid, read end of the pipe or None)."""
    r = None
    if out is None:
        r, w = os.pipe2(os.O_CLOEXEC)
    else:
        w = out
    acts = [(os.POSIX_SPAWN_DUP2, DEVNULL, 0), (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, w, 2)]
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=acts)
    finally:
        if out is None:
            os.close(w)
    return pid, r


def drain(r):
    """Read the pipe to EOF (the command has exited). A pipe with no data and no EOF is held by
    something the command left behind: counted, not waited for."""
    global held_pipes
    chunks = []
    while True:
        ready, _, _ = select.select([r], [], [], 0.2)
        if not ready:
            held_pipes += 1
            break
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    return b"".join(chunks).decode(errors="replace")


def reap_any():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def run(argv, keep=None):
    """Run argv to its end; return (exit code, wall seconds, output). With keep (a list), the
    read end of its pipe is appended to keep instead of drained: a `create` hands the pipe on to
    the container, which holds it until it is gone."""
    t0 = time.perf_counter()
    pid, r = spawn(argv)
    _, st = os.waitpid(pid, 0)
    wall = time.perf_counter() - t0
    if keep is not None:
        keep.append(r)
        out = ""
    else:
        out = drain(r)
    code = os.waitstatus_to_exitcode(st)
    if code != 0 and VERBOSE:
        print(f"  [{code}] {' '.join(argv)}: {out.strip()[:300]}", file=sys.stderr)
    return code, wall, out


# ---------------------------------------------------------------- sampling

def count_dirs(top):
    n = 0
    for _, dirs, _ in os.walk(top):
        n += len(dirs)
    return n


def own_cgroups(prefix):
    n = 0
    for top in cgroup_dirs(only_tops=True):
        for _, dirs, _ in os.walk(top):
            n += sum(1 for d in dirs if d.startswith(prefix))
    return n


def cgroup_dirs(only_tops=False):
    """{hierarchy: number of dirs below it} for every mounted cgroup hierarchy."""
    res = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            fstype = parts[parts.index("-") + 1]
            if fstype in ("cgroup", "cgroup2"):
                res[parts[4]] = 0 if only_tops else count_dirs(parts[4])
    return res


def lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except OSError:
        return -1


def root_keys():
    try:
        with open("/proc/key-users") as f:
            for line in f:
                uid, rest = line.split(":", 1)
                if uid.strip() == "0":
                    return int(rest.split()[1].split("/")[0])  # nkeys/ninstantiated
    except OSError:
        pass
    return -1


def processes():
    """{pid: ppid} of every process on the host."""
    res = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                res[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    return res


class Sampler:
    """Samples; with live=(title, cols) it prints the header at once and every row as it comes."""
    def __init__(self, root, prefix, keep=(), live=None):
        self.live = live
        if live:
            print_rows(live[0], [], live[1])
        self.root = root
        self.prefix = prefix
        self.keep = set(keep)
        self.base = processes()
        self.rows = []

    def sample(self, label, ms, extra=None):
        reap_any()
        procs = processes()
        me = os.getpid()
        ppid1 = sum(1 for p, pp in procs.items() if pp == 1 and p not in self.base)
        # we are the subreaper: whatever a runtime or a container leaves running becomes our child
        kids = sum(1 for p, pp in procs.items() if pp == me and p not in self.keep)
        cg = cgroup_dirs()
        row = {"at": label, "ms": ms, "fds": len(os.listdir("/proc/self/fd")), "cgdirs": sum(cg.values()),
               "owncg": own_cgroups(self.prefix), "mounts": lines("/proc/self/mountinfo"), "states": len(os.listdir(self.root)) if os.path.isdir(self.root) else 0,
               "keys": lines("/proc/keys"), "rootkeys": root_keys(), "procs": len(procs), "ppid1": ppid1, "kids": kids,
               "held": held_pipes, "cg": cg}
        row.update(extra or {})
        self.rows.append(row)
        if self.live:
            print_row(row, self.live[1])
        return row


def print_rows(title, rows, cols):
    print(f"\n== {title}")
    hdr = "".join(f"{c:>{w}}" for c, w, _ in cols)
    print(hdr)
    for r in rows:
        print_row(r, cols)
    sys.stdout.flush()


def print_row(r, cols):
    print("".join(f"{fmt(r.get(c, ''), f):>{w}}" for c, w, f in cols), flush=True)


def fmt(v, f):
    if v == "" or v is None:
        return "-"
    return format(v, f)


# ---------------------------------------------------------------- soak

def soak(name, rt, root, bundle, long_bundle, cycles, execs, step):
    global held_pipes
    rc = [rt, "--root", root]
    fails = {"create": 0, "start": 0, "delete": 0, "exec": 0, "wait": 0}
    cols = [("at", 7, ""), ("ms", 9, ".2f"), ("fds", 5, ""), ("cgdirs", 7, ""), ("owncg", 6, ""), ("mounts", 7, ""),
            ("states", 7, ""), ("keys", 5, ""), ("rootkeys", 9, ""), ("procs", 6, ""), ("ppid1", 6, ""), ("kids", 5, ""),
            ("held", 5, "")]
    s = Sampler(root, f"soak-{name}-", live=(f"{name}: {cycles} create/start/wait/delete cycles of `true` "
                                             "(ms = mean per cycle in the window)", cols))
    # warm up the page cache, then the baseline
    for i in range(3):
        run(rc + ["run", "--bundle", bundle, f"soak-{name}-warm{i}"])
        run(rc + ["delete", "--force", f"soak-{name}-warm{i}"])
    reap_any()
    s.base = processes()
    s.sample(0, None)
    first_cg = s.rows[0]["cg"]
    t_win, n_win = 0.0, 0
    for i in range(1, cycles + 1):
        cid = f"soak-{name}-c{i}"
        pidfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"soak-{name}.pid")
        t0 = time.perf_counter()
        pipes = []
        code, _, _ = run(rc + ["create", "--bundle", bundle, "--pid-file", pidfile, cid], keep=pipes)
        if code != 0:
            fails["create"] += 1
        else:
            with open(pidfile) as f:
                pid = int(f.read())
            os.unlink(pidfile)
            if run(rc + ["start", cid])[0] != 0:
                fails["start"] += 1
            try:
                os.waitpid(pid, 0)       # the init is ours: we are the subreaper
            except ChildProcessError:
                fails["wait"] += 1
        if run(rc + ["delete", cid])[0] != 0:
            fails["delete"] += 1
            run(rc + ["delete", "--force", cid])
        t_win += time.perf_counter() - t0
        for r in pipes:
            drain(r)
        n_win += 1
        if i % step == 0 or i == cycles:
            s.sample(i, t_win / n_win * 1000)
            t_win, n_win = 0.0, 0
    last_cg = s.rows[-1]["cg"]
    grew = {k: (first_cg.get(k), v) for k, v in last_cg.items() if first_cg.get(k) != v}
    print(f"cgroup dirs per hierarchy: {'unchanged' if not grew else grew}")
    print(f"failures: {fails}")

    # exec into one long-lived container
    lid = f"soak-{name}-long"
    pidfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"soak-{name}-long.pid")
    lpipes = []
    if run(rc + ["create", "--bundle", long_bundle, "--pid-file", pidfile, lid], keep=lpipes)[0] != 0 or run(rc + ["start", lid])[0] != 0:
        print(f"{name}: the long-lived container did not start", file=sys.stderr)
        run(rc + ["delete", "--force", lid])
        return fails
    with open(pidfile) as f:
        lpid = int(f.read())
    s2 = Sampler(root, f"soak-{name}-", keep={lpid}, live=(
        f"{name}: {execs} execs of `true` into one container (ms = mean per exec in the window; "
        "initfds, inproc: its init's fds and the processes in its pid namespace)",
        cols + [("initfds", 8, ""), ("inproc", 7, "")]))
    s2.base = s.base

    def inside():
        """fds of the long-lived container's init and the processes in its pid namespace"""
        try:
            ns = os.readlink(f"/proc/{lpid}/ns/pid")
        except OSError:
            return {"initfds": -1, "inproc": -1}
        n = 0
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.readlink(f"/proc/{d}/ns/pid") == ns:
                        n += 1
                except OSError:
                    pass
        return {"initfds": len(os.listdir(f"/proc/{lpid}/fd")), "inproc": n}

    s2.sample(0, None, inside())
    t_win, n_win = 0.0, 0
    for i in range(1, execs + 1):
        code, wall, _ = run(rc + ["exec", lid, "true"])
        if code != 0:
            fails["exec"] += 1
        t_win += wall
        n_win += 1
        if i % step == 0 or i == execs:
            s2.sample(i, t_win / n_win * 1000, inside())
            t_win, n_win = 0.0, 0
    run(rc + ["kill", lid, "KILL"])
    try:
        os.waitpid(lpid, 0)
    except ChildProcessError:
        pass
    if run(rc + ["delete", lid])[0] != 0:
        fails["delete"] += 1
        run(rc + ["delete", "--force", lid])
    for r in lpipes:
        drain(r)
    s2.live = None
    s2.sample("end", None)
    print_rows(f"{name}: after the long-lived container is deleted (against the start of the soak)",
               [s.rows[0], s2.rows[-1]], cols)
    print(f"failures: {fails}")
    return fails


# ---------------------------------------------------------------- scale

def median_of(k, fn):
    ws = []
    for _ in range(k):
        code, wall, out = fn()
        ws.append(wall * 1000)
    return statistics.median(ws), code, out


def scale(name, rt, root, bundle, n, steps):
    name = f"scale-{name}"  # ids soak-scale-NAME-*: a soak of the same runtime may run beside
    rc = [rt, "--root", root]
    fails = {"create": 0, "list": 0, "state": 0, "ps": 0, "exec": 0, "kill": 0, "delete": 0}
    pids = {}
    pipes = {}
    rows = []
    made = 0
    pidfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"soak-{name}.pid")

    def create(cid):
        t0 = time.perf_counter()
        keep = []
        ok = run(rc + ["create", "--bundle", bundle, "--pid-file", pidfile, cid], keep=keep)[0] == 0
        pipes[cid] = keep
        ok = ok and run(rc + ["start", cid])[0] == 0
        wall = time.perf_counter() - t0
        if ok:
            with open(pidfile) as f:
                pids[cid] = int(f.read())
        else:
            fails["create"] += 1
            run(rc + ["delete", "--force", cid])
            for r in pipes.pop(cid):
                drain(r)
        return wall

    for target in steps:
        walls = []
        while made < target:
            made += 1
            walls.append(create(f"soak-{name}-s{made}"))
        reap_any()
        one = f"soak-{name}-s{target // 2}"
        lst, code, out = median_of(5, lambda: run(rc + ["list", "-q"]))
        listed = len(out.split())
        if code != 0 or listed != len(pids):
            fails["list"] += 1
        st, code, _ = median_of(11, lambda: run(rc + ["state", one]))
        fails["state"] += code != 0
        ps, code, _ = median_of(5, lambda: run(rc + ["ps", one]))
        fails["ps"] += code != 0
        ex, code, _ = median_of(5, lambda: run(rc + ["exec", one, "true"]))
        fails["exec"] += code != 0
        kills = []
        for k in range(3):  # SIGKILL of an extra container, then it goes
            vid = f"soak-{name}-victim{target}-{k}"
            create(vid)
            code, wall, _ = run(rc + ["kill", vid, "KILL"])
            fails["kill"] += code != 0
            kills.append(wall * 1000)
            try:
                os.waitpid(pids.pop(vid), 0)
            except (ChildProcessError, KeyError):
                pass
            if run(rc + ["delete", vid])[0] != 0:
                fails["delete"] += 1
                run(rc + ["delete", "--force", vid])
            for r in pipes.pop(vid, []):
                drain(r)
        rows.append({"running": len(pids), "create": statistics.mean(walls) * 1000 if walls else None,
                     "create_last": statistics.mean(walls[-50:]) * 1000 if walls else None,
                     "list": lst, "list_per_c": lst / max(1, len(pids)) * 1000, "state": st, "ps": ps, "exec": ex,
                     "kill": statistics.median(kills), "listed": listed})
        print_rows(f"{name}: ms per operation with N containers running (create = create+start, mean over the step; "
                   "create_last: its last 50; list_per_c in us)", rows[-1:] if len(rows) > 1 else rows,
                   [("running", 8, ""), ("create", 8, ".1f"), ("create_last", 12, ".1f"), ("list", 8, ".1f"),
                    ("list_per_c", 11, ".1f"), ("state", 7, ".1f"), ("ps", 7, ".1f"), ("exec", 7, ".1f"),
                    ("kill", 7, ".1f"), ("listed", 7, "")])
    # kill and delete every container, timed in bands of a quarter
    ids = list(pids)
    band = max(1, len(ids) // 4)
    kill_rows = []
    for b in range(0, len(ids), band):
        chunk = ids[b:b + band]
        tk, td = [], []
        for cid in chunk:
            code, wall, _ = run(rc + ["kill", cid, "KILL"])
            fails["kill"] += code != 0
            tk.append(wall * 1000)
        for cid in chunk:
            try:
                os.waitpid(pids[cid], 0)
            except ChildProcessError:
                pass
        for cid in chunk:
            code, wall, _ = run(rc + ["delete", cid])
            if code != 0:
                fails["delete"] += 1
                run(rc + ["delete", "--force", cid])
            td.append(wall * 1000)
            del pids[cid]
            for r in pipes.pop(cid, []):
                drain(r)
        kill_rows.append({"running": len(ids) - b, "kill": statistics.mean(tk), "delete": statistics.mean(td)})
    print_rows(f"{name}: ms per kill and per delete, by how many containers were running when the band began",
               kill_rows, [("running", 8, ""), ("kill", 8, ".1f"), ("delete", 8, ".1f")])
    cols = [("running", 8, ""), ("create", 8, ".1f"), ("create_last", 12, ".1f"), ("list", 8, ".1f"),
            ("list_per_c", 11, ".1f"), ("state", 7, ".1f"), ("ps", 7, ".1f"), ("exec", 7, ".1f"), ("kill", 7, ".1f"), ("listed", 7, "")]
    print_rows(f"{name}: summary, ms per operation by containers running", rows, cols)
    print(f"failures: {fails}; caller's pipes still held after their container was deleted: {held_pipes}")
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["soak", "scale"])
    ap.add_argument("-n", type=int, default=None, help="soak: cycles (10000); scale: containers (1000)")
    ap.add_argument("-e", type=int, default=2000, help="soak: execs")
    ap.add_argument("--step", type=int, default=500, help="soak: sample every STEP cycles")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--long-bundle", help="soak: the bundle of the long-lived container (sleep)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("runtimes", nargs="+", help="NAME=PATH")
    a = ap.parse_args()
    global VERBOSE
    VERBOSE = a.verbose
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, like a shim
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # scale: a pipe per running container
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    total = 0
    for spec in a.runtimes:
        name, path = spec.split("=", 1)
        root = f"/run/oci-rt-soak-{name}" if a.mode == "soak" else f"/run/oci-rt-soak-scale-{name}"
        print(f"\n### {name} ({path}), root {root}, {time.strftime('%H:%M:%S')}", flush=True)
        t0 = time.time()
        if a.mode == "soak":
            f = soak(name, path, root, a.bundle, a.long_bundle, a.n or 10000, a.e, a.step)
        else:
            n = a.n or 1000
            steps = sorted({s for s in (100, 250, 500, n) if s <= n})
            f = scale(name, path, root, a.bundle, n, steps)
        total += sum(f.values())
        print(f"{name}: {time.time() - t0:.0f} s", flush=True)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
