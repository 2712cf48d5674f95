#!/usr/bin/env python3
"""FC-shaped benchmark: every system under test alone in a cgroup of the seed's instance size.

    bench/run.sh --fc [--host] [--quick] [-- options]: bench/bench.py runs scenarios.py's "fc" (or another scenario of
    this procedure) with these options: (--root DIR --zip ZIP | --aot BIN) --streambench DLL --results DIR [--quick]
        [--systems nginx-tuned,nginx-original,fc-aot] [--variant 'NAME:bin=PATH,ENV=VALUE,...'] ...
        [--transports tls,plain] [--levels 10,25,50,100,200] [--rounds 5] [--cold-reps 7] [--phases cold,stream,ws]
        [--ws-levels 10,25,50] [--ws-frames 200] ...   (the WebSocket level: bench/lib/fc_ws.py)

The Debian 11 mode (--root, --zip; what bench/run.sh --fc runs) runs every system under test chrooted in a Debian 11
root, FC's custom.debian11 software: the proxy from the deploy zip through its bootstrap with FC's environment, nginx
1.18 from Debian 11 (bench/lib/fc_root.py). The host mode (--aot) runs this machine's nginx and the AOT build instead.

Each system under test runs in its own cgroup with a CPU quota of 10 ms per 100 ms (0.1 vCPU) and a 128 MB memory
limit (cgroup v1 cpu, cpuacct and memory controllers; the unified v2 hierarchy where that is what is mounted), on
CPU 1. The load generator (StreamBench client), the fake SSE upstream and the TLS terminator in front of it run
outside those cgroups, on CPU 0. The upstream leg is measured two ways: behind TLS offering ALPN h2 and http/1.1
with a throwaway CA and an intermediate (as api.openai.com serves it), and over plain HTTP.

Per level of concurrent streams (100 events 20 ms apart each: 50 events/s per stream) and per system, in
alternating rounds: per-event delay (arrival at the client minus the upstream's send stamp, one clock) p50/p99/max,
CPU per relayed event from the cgroup's CPU accounting, throttled periods, streams completed, the cgroup's peak
memory, limit hits and OOM kills. Cold start as FC sequences it (bench/lib/fc_cold.py): spawn into the cgroup, port
listening, POST /initialize (the proxy's initializer path), first proxied 200 over TLS, and the CPU the cgroup had used
at each point. Variants (--variant) are the AOT build with other settings or another binary: how
every same-run A/B in bench/README.md was made.

Loopback only; every process is stopped by PID on exit and every cgroup removed.
"""
import argparse
import atexit
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import fc_cold
import fc_root
import wholecore as h

BENCH = h.BENCH
LOAD_CPU, SUT_CPU = h.LOAD_CPU, h.SUT_CPU
# Ports from FCBENCH_PORT_BASE (default 18000), so two harnesses on one machine keep apart.
PORT_BASE = int(os.environ.get("FCBENCH_PORT_BASE", "18000"))
SSE_PORT, TLS_PORT = PORT_BASE + 281, PORT_BASE + 443
FIRST_PORT = PORT_BASE + 1201  # systems under test take ports from here
QUOTA_US, PERIOD_US, MEMORY_BYTES = 10_000, 100_000, 128 * 1024 * 1024
EVENTS, INTERVAL_MS = 100, 20
TLS_NAME = "localhost"  # resolves without DNS on every machine; the certificate names it

cgroups = []  # removed on exit


def log(*parts):
    print(*parts, flush=True)


# ---------------------------------------------------------------- cgroups

class Cgroup:
    """The seed's instance size: CPU quota QUOTA_US per PERIOD_US, MEMORY_BYTES, no swap. With sized=False, no limit
    at all: only the high CPU weight (the load side's cgroup)."""

    def __init__(self, name, sized=True):
        self.unified = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        if self.unified:
            root = Path("/sys/fs/cgroup")
            try:
                (root / "cgroup.subtree_control").write_text("+cpu +memory")
            except OSError:
                pass  # already enabled, or delegated by the service manager
            self.dirs = {"cpu": root / f"fcbench-{os.getpid()}-{name}"}
            self.dirs["memory"] = self.dirs["cpuacct"] = self.dirs["cpu"]
        else:
            self.dirs = {c: Path(f"/sys/fs/cgroup/{c}/fcbench-{os.getpid()}-{name}") for c in ("cpu", "cpuacct", "memory")}
        for d in set(self.dirs.values()):
            if d.exists():
                self._kill_and_remove(d)
            d.mkdir()
        # The quota is the instance's size; the high weight only makes the system under test win the CPU from
        # unrelated work on this shared machine whenever it has quota left, as an FC instance owns its vCPU share.
        self._write("cpu", "cpu.weight" if self.unified else "cpu.shares", "10000" if self.unified else "262144")
        if sized and self.unified:
            self._write("cpu", "cpu.max", f"{QUOTA_US} {PERIOD_US}")
            self._write("memory", "memory.max", str(MEMORY_BYTES))
            if (self.dirs["memory"] / "memory.swap.max").exists():
                self._write("memory", "memory.swap.max", "0")
        elif sized:
            self._write("cpu", "cpu.cfs_period_us", str(PERIOD_US))
            self._write("cpu", "cpu.cfs_quota_us", str(QUOTA_US))
            self._write("memory", "memory.limit_in_bytes", str(MEMORY_BYTES))
        cgroups.append(self)

    def _write(self, controller, name, value):
        (self.dirs[controller] / name).write_text(value)

    def _read(self, controller, name):
        return (self.dirs[controller] / name).read_text()

    def _stat(self, controller, name):
        return dict(line.split()[:2] for line in self._read(controller, name).splitlines() if line.strip())

    def enter(self, pid):
        for d in set(self.dirs.values()):
            (d / "cgroup.procs").write_text(str(pid))

    def cpu_ns(self):
        if self.unified:
            return int(self._stat("cpu", "cpu.stat")["usage_usec"]) * 1000
        return int(self._read("cpuacct", "cpuacct.usage"))

    def throttled(self):
        """(periods throttled, time throttled in ms, periods in which the group ran)."""
        s = self._stat("cpu", "cpu.stat")
        if self.unified:
            return int(s.get("nr_throttled", 0)), int(s.get("throttled_usec", 0)) / 1000, int(s.get("nr_periods", 0))
        return int(s.get("nr_throttled", 0)), int(s.get("throttled_time", 0)) / 1e6, int(s.get("nr_periods", 0))

    def memory_now(self):
        return int(self._read("memory", "memory.current" if self.unified else "memory.usage_in_bytes"))

    def reset_peak(self):
        try:
            self._write("memory", "memory.peak" if self.unified else "memory.max_usage_in_bytes", "0")
        except OSError:
            pass  # v2 kernels before 6.12 cannot reset memory.peak: the peak then covers the whole run

    def memory_peak(self):
        name = "memory.peak" if self.unified else "memory.max_usage_in_bytes"
        path = self.dirs["memory"] / name
        return int(path.read_text()) if path.exists() else self.memory_now()

    def memory_breakdown(self):
        """What the charged memory is, in bytes: anonymous (heaps, stacks), file pages, kernel (sockets, page tables)."""
        s = self._stat("memory", "memory.stat")
        if self.unified:
            return {"anon": int(s.get("anon", 0)), "file": int(s.get("file", 0)),
                    "kernel": int(s.get("kernel", 0)) or int(s.get("kernel_stack", 0)) + int(s.get("sock", 0))}
        kmem = self.dirs["memory"] / "memory.kmem.usage_in_bytes"
        return {"anon": int(s.get("rss", 0)), "file": int(s.get("cache", 0)),
                "kernel": int(kmem.read_text()) if kmem.exists() else 0}

    def account_sockets(self):
        """Counts the cgroup's TCP buffers from now on. cgroup v2 counts them inside the limit (memory.stat "sock");
        v1 keeps them apart, in memory.kmem.tcp.*, and only once a value has been written there: the highest."""
        if not self.unified:
            try:
                self._write("memory", "memory.kmem.tcp.limit_in_bytes", "-1")
            except OSError:
                pass  # a kernel without v1 TCP accounting: socket_bytes() then says 0

    def socket_bytes(self):
        """Memory in the cgroup's TCP socket buffers (see account_sockets)."""
        if self.unified:
            return int(self._stat("memory", "memory.stat").get("sock", 0))
        path = self.dirs["memory"] / "memory.kmem.tcp.usage_in_bytes"
        return int(path.read_text()) if path.exists() else 0

    def limit_hits(self):
        if self.unified:
            return int(self._stat("memory", "memory.events").get("max", 0))
        return int(self._read("memory", "memory.failcnt"))

    def oom_kills(self):
        if self.unified:
            return int(self._stat("memory", "memory.events").get("oom_kill", 0))
        return int(self._stat("memory", "memory.oom_control").get("oom_kill", 0))

    @staticmethod
    def _kill_and_remove(d):
        for _ in range(50):
            pids = [int(p) for p in (d / "cgroup.procs").read_text().split()] if (d / "cgroup.procs").exists() else []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                d.rmdir()
                return
            except OSError:
                time.sleep(0.1)

    def remove(self):
        for d in set(self.dirs.values()):
            if d.exists():
                self._kill_and_remove(d)
        if self in cgroups:
            cgroups.remove(self)


def remove_all_cgroups():
    for cg in list(cgroups):
        cg.remove()


# ---------------------------------------------------------------- TLS material

def make_tls(out):
    """A throwaway root CA, an intermediate and a P-256 leaf for localhost (as api.openai.com: ECDSA leaf, chain of
    two), and a trust bundle: the system's roots plus the throwaway root, so verification costs what it costs in FC."""
    d = out / "tls"
    d.mkdir(parents=True, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    (d / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    (d / "leaf.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-days", "30",
        "-subj", "/CN=fcbench root", "-keyout", "root.key", "-out", "root.pem", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=fcbench intermediate",
        "-keyout", "int.key", "-out", "int.csr")
    run("x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-days", "30",
        "-extfile", "ca.ext", "-out", "int.pem")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "leaf.key", "-out", "leaf.csr")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-CAcreateserial", "-days", "30",
        "-extfile", "leaf.ext", "-out", "leaf.pem")
    (d / "chain.pem").write_text((d / "leaf.pem").read_text() + (d / "int.pem").read_text())
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    (d / "bundle.pem").write_text((system.read_text() if system.exists() else "") + (d / "root.pem").read_text())
    return {"chain": d / "chain.pem", "key": d / "leaf.key", "bundle": d / "bundle.pem", "root": d / "root.pem"}


# ---------------------------------------------------------------- systems

class Systems:
    """How to start each system under test against a given upstream: nginx configs, the AOT build and variants."""

    def __init__(self, args, runner, tls, root=None):
        """root: a fc_root.BenchRoot to run every system in (the Debian 11 mode), or None for this machine's software."""
        self.args, self.runner, self.tls, self.root = args, runner, tls, root
        if root:
            # nginx prefixes inside the root, so that the chrooted nginx finds its config, pid and temp paths.
            self.runner = h.Runner(argparse.Namespace(results=str(root.tmp)))
        # Each proxy system's (binary or None, environment): the scenario's, then --variant's on top.
        self.variants = dict(getattr(args, "settings", {}))
        for spec in args.variant:
            name, _, settings = spec.partition(":")
            pairs = dict(p.split("=", 1) for p in settings.split(",") if p)
            binary, env = self.variants.get(name, (None, {}))
            self.variants[name] = (pairs.pop("bin", binary), {**env, **pairs})
        self.ports = {name: FIRST_PORT + i for i, name in enumerate(args.systems)}

    def command(self, system, transport):
        port = self.ports[system]
        listen = f"127.0.0.1:{port}"
        # In the root, nginx verifies against the system bundle, which holds the throwaway root (fc_root.BenchRoot).
        ca = fc_root.BUNDLE if self.root else self.tls["bundle"]
        if transport == "tls":
            upstream, tls = f"{TLS_NAME}:{TLS_PORT}", {"name": TLS_NAME, "ca": ca}
        else:
            upstream, tls = f"127.0.0.1:{SSE_PORT}", None
        conf = getattr(self.args, "nginx", {}).get(system)  # the scenario's nginx systems, by their config
        if conf or system.startswith("nginx-"):
            template = BENCH / "nginx" / (conf or ("original.conf" if system == "nginx-original" else "tuned.conf"))
            name = f"fc-{system}-{transport}"
            cmd = self.runner.nginx_conf(name, template, listen, upstream, tls=tls)
            return (self._in_root(cmd) if self.root else cmd), None
        if self.root:
            return self._fc_in_root(system, upstream, tls, port)
        binary, extra = self.variants.get(system, (None, {}))
        binary = binary or self.args.aot
        # What FC runs: build/bootstrap beside the binary (bench/run.sh puts it there), in FC's environment.
        launcher = Path(binary).with_name("bootstrap")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FC_", "DOTNET_", "ASPNETCORE_", "SSL_", "UPSTREAM_"))}
        env.update({"UPSTREAM_BASE_URL": f"{'https' if tls else 'http'}://{upstream}", "FC_CUSTOM_LISTEN_PORT": str(port),
                    "LISTEN_HOST": "127.0.0.1", "FC_FUNCTION_NAME": "fcbench", "FC_REGION": "ap-southeast-1",
                    "FC_FUNCTION_MEMORY_SIZE": str(MEMORY_BYTES // 2**20)})
        # The trust bootstrap sets up in FC (the system's bundle as UPSTREAM_CA_FILE, read as roots are needed), with
        # the throwaway root added to the bundle: named here because the machine's own bundle is not ours to change.
        env["UPSTREAM_CA_FILE"] = str(self.tls["bundle"])
        env.update(extra)
        return [str(launcher) if launcher.exists() else binary], env

    def _in_root(self, cmd):
        """An nginx command line for the chrooted nginx: its paths as seen inside the root. The root's nginx is 1.18,
        which has no -e: it opens its compiled-in error log (/var/log/nginx, in the root) until the config's is read."""
        conf = Path(cmd[cmd.index("-c") + 1])
        conf.write_text(conf.read_text().replace(str(self.root.root), ""))
        cmd = [a.replace(str(self.root.root), "") for a in cmd]
        i = cmd.index("-e")
        return ["/usr/sbin/nginx", *cmd[1:i], *cmd[i + 2:]]

    def _fc_in_root(self, system, upstream, tls, port):
        """The proxy as FC starts it: ./bootstrap from /code (a variant's copy of it), FC's environment and nothing
        of this machine's. bootstrap then chooses the trust itself (the root's system bundle)."""
        binary, extra = self.variants.get(system, (None, {}))
        code = self.root.variant_code(system, binary) if binary else "/code"
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
               "FC_FUNC_CODE_PATH": code, "FC_FUNCTION_NAME": "fcbench", "FC_REGION": "ap-southeast-1",
               "FC_FUNCTION_MEMORY_SIZE": str(MEMORY_BYTES // 2**20), "FC_CUSTOM_LISTEN_PORT": str(port),
               "UPSTREAM_BASE_URL": f"{'https' if tls else 'http'}://{upstream}", "LISTEN_HOST": "127.0.0.1", **extra}
        return ["./bootstrap"], env, code

    def start(self, system, transport, cgroup, err, out=None):
        """Starts a system in its cgroup (chrooted in the Debian 11 mode); its stdout (the proxy's log) is dropped
        unless `out` is a file."""
        cmd, env, *cwd = self.command(system, transport)
        root = str(self.root.root) if self.root else None

        def enter():
            os.sched_setaffinity(0, SUT_CPU)
            cgroup.enter(os.getpid())
            if root:
                os.chroot(root)
                os.chdir(cwd[0] if cwd else "/")

        proc = subprocess.Popen(cmd, env=env, stdout=out or subprocess.DEVNULL, stderr=err, preexec_fn=enter)
        h.started.append(proc)
        return proc


# ---------------------------------------------------------------- probes

CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}'


def first_200(port, deadline_s=120.0, token="sk-bench"):
    """Polls until the system answers a proxied chat completion: connection attempts 0.5 ms apart until one is
    accepted, then one request, waited for as long as it takes (under the quota the first one is slow). `token` is the
    bearer token sent: a client's own key, or an access token for a proxy in server-key mode.
    Returns (status or None, monotonic time of the answer)."""
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(CHAT)}\r\nConnection: close\r\n\r\n").encode() + CHAT
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        except OSError:
            time.sleep(0.0005)
            continue
        with s:
            s.settimeout(max(1.0, end - time.monotonic()))
            status = exchange(s, request)
            now = time.monotonic()
            if status is not None:
                return status, now
        time.sleep(0.0005)
    return None, time.monotonic()


def exchange(s, request):
    """Sends a request on a connected socket and reads up to its status line: the status, or None (no HTTP answer)."""
    try:
        s.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


class PeakSampler(threading.Thread):
    """Samples a cgroup's memory every 50 ms and keeps the breakdown seen at the highest usage."""

    def __init__(self, cgroup):
        super().__init__(daemon=True)
        self.cgroup, self.running, self.peak, self.at_peak = cgroup, True, 0, {}

    def run(self):
        while self.running:
            try:
                now = self.cgroup.memory_now()
                if now > self.peak:
                    self.peak, self.at_peak = now, self.cgroup.memory_breakdown()
            except OSError:
                pass
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.join()
        return {k: v / 2**20 for k, v in self.at_peak.items()}


LOAD = {}  # the load side's cgroup, once created


def load_side():
    """Runs in a load-side child before exec: CPU 0 and the load side's weighted cgroup."""
    os.sched_setaffinity(0, LOAD_CPU)
    if "cgroup" in LOAD:
        LOAD["cgroup"].enter(os.getpid())


def spawn_load(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=load_side)
    h.started.append(proc)
    return proc


def stream_run(args, port, streams, out_file, events=EVENTS, interval_ms=None, token=None, load=None):
    """StreamBench's client on the load side: streams of events (interval_ms apart, or the upstream's pace), sending
    `token` as its bearer token if given (StreamBench's own sk-bench otherwise). load: a scenario's client arguments
    instead ({level}: the streams), which then say the events too."""
    load = load or ["client", "--streams", "{level}", "--events", str(events)]
    cmd = ["dotnet", args.streambench, *[a.format(level=streams) for a in load], "--port", str(port),
           "--ramp-ms", str(args.ramp_ms), "--timeout-ms", "120000", "--out", str(out_file)]
    if interval_ms:
        cmd += ["--interval-ms", str(interval_ms)]
    if token:
        cmd += ["--token", token]
    subprocess.run(cmd, capture_output=True, text=True, timeout=300 + events * (interval_ms or INTERVAL_MS) / 1000,
                   preexec_fn=load_side)
    try:
        return json.loads(Path(out_file).read_text())
    except (OSError, ValueError):
        return {"streams": streams, "ok": 0, "errors": streams, "error_samples": ["client produced no result"],
                "ttfe_us": [], "delay_us": []}


def tls_ready(bundle, deadline_s=10.0):
    """True once the TLS terminator completes a handshake that verifies against the bundle and offers h2."""
    import ssl
    context = ssl.create_default_context(cafile=str(bundle))
    context.set_alpn_protocols(["h2", "http/1.1"])
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=2) as raw:
                with context.wrap_socket(raw, server_hostname=TLS_NAME) as tls:
                    return tls.selected_alpn_protocol() == "h2"
        except OSError:
            time.sleep(0.05)
    return False


def pct(values, p):
    return h.pct(values, p)


# ---------------------------------------------------------------- phases

def streams_phase(args, systems, results, transport):
    names = list(args.systems)
    out = Path(args.results)
    cgs, procs = {}, {}
    for s in names:
        cgs[s] = Cgroup(f"{transport}-{s}")
        procs[s] = systems.start(s, transport, cgs[s], open(out / f"{s}.{transport}.stderr.log", "ab"))
    for s in names:
        status, _ = first_200(systems.ports[s], token=args.token)
        if status != 200:
            results["errors"].append(f"{transport} {s}: did not start (answered {status})")
    for s in names:  # warm-up: connection pools, TLS sessions, first-use paths
        stream_run(args, systems.ports[s], 25, out / f"warm-{transport}-{s}.json", token=args.token)
    level_results = results["streams"].setdefault(transport, {})
    for level in args.levels:
        for s in names:
            cgs[s].reset_peak()
        hits0 = {s: cgs[s].limit_hits() for s in names}

        def one_round(s, r):
            return stream_round(args, systems.ports[s], cgs[s], level, out / f"stream-{transport}-{s}-{level}-{r}.json",
                                load=args.stream_client)

        def line(s, r, d, row):
            return (f"  {transport:5s} {level:4d} streams r{r} {s:18s} ok {d['ok']}/{level}  delay p50 "
                    f"{fmt(row['delay_p50_ms'])} p99 {fmt(row['delay_p99_ms'])} max {fmt(row['delay_max_ms'])} ms  "
                    f"cpu/event {fmt(row['cpu_us_per_event'])} us  throttled {row['throttled_periods']}")

        per = alternating_rounds(args, names, procs, results, (transport, level, "streams"), one_round, line)
        level_results[str(level)] = {}
        for s in names:
            rows = per[s]
            level_results[str(level)][s] = {
                **stream_medians(rows),
                "peak_mb": cgs[s].memory_peak() / 2**20,
                "at_peak_mb": max((r["at_peak_mb"] for r in rows), key=lambda b: sum(b.values()), default={}),
                "limit_hits": cgs[s].limit_hits() - hits0[s],
                "oom_kills": cgs[s].oom_kills(),
            }
    for s in names:
        h.stop(procs[s])
        cgs[s].remove()


def alternating_rounds(args, names, procs, results, label, one_round, line):
    """args.rounds rounds of one level, each system once a round and the order turned by one each round, so that no
    system always runs first or right after another: one_round(system, round) -> (client result, row); line(system,
    round, result, row) -> its log line. A round's broken streams or sessions, and a system that exited, go to
    results["errors"] under label (transport, level, unit). Returns the rows per system."""
    kind, level, unit = label
    per = {s: [] for s in names}
    for r in range(1, args.rounds + 1):
        for s in names[(r - 1) % len(names):] + names[:(r - 1) % len(names)]:
            d, row = one_round(s, r)
            per[s].append(row)
            if d["errors"]:
                results["errors"].append(f"{kind} {s} {level} {unit} round {r}: {d['errors']} broken {d['error_samples'][:2]}")
            if procs[s].poll() is not None:
                results["errors"].append(f"{kind} {s}: exited with {procs[s].returncode} at {level} {unit}")
            log(line(s, r, d, row))
    return per


def stream_round(args, port, cg, streams, out_file, token=None, load=None):
    """One round of `streams` concurrent streams against the system in cgroup `cg`: StreamBench's result, and its row:
    p50, p99 and max in ms of each list of microseconds in the client's result ("delay_us" gives delay_p50_ms ...),
    CPU per relayed event from the cgroup's accounting, throttled periods, memory at the cgroup's peak."""
    cpu0, (thr0, thr_ms0, periods0) = cg.cpu_ns(), cg.throttled()
    sampler = PeakSampler(cg)
    sampler.start()
    d = stream_run(args, port, streams, out_file, token=token, load=load)
    cpu1, (thr1, thr_ms1, periods1) = cg.cpu_ns(), cg.throttled()
    at_peak = sampler.stop()
    events = len(d.get("delay_us", []))
    if len(d.get("attempt") or []) == len(d.get("ttfb_us") or []) > 0:
        # --request-ids on: each stream's time to first byte by whether the proxy failed over (attempt 2 or later).
        pairs = list(zip(d["attempt"], d["ttfb_us"]))
        d["ttfb_first_try_us"] = [t for a, t in pairs if a == 1]
        d["ttfb_failed_over_us"] = [t for a, t in pairs if a > 1]
    lists = {k[:-3]: v for k, v in d.items() if k.endswith("_us") and isinstance(v, list)}
    return d, {
        "ok": d["ok"], "streams": d["streams"], "errors": d["errors"], "events": events,
        **{f"{k}_{stat}_ms": ms(pct(v, p) if p else max(v, default=None))
           for k, v in lists.items() for stat, p in (("p50", 50), ("p99", 99), ("max", None))},
        "cpu_us_per_event": (cpu1 - cpu0) / 1000 / events if events else None,
        "cpu_ms": (cpu1 - cpu0) / 1e6, "throttled_periods": thr1 - thr0, "throttled_ms": thr_ms1 - thr_ms0,
        "periods": periods1 - periods0,
        "at_peak_mb": at_peak,
    }


def stream_medians(rows):
    """A level's rounds (stream_round's rows), summed up: medians over the rounds, streams completed."""
    return {
        "rounds": rows,
        **{k: med(r.get(k) for r in rows) for k in rows[0] if k.endswith(("_p50_ms", "_p99_ms", "_max_ms"))},
        "cpu_us_per_event": med(r["cpu_us_per_event"] for r in rows),
        "throttled_periods": med(r["throttled_periods"] for r in rows),
        # The share of its quota periods in which the system ran out of CPU: near 1, its CPU per event is the
        # quota divided by the events, whatever its real cost.
        "throttled_share": med(r["throttled_periods"] / r["periods"] for r in rows if r.get("periods")),
        "completed": sum(r["ok"] for r in rows), "streams": sum(r["streams"] for r in rows),
    }


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ms(us):
    return None if us is None else us / 1000


def fmt(v):
    return "-" if v is None else f"{v:.1f}"


def start_upstreams(args, runner, tls):
    """The load side: its weighted cgroup on CPU 0, the SSE upstream and the TLS terminator in front of it."""
    LOAD["cgroup"] = Cgroup("load", sized=False)
    upstream = getattr(args, "upstream", None) or ["upstream", "--events", str(EVENTS), "--interval-ms", str(INTERVAL_MS)]
    spawn_load(["dotnet", args.streambench, *upstream, "--port", str(SSE_PORT)])
    spawn_load(runner.nginx_conf(f"fc-tls-upstream-{PORT_BASE}", BENCH / "nginx/tls-upstream.conf", f"127.0.0.1:{TLS_PORT}",
                                 f"127.0.0.1:{SSE_PORT}", extra={"LISTEN6": f"[::1]:{TLS_PORT}", "CERT": tls["chain"],
                                                                  "KEY": tls["key"]}))


# ---------------------------------------------------------------- main

def start_run(args, out):
    """What every FC-shaped harness sets up first (this one, fc_limits.py, fc_store.py): the Debian 11 root (--root,
    --zip) or none (--aot), exit handlers that stop every process and remove every cgroup, and the run's TLS chain, whose
    throwaway root the root's bundle then trusts. Returns (root or None, tls)."""
    root = fc_root.open_root(args, f"fcbench-{PORT_BASE}")
    atexit.register(remove_all_cgroups)
    atexit.register(h.stop_all)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    tls = make_tls(out)
    if root:
        root.set_up(tls["root"])
    return root, tls


def main(argv, scenario):
    """Runs scenario (bench/scenarios.py) with the options in argv: its systems, nginx configs and environments,
    upstream, stream load, levels and metrics, unless an option says otherwise."""
    ap = argparse.ArgumentParser()
    fc_root.add_arguments(ap)
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--systems", default=",".join(scenario["systems"]))
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--transports", default=",".join(scenario.get("transports", ["tls", "plain"])))
    ap.add_argument("--levels")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--cold-reps", type=int)
    ap.add_argument("--ramp-ms", type=int, default=1000)
    ap.add_argument("--phases", default=",".join(scenario.get("phases", ["cold", "stream", "ws"])),
                    help="cold, stream, ws (Realtime WebSocket sessions)")
    import fc_ws
    fc_ws.add_arguments(ap)
    args = ap.parse_args(argv)
    systems = scenario["systems"]
    args.nginx = {s: v["nginx"] for s, v in systems.items() if "nginx" in v}
    args.settings = {s: (v.get("bin"), dict(v.get("env", {}))) for s, v in systems.items() if "nginx" not in v}
    args.upstream, args.stream_client = scenario.get("upstream"), scenario.get("load", {}).get("stream")
    # The bearer token of the first request, the warm-up and the cold starts: an access token in server-key mode.
    args.token = scenario.get("token", "sk-bench")
    # nginx resolves relative paths in its config against its prefix, not this directory: the TLS terminator would not
    # find the certificates under a relative --results.
    args.results = os.path.abspath(args.results)
    args.systems = [s for s in args.systems.split(",") if s]
    args.systems += [v.partition(":")[0] for v in args.variant if v.partition(":")[0] not in args.systems]
    args.transports = [t for t in args.transports.split(",") if t]
    q = args.quick
    args.levels = ([int(x) for x in args.levels.split(",")] if args.levels else
                   scenario.get("quick_levels" if q else "levels") or scenario.get("levels", []))
    args.rounds = args.rounds or (1 if q else 5)
    args.cold_reps = args.cold_reps if args.cold_reps is not None else (2 if q else 7)
    if os.geteuid() != 0:
        sys.exit("bench/lib/fc.py needs root: it creates cgroups and writes their limits")
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    root, tls = start_run(args, out)
    runner = h.Runner(argparse.Namespace(results=str(out)))
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": q, "errors": [], "cold": {}, "streams": {},
               **fc_root.describe(root),
               "machine": h.machine(), "cgroup": "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1",
               "config": {"systems": args.systems, "variants": args.variant, "levels": args.levels,
                          "rounds": args.rounds, "cold_reps": args.cold_reps, "events": EVENTS,
                          "interval_ms": INTERVAL_MS, "ramp_ms": args.ramp_ms, "quota_us": QUOTA_US,
                          "period_us": PERIOD_US, "memory_mb": MEMORY_BYTES // 2**20,
                          "transports": args.transports, "metrics": scenario.get("metrics")}}
    systems = Systems(args, runner, tls, root)

    log("== fake upstream: SSE on CPU 0, behind TLS (h2, http/1.1) and plain")
    start_upstreams(args, runner, tls)
    if not h.wait_ready(SSE_PORT) or not tls_ready(tls["bundle"]):
        sys.exit("the fake upstream did not start (is a previous run still holding its ports?)")

    if "cold" in args.phases:
        log(f"== cold start under the quota, as FC sequences it (spawn, listening, /initialize, first proxied 200 over "
            f"TLS), {args.cold_reps} alternating reps")
        fc_cold.cold_phase(args, systems, results, token=args.token)
    if "stream" in args.phases:
        for transport in args.transports:
            log(f"== {transport}: levels {args.levels} x {EVENTS} events {INTERVAL_MS} ms apart, {args.rounds} rounds")
            streams_phase(args, systems, results, transport)
    if "ws" in args.phases:
        fc_ws.ws_phase(args, systems, results)

    (out / "results.json").write_text(json.dumps(results, indent=1))
    log(f"== results in {out}")
    return 0

