#!/usr/bin/env python3
"""hijack fault containment: python3 faults.py HARNESS

faults.toml: a guest that kills itself mid-run must end its case with
`signal: 9`; an executive that stops answering must end its case with
`timeout`; the suite goes on (the case after them is ok).

netns.toml: qos cases under the packet-stream load, which puts the case and
its sender in private network namespaces; one ends ok, one is killed at its
timeout in the middle of its run.

After each run nothing of it may be left behind: no process it started
still alive or traced, and no network namespace it created still held (by
a process, an open descriptor or a mount). Only the run's own processes and
namespaces are counted: a watcher thread follows the process tree under
this script while the harness runs and notes each process and the network
namespace each one is in, so whatever else the machine does meanwhile
(another process creating namespaces) does not count. The watcher opens
each namespace of the run when it first sees it, so that its inode number
cannot be given to another namespace before the check; whoever else still
holds one afterwards holds the run's. The netns run must have seen
namespaces of its own, or the leak check would prove nothing.

bad_option.toml: an option of another experiment (qos on the sud round
trip) is refused with exit 2, naming the key and the variant.
"""
import os
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402

WATCH_PERIOD_S = 0.05
GONE_WAIT_S = 3.0


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def stat_fields(pid):
    """(ppid, starttime, state) from /proc/PID/stat, or None when it is gone."""
    s = read(f"/proc/{pid}/stat")
    if not s:
        return None
    rest = s[s.rfind(")") + 2:].split()   # the name may hold spaces and parentheses
    return int(rest[1]), int(rest[19]), rest[0]


def tracer_pid(pid):
    for line in (read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    return 0


def net_ns_paths(pid):
    """{"net:[inode]": /proc path} for a process's threads (one, unless a thread unshared)."""
    seen = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    for tid in tids:
        path = f"/proc/{pid}/task/{tid}/ns/net"
        ns = readlink(path)
        if ns:
            seen[ns] = path
    return seen


def net_ns_of(pid):
    return set(net_ns_paths(pid))


class RunWatcher(threading.Thread):
    """Notes every descendant of this script, and the network namespaces they enter."""

    def __init__(self):
        super().__init__(daemon=True)
        self.root = os.getpid()
        self.own_ns = readlink("/proc/self/ns/net")
        self.procs = set()   # (pid, starttime): a pid alone may be reused
        self.netns = {}      # "net:[inode]" other than ours: our descriptor holding it
        self.halt = threading.Event()

    def hold(self, ns, path):
        """Keep the namespace (and so its inode number) alive until close()."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return   # gone meanwhile: it was freed, nothing to leak
        if f"net:[{os.fstat(fd).st_ino}]" == ns:
            self.netns[ns] = fd
        else:
            os.close(fd)   # the thread moved on: seen again at the next scan

    def scan(self):
        children = {}
        for pid in pids():
            f = stat_fields(pid)
            if f:
                children.setdefault(f[0], []).append((pid, f[1]))
        todo = [self.root]
        while todo:
            for pid, start in children.get(todo.pop(), []):
                self.procs.add((pid, start))
                for ns, path in net_ns_paths(pid).items():
                    if ns != self.own_ns and ns not in self.netns:
                        self.hold(ns, path)
                todo.append(pid)

    def run(self):
        while not self.halt.is_set():
            self.scan()
            self.halt.wait(WATCH_PERIOD_S)

    def finish(self):
        self.halt.set()
        self.join()
        self.scan()

    def close(self):
        for fd in self.netns.values():
            os.close(fd)


def alive(procs):
    """Those of procs still running (zombies are dead: only their parent's wait is missing)."""
    out = []
    for pid, start in procs:
        f = stat_fields(pid)
        if f and f[1] == start and f[2] != "Z":
            out.append(pid)
    return out


def netns_holders(netns):
    """Who but us still holds one of netns: a thread in it, an open descriptor to it, or a mount of it."""
    held = []
    me = os.getpid()
    for pid in pids():
        for ns in net_ns_of(pid) & netns:
            held.append(f"{ns}: process {pid} is in it")
        if pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            ns = readlink(f"/proc/{pid}/fd/{fd}")
            if ns in netns:
                held.append(f"{ns}: process {pid} holds descriptor {fd}")
    for line in (read("/proc/1/mountinfo") or "").splitlines() + (read("/proc/self/mountinfo") or "").splitlines():
        for ns in netns:
            if ns in line:
                held.append(f"{ns}: mounted ({line.split()[4]})")
    return sorted(set(held))


def leftovers(w):
    """What the watched run left behind, as failure messages."""
    msgs = []
    left = alive(w.procs)
    for _ in range(int(GONE_WAIT_S / 0.1)):   # orphans are reaped by init: give it a moment
        if not left:
            break
        threading.Event().wait(0.1)
        left = alive(w.procs)
    if left:
        msgs.append(f"processes of the run still alive: {sorted(left)}")
    ours = {p for p, _ in w.procs}
    traced = [p for p in pids() if tracer_pid(p) in ours or (p in left and tracer_pid(p))]
    if traced:
        msgs.append(f"processes still traced by (or being) the run's: {sorted(traced)}")
    held = netns_holders(set(w.netns))
    w.close()
    if held:
        msgs.append("network namespaces of the run left behind: " + "; ".join(held))
    return msgs


def watched_run(harness, suite, out, timeout):
    w = RunWatcher()
    w.start()
    try:
        p = gb.run(harness, os.path.join(HERE, suite), out, timeout=timeout)
    finally:
        w.finish()
    sys.stderr.write(p.stderr[-4000:])
    return p, w


def check_statuses(rows, want_of, n_rows, failures):
    for name, row in sorted(rows.items()):
        want = want_of(name)
        print(f"{name}: {row['status']}")
        if row["status"] != want:
            failures.append(f"{name}: status {row['status']!r}, expected {want!r}")
    if len(rows) != n_rows:
        failures.append(f"{len(rows)} rows in summary.csv, expected {n_rows}")


def fault_want(name):
    if name.startswith("fault-dies"):
        return "signal: 9"
    if name.startswith("fault-hangs"):
        return "timeout"
    return "ok"


def main():
    harness = sys.argv[1]
    failures = []

    with tempfile.TemporaryDirectory(prefix="hijack-faults-") as out:
        p, w = watched_run(harness, "faults.toml", out, 120)
        if p.returncode != 1:
            failures.append(f"faults: harness exit {p.returncode}, expected 1 (some cases failed on purpose)")
        check_statuses(gb.rows_by_case(out), fault_want, 9, failures)
    failures += [f"faults: {m}" for m in leftovers(w)]

    with tempfile.TemporaryDirectory(prefix="hijack-netns-") as out:
        p, w = watched_run(harness, "netns.toml", out, 300)
        if p.returncode != 1:
            failures.append(f"netns: harness exit {p.returncode}, expected 1 (one case is killed on purpose)")
        check_statuses(gb.rows_by_case(out), lambda n: "timeout" if n == "netns-killed" else "ok", 2, failures)
        networks = {c.get("case"): (c.get("load_achieved") or {}).get("network", "")
                    for c in gb.read_meta(out).get("cases", [])}
    print(f"netns: the run's own network namespaces: {sorted(w.netns)}; the load's network: {networks}")
    if any("namespace" in (n or "") for n in networks.values()) and not w.netns:
        failures.append("netns: the load reported private namespaces, but none of the run's were seen")
    if not w.netns:
        print("netns: no namespace of the run seen (the machine gives none): the leak check is empty")
    failures += [f"netns: {m}" for m in leftovers(w)]

    with tempfile.TemporaryDirectory(prefix="hijack-bad-option-") as out:
        p = gb.run(harness, os.path.join(HERE, "bad_option.toml"), out, timeout=30)
        print(f"bad_option: exit {p.returncode}: {p.stderr.strip()}")
        if p.returncode != 2:
            failures.append(f"bad_option: harness exit {p.returncode}, expected 2")
        if "'qos'" not in p.stderr or "'sud'" not in p.stderr:
            failures.append(f"bad_option: the message does not name key 'qos' and variant 'sud': {p.stderr!r}")

    for msg in failures:
        print("FAIL:", msg, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
