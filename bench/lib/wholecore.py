#!/usr/bin/env python3
"""Side-by-side benchmark of FcHandler against the original nginx recipe and a tuned plain-nginx proxy.

bench/run.sh (scenarios.py's "wholecore", through bench/bench.py) installs the tools, builds the binaries, runs this. Everything here talks to 127.0.0.1
only, every load loop is bounded in count and time, and every process started is stopped by PID on exit.

CPU placement (2 cores): the system under test always runs alone on CPU 1; the load generators (wrk, the stream
client) and the fake upstream share CPU 0. "direct" is a second fake upstream instance placed on CPU 1 like a
system under test, so its row is also the upstream's own one-core capacity.
"""
import argparse
import atexit
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent  # bench/, this file being in bench/lib
LOAD_CPU, SUT_CPU = {0}, {1}
STATIC_PORT, STATIC_DIRECT_PORT = 18080, 18090
SSE_PORT, SSE_DIRECT_PORT = 18081, 18091
FIRST_PORT = 19001  # systems under test take ports from here, in the scenario's order
PATH = "/v1/chat/completions"
CHAT_BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}'

started = []  # every Popen this harness started, stopped in reverse order on exit


def log(*parts):
    print(*parts, flush=True)


# ---------------------------------------------------------------- processes

def spawn(cmd, cpus, env=None, stdout=subprocess.DEVNULL, stderr=None):
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr or subprocess.DEVNULL,
                            preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    started.append(proc)
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # nginx's master stops its workers on TERM
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc in started:
        started.remove(proc)


def stop_all():
    for proc in reversed(list(started)):
        stop(proc)


def pids_of(proc):
    """The process and its children (nginx workers)."""
    pids = [proc.pid]
    try:
        for task in os.listdir(f"/proc/{proc.pid}/task"):
            children = Path(f"/proc/{proc.pid}/task/{task}/children").read_text().split()
            pids += [int(c) for c in children]
    except OSError:
        pass
    return pids


def status_kb(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(proc):
    """User plus system CPU time of the process and its children (nginx workers), in seconds."""
    total = 0
    for pid in pids_of(proc):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(proc):
    return sum(status_kb(p, "VmRSS") for p in pids_of(proc)) / 1024


# ---------------------------------------------------------------- HTTP probes

def post_once(port, timeout=5.0):
    """One POST of a small chat completion; returns the status code, or None if nothing answered."""
    req = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer sk-bench\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(CHAT_BODY)}\r\nConnection: close\r\n\r\n").encode() + CHAT_BODY
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(req)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
            return int(data.split(b" ", 2)[1])
    except OSError:
        return None


def wait_ready(port, deadline_s=20.0):
    """Spawn-to-first-proxied-200 polling: connect attempts 0.5 ms apart until a 200 comes back."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if post_once(port, timeout=2.0) == 200:
            return True
        time.sleep(0.0005)
    return False


# ---------------------------------------------------------------- systems

class Runner:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.results)
        self.out.mkdir(parents=True, exist_ok=True)
        self.nginx_dir = self.out / "nginx"
        self.nginx_dir.mkdir(exist_ok=True)

    def nginx_conf(self, name, template, listen, upstream, tls=None, extra=None):
        """An nginx command line for one of bench/nginx/'s configs. tls: None for a plain-HTTP upstream, else
        {"name": the upstream's TLS name, "ca": a CA bundle to verify it with}; extra: more @KEY@ substitutions."""
        prefix = self.nginx_dir / name
        for sub in ("", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        text = template.read_text()
        if template.name == "original.conf":
            # The original as it is, but: the fake upstream instead of api.openai.com and its own loopback port
            # instead of 9000. Over plain HTTP its proxy_ssl_* lines are dropped (and only they).
            if tls is None:
                text = "\n".join(l for l in text.splitlines() if "proxy_ssl_" not in l)
            text = text.replace("https://api.openai.com", f"{'https' if tls else 'http'}://{upstream}")
            text = text.replace("listen 9000;", f"listen {listen};")
        else:
            tls_lines = "" if tls is None else (
                f"      proxy_ssl_server_name on;\n      proxy_ssl_name {tls['name']};\n"
                f"      proxy_ssl_verify on;\n      proxy_ssl_trusted_certificate {tls['ca']};\n"
                "      proxy_ssl_session_reuse on;\n")
            for key, value in (("@UPSTREAM@", upstream), ("@LISTEN@", listen), ("@PREFIX@", str(prefix)),
                               ("@SCHEME@", "https" if tls else "http"), ("@TLS@", tls_lines)):
                text = text.replace(key, value)
            for key, value in (extra or {}).items():
                text = text.replace(f"@{key}@", str(value))
        # What any nginx outside /etc needs: its own pid file and temp paths, and (as root) workers that can use them.
        main = f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        if os.geteuid() == 0:
            main += "user root;\n"
        temps = "".join(f"  {k}_temp_path {prefix}/tmp/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        text = main + text.replace("http {", "http {\n" + temps, 1)
        conf = prefix / "nginx.conf"
        conf.write_text(text)
        return ["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]

    def start_static_upstream(self, port, cpus, name):
        cmd = self.nginx_conf(name, BENCH / "nginx/upstream.conf", f"127.0.0.1:{port}", "")
        return spawn(cmd, cpus)

    def start_sse_upstream(self, port, cpus):
        cmd = ["dotnet", self.args.streambench, "upstream", "--port", str(port),
               "--events", str(self.args.events), "--interval-ms", str(self.args.interval_ms)]
        return spawn(cmd, cpus)

    def sut_command(self, system, upstream_port):
        port, settings = self.args.ports[system], self.args.settings[system]
        if "nginx" in settings:
            template = BENCH / "nginx" / settings["nginx"]
            return self.nginx_conf(f"{system}-{upstream_port}", template, f"127.0.0.1:{port}", f"127.0.0.1:{upstream_port}"), None
        env = dict(os.environ)
        env.update({"UPSTREAM_BASE_URL": f"http://127.0.0.1:{upstream_port}", "FC_CUSTOM_LISTEN_PORT": str(port),
                    "LISTEN_HOST": "127.0.0.1"})
        env.pop("FC_FUNCTION_NAME", None)
        env.update(settings.get("env", {}))  # fc-aot-quiet: the access log off through configuration alone
        binary = settings.get("bin") or self.args.aot
        return [self.args.jit if binary == "jit" else binary], env

    def start_sut(self, system, upstream_port):
        cmd, env = self.sut_command(system, upstream_port)
        err = open(self.out / f"{system}.stderr.log", "ab")
        # stdout (the access log of the original config and of FcHandler) goes to /dev/null: each still formats
        # and writes its line, as in FC, without disk noise in the figures.
        return spawn(cmd, SUT_CPU, env=env, stderr=err)


# ---------------------------------------------------------------- measurements

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port, seconds, connections):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency",
           "-s", str(BENCH / "post.lua"), f"http://127.0.0.1:{port}{PATH}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    res = {"rps": 0.0, "p50": None, "p99": None, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            res[key] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["errors"] += int(m.group(1))
    if res["requests"] == 0:
        res["errors"] += 1
    return res


def stream_run(args, port, streams, out_file):
    cmd = ["taskset", "-c", "0", "dotnet", args.streambench, "client", "--port", str(port), "--streams", str(streams),
           "--events", str(args.events), "--ramp-ms", str(args.ramp_ms), "--out", str(out_file)]
    subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        return json.loads(Path(out_file).read_text())
    except (OSError, ValueError):
        return {"streams": streams, "ok": 0, "errors": streams, "error_samples": ["client produced no result"],
                "ttfe_us": [], "delay_us": []}


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class RssSampler(threading.Thread):
    """Samples the summed RSS of the given processes every 50 ms and keeps the maximum."""

    def __init__(self, procs):
        super().__init__(daemon=True)
        self.procs, self.peak, self.running = procs, {}, True

    def run(self):
        while self.running:
            for name, proc in self.procs.items():
                self.peak[name] = max(self.peak.get(name, 0.0), rss_mb(proc))
            time.sleep(0.05)


# ---------------------------------------------------------------- phases

def in_phase(args, system, phase):
    """Whether the system takes part in a phase: every one, unless its settings name its phases."""
    return phase in args.settings[system].get("phases", (phase,))


def cold_start(runner, results):
    args = runner.args
    systems = [s for s in args.systems if in_phase(args, s, "cold") and s != "direct"]
    times = {s: [] for s in systems}
    for rep in range(args.cold_reps):
        for system in systems[rep % len(systems):] + systems[:rep % len(systems)]:
            cmd, env = runner.sut_command(system, STATIC_PORT)
            t0 = time.monotonic()
            proc = spawn(cmd, SUT_CPU, env=env)
            ok = wait_ready(args.ports[system])
            elapsed = (time.monotonic() - t0) * 1000
            stop(proc)
            if ok:
                times[system].append(elapsed)
            else:
                results["errors"].append(f"cold start {system}: no 200 within 20 s")
            time.sleep(0.2)
    for system in systems:
        results["cold_ms"][system] = statistics.median(times[system]) if times[system] else None
        log(f"  cold start {system:15s} median {results['cold_ms'][system] or 0:7.1f} ms  of {[round(t, 1) for t in times[system]]}")


def throughput(runner, results):
    args = runner.args
    systems = [s for s in args.systems if in_phase(args, s, "http")]
    procs = {s: runner.start_sut(s, STATIC_PORT) for s in systems if s != "direct"}
    ports = dict(args.ports, direct=STATIC_DIRECT_PORT)
    for s, proc in procs.items():
        if not wait_ready(ports[s]):
            results["errors"].append(f"{s} did not start")
    time.sleep(1.0)
    for s, proc in procs.items():
        results["rss_idle_mb"][s] = rss_mb(proc)
        log(f"  idle RSS {s:15s} {results['rss_idle_mb'][s]:6.1f} MB")
    for s in systems:  # warm-up: JIT tiers, connection pools, nginx keepalive caches
        wrk(ports[s], args.warmup_s, args.connections)
    samples = {s: [] for s in systems}
    for r in range(args.rounds):
        order = systems[r % len(systems):] + systems[:r % len(systems)]  # alternate who goes first
        for s in order:
            cpu0 = cpu_seconds(procs[s]) if s in procs else None
            res = wrk(ports[s], args.duration_s, args.connections)
            # CPU time the system under test spent per request: the cost that decides throughput on one core.
            res["cpu_us"] = (cpu_seconds(procs[s]) - cpu0) * 1e6 / res["requests"] if cpu0 is not None and res["requests"] else None
            samples[s].append(res)
            if res["errors"]:
                results["errors"].append(f"{s} round {r + 1}: {res['errors']} non-2xx/socket errors")
            log(f"  round {r + 1} {s:15s} {res['rps']:9.0f} req/s  p50 {res['p50']} ms  p99 {res['p99']} ms  cpu/req {fmt(res['cpu_us'])} us  errors {res['errors']}")
    for s in systems:
        results["http"][s] = {
            "rps": statistics.median(x["rps"] for x in samples[s]),
            "p50": statistics.median(x["p50"] or 0 for x in samples[s]),
            "p99": statistics.median(x["p99"] or 0 for x in samples[s]),
            "errors": sum(x["errors"] for x in samples[s]),
            "cpu_us_per_req": statistics.median(x["cpu_us"] for x in samples[s]) if samples[s][0]["cpu_us"] is not None else None,
            "rounds": [round(x["rps"]) for x in samples[s]],
        }
    for proc in procs.values():
        stop(proc)


def streaming(runner, results):
    args = runner.args
    systems = [s for s in args.systems if in_phase(args, s, "stream")]
    procs = {s: runner.start_sut(s, SSE_PORT) for s in systems if s != "direct"}
    ports = dict(args.ports, direct=SSE_DIRECT_PORT)
    for s in procs:
        if not wait_ready(ports[s]):
            results["errors"].append(f"{s} did not start for streaming")
    for s in systems:  # warm-up
        stream_run(args, ports[s], 50, runner.out / f"warm-{s}.json")
    sampler = RssSampler(procs)
    sampler.start()
    per = {s: {"ttfe": [], "delay": [], "p99s": [], "errors": 0} for s in systems}
    for r in range(args.stream_rounds):
        order = systems[r % len(systems):] + systems[:r % len(systems)]
        for s in order:
            d = stream_run(args, ports[s], args.streams, runner.out / f"stream-{s}-{r + 1}.json")
            per[s]["ttfe"] += d["ttfe_us"]
            per[s]["delay"] += d["delay_us"]
            per[s]["p99s"].append(pct(d["delay_us"], 99))
            per[s]["errors"] += d["errors"]
            if d["errors"]:
                results["errors"].append(f"{s} stream round {r + 1}: {d['errors']} broken streams {d['error_samples'][:2]}")
            log(f"  round {r + 1} {s:15s} ok {d['ok']}/{d['streams']}  delay p50 {fmt(pct(d['delay_us'], 50))} "
                f"p99 {fmt(pct(d['delay_us'], 99))} max {fmt(max(d['delay_us'], default=None))} us  "
                f"ttfe p50 {fmt(pct(d['ttfe_us'], 50))} us")
    sampler.running = False
    sampler.join()
    for s in systems:
        p = per[s]
        results["stream"][s] = {
            "ttfe_p50_ms": ms(pct(p["ttfe"], 50)), "ttfe_p99_ms": ms(pct(p["ttfe"], 99)),
            "delay_p50_ms": ms(pct(p["delay"], 50)), "delay_p99_ms": ms(pct(p["delay"], 99)),
            "delay_max_ms": ms(max(p["delay"], default=None)),
            # the issue asks for medians over rounds: the median of the per-round p99s, beside the pooled one
            "delay_p99_round_median_ms": ms(statistics.median(x for x in p["p99s"] if x is not None)) if any(p["p99s"]) else None,
            "errors": p["errors"], "events": len(p["delay"]),
        }
        if s in procs:
            hwm = sum(status_kb(pid, "VmHWM") for pid in pids_of(procs[s])) / 1024
            results["rss_peak_mb"][s] = sampler.peak.get(s, 0.0)
            results["hwm_mb"][s] = hwm
        results["delay_hist"][s] = p["delay"]
    for proc in procs.values():
        stop(proc)


def fmt(v):
    return "-" if v is None else f"{v:.0f}"


def ms(us):
    return None if us is None else us / 1000


# ---------------------------------------------------------------- main

def main(argv, scenario):
    ap = argparse.ArgumentParser()
    ap.add_argument("--aot", required=True)
    ap.add_argument("--jit", required=True)
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--systems", default=",".join(scenario["systems"]), help="which of the scenario's, and variants")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:ENV=VALUE,...,bin=PATH",
                    help="the AOT build with other settings, or another build: a same-run A/B")
    args = ap.parse_args(argv)
    args.settings = dict(scenario["systems"])
    for spec in args.variant:
        name, _, pairs = spec.partition(":")
        env = dict(p.split("=", 1) for p in pairs.split(",") if p)
        args.settings[name] = {"bin": env.pop("bin", None), "env": env}
    args.systems = [s for s in args.systems.split(",") if s] + [v.partition(":")[0] for v in args.variant]
    args.ports = {s: FIRST_PORT + i for i, s in enumerate(args.systems)}
    q = args.quick
    args.rounds, args.duration_s, args.warmup_s, args.connections = (1, 3, 1, 64) if q else (5, 5, 2, 64)
    args.stream_rounds, args.streams = (1, 100) if q else (3, 500)
    args.events, args.interval_ms, args.ramp_ms = (10, 100, 500) if q else (20, 100, 500)
    args.cold_reps = 2 if q else 7

    atexit.register(stop_all)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))

    runner = Runner(args)
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": q, "errors": [], "cold_ms": {}, "http": {},
               "stream": {}, "rss_idle_mb": {}, "rss_peak_mb": {}, "hwm_mb": {}, "delay_hist": {},
               "config": {k: v for k, v in vars(args).items() if k not in ("aot", "jit", "streambench", "results")},
               "machine": machine()}

    log("== fake upstreams")
    runner.start_static_upstream(STATIC_PORT, LOAD_CPU, "upstream")
    runner.start_static_upstream(STATIC_DIRECT_PORT, SUT_CPU, "upstream-direct")
    runner.start_sse_upstream(SSE_PORT, LOAD_CPU)
    runner.start_sse_upstream(SSE_DIRECT_PORT, SUT_CPU)
    for port in (STATIC_PORT, STATIC_DIRECT_PORT, SSE_PORT, SSE_DIRECT_PORT):
        if not wait_ready(port):
            sys.exit(f"fake upstream on {port} did not start")

    log("== cold start (spawn to first proxied 200)")
    cold_start(runner, results)
    log("== non-streaming: wrk, 64 connections")
    throughput(runner, results)
    log(f"== streaming: {args.streams} concurrent streams x {args.events} events, {args.interval_ms} ms apart")
    streaming(runner, results)

    hist = results.pop("delay_hist")
    Path(args.results, "results.json").write_text(json.dumps(results, indent=1))
    Path(args.results, "delays.json").write_text(json.dumps(hist))
    log(f"== results in {args.results}")
    return 0


def machine():
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name"))
    except StopIteration:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GB, shared"

