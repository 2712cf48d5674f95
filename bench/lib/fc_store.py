#!/usr/bin/env python3
"""What rate limits and budgets cost on the seed's instance size, in memory and in a shared Redis store.

    bench/run.sh --store [--quick] [-- options]: bench/bench.py runs scenarios.py's "store" with these options:
        (--root DIR --zip ZIP [--symbols DBG] | --aot BIN) --streambench DLL --results DIR [--quick] [options]

Every system is the NativeAOT proxy in server-key mode (OPENAI_API_KEY set, one static access token in
PROXY_ACCESS_TOKENS, which every request of the load sends: subject static-1), started through build/bootstrap in FC's
environment, alone in a cgroup of bench/lib/fc.py's shape (0.1 vCPU, 128 MB, on CPU 1), from its own copy of the binary
(a page of it is charged to the cgroup that first reads it). In the Debian 11 mode (--root, --zip; what bench/run.sh
runs unless --host) each copy is of the deploy zip's /code, chrooted in the root as bench/lib/fc.py runs it:

  off           no limits: the baseline
  memory        LIMITS_DEFAULT with every kind of limit (rpm, tpm, concurrency, a monthly budget), all far out of
                reach, so each decision runs the whole algorithm and none refuses; LIMITS_STORE unset
  redis         the same limits in a real redis-server (LIMITS_STORE=redis://127.0.0.1:PORT/0), the default
                LIMITS_STORE_TIMEOUT (250ms); redis-100ms and redis-500ms: the same with that timeout
  store-down    (cold start only) LIMITS_STORE at a loopback port nobody listens on, LIMITS_STORE_FAILURE=local

redis-server (Debian's) runs on the load side, CPU 0, outside the instance's cgroup, without persistence, on a free
loopback port; the fake upstream behind its TLS terminator (bench/lib/fc.py) and the load (bench/lib/fc_load.py --rate, an
open-loop pace of non-streaming chat completions with max_tokens on kept-alive connections; StreamBench's client for
streams) run there too.

Phases, in this order:
  cold      spawn to first proxied 200 over TLS, alternating, median of --cold-reps: off, memory, redis, store-down
  idle      all systems started and warmed up, then --idle-s seconds with nothing to do (past the 5 s idle trim): the
            cgroup's memory and its parts, RSS, threads, the GC's committed heap
  light     --light-rate requests a second for --light-s, --rounds alternating rounds of off, memory, redis: CPU per
            request (cgroup accounting / answers), latency from when each request was due, the proxy's own timings
            (access lines), and what the store did
  streams   --stream-levels concurrent streams (100 events 20 ms apart each) of off, memory and redis, alternating
            rounds: CPU per relayed event and event delays (bench/lib/fc.py's stream rounds); memory tells what limits
            cost a stream (a limited stream's events pass the usage filter) from what the store costs
  pressure  paced levels where the quota binds (--pressure-rates, 150/s and 400/s: every system runs out of CPU in
            most 100 ms periods and still keeps up, its CPU per request shrinking as work batches up), and
            --overload-rates (800/s: beyond what the instance can do, answers queue for seconds), --pressure-rounds
            alternating rounds of off, memory and redis at 100, 250 and 500 ms: are there fallbacks although the
            store is healthy?
  hung      the store stopped (SIGSTOP: connected, but it answers nothing) for --hung-s at the light rate, per store
            timeout; then resumed: what a dead store costs each request, and how soon the proxy uses it again

What the store did, per round of a redis system: the script calls it ran (INFO commandstats: EVALSHA and EVAL) and
their execution time (INFO latencystats). Each request the store decides costs two calls (admission, settlement); one
whose admission timed out costs one (the admission is still sent, and run late; the settlement then goes to the local
counters), so admissions decided locally = 2 x answers - calls. The proxy's log gives the fallback warnings (at most
one a minute per instance), failed settlements and reconnections.

Loopback only. Every process is stopped by PID on exit (a stopped store is resumed first), every cgroup removed.
Results: DIR/results.json.
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

import fc
import fc_cold
import fc_limits
import fc_root
import wholecore as h

log = fc.log
TOKEN = "fcbench-static-token-0001"  # the systems' PROXY_ACCESS_TOKENS (bench/scenarios.py): the subject static-1
MAX_TOKENS = 16  # the output cap of each paced request; the fake upstream reports 16 tokens of usage
TIMEOUTS_MS = {"redis-100ms": 100, "redis": 250, "redis-500ms": 500}  # LIMITS_STORE_TIMEOUT per system
LOG_EVENTS = {  # what the proxy's log says about the store: its JSON lines' events, by a short name
    "unavailable": "limits_store_unavailable", "settle_failed": "limits_settle_failed",
    "restored": "limits_store_restored", "connected": "limits_store_connected", "unusable": "limits_store_unusable",
    "forward_failed": "forward_failed"}  # not the store's: a forward that failed, as the proxy logs it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the store

class Store:
    """redis-server on the load side (CPU 0, the load's cgroup), no persistence, on a free loopback port."""

    def __init__(self, out):
        self.port = free_port()
        d = out / "redis"
        d.mkdir(parents=True, exist_ok=True)
        self.proc = fc.spawn_load(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--daemonize", "no", "--dir", str(d),
                                   "--logfile", str(d / "redis.log")])
        self.paused = False
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if self.command("PING") == "PONG":
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit(f"redis-server did not answer on 127.0.0.1:{self.port}")
        self.version = self.info("server").get("redis_version")

    def command(self, *words):
        """One command in RESP; a simple or bulk string reply, as text."""
        request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(request.encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("the store closed the connection")
                data += chunk
                head, _, rest = data.partition(b"\r\n")
                if not _:
                    continue
                if head[:1] in (b"+", b"-", b":"):
                    return head[1:].decode()
                if head[:1] == b"$" and len(rest) >= int(head[1:]) + 2:
                    return rest[:int(head[1:])].decode()

    def info(self, section):
        """INFO SECTION as {key: value}, values of name=value,... lists as dicts."""
        values = {}
        for line in self.command("INFO", section).splitlines():
            key, sep, value = line.partition(":")
            if not sep or line.startswith("#"):
                continue
            if "=" in value:
                values[key] = {k: float(v) if v.replace(".", "", 1).isdigit() else v
                               for k, _, v in (p.partition("=") for p in value.split(","))}
            else:
                values[key] = value
        return values

    def reset(self):
        self.command("CONFIG", "RESETSTAT")

    def scripts(self):
        """The scripts run since the last reset: calls, and their execution time (p50, p99, p99.9 in µs)."""
        stats, lat = self.info("commandstats"), self.info("latencystats")
        calls = sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("evalsha", "eval"))
        failed = sum(int(stats.get(f"cmdstat_{c}", {}).get("failed_calls", 0)) for c in ("evalsha", "eval"))
        exec_us = lat.get("latency_percentiles_usec_evalsha", {})
        return {"calls": calls - failed, "failed": failed, "exec_p50_us": exec_us.get("p50"),
                "exec_p99_us": exec_us.get("p99"), "exec_p999_us": exec_us.get("p99.9")}

    def cpu_ms(self):
        return h.cpu_seconds(self.proc) * 1000

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.paused and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False


# ---------------------------------------------------------------- systems

def environments(systems, store_port, dead_port):
    """Each system's settings (bench/scenarios.py's "store"), its ports filled in."""
    return {name: {k: v.format(store=store_port, dead=dead_port) for k, v in s["env"].items()}
            for name, s in systems.items()}


def binary_copies(aot, out, names):
    """A copy of the binary and bootstrap per system: each cgroup is charged for the pages of its own, as an instance is."""
    copies = {}
    for name in names:
        d = out / "bin" / name
        d.mkdir(parents=True, exist_ok=True)
        for f in ("FcHandler", "bootstrap"):
            shutil.copy2(Path(aot).with_name(f), d / f)  # fc_limits.Proxy drops its pages before the proxy reads them
        copies[name] = str(d / "FcHandler")
    return copies


def uses_store(name):
    return name.startswith("redis")


# ---------------------------------------------------------------- what the proxy logged

def log_since(proxy, offset):
    """The proxy's log lines written since `offset` (JSON in FC), and the new offset."""
    with open(proxy.log_file, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), offset + end


def read_log(lines):
    """Access timings, the store's events (and each reason the store was called unavailable) in a slice of the
    proxy's log."""
    ttfb, total, events, samples = [], [], {k: 0 for k in LOG_EVENTS}, []
    names = {v: k for k, v in LOG_EVENTS.items()}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "access":
            if "upstream_ttfb_ms" in entry:
                ttfb.append(entry["upstream_ttfb_ms"])
            if "total_ms" in entry:
                total.append(entry["total_ms"])
        elif entry.get("event") in names:
            key = names[entry["event"]]
            events[key] += 1
            if key == "unavailable":
                reason = "reason: " + entry.get("reason", "?")[:80]
                events[reason] = events.get(reason, 0) + 1
            if len(samples) < 6 and key != "connected":
                samples.append(fc_limits.log_message(line))
    return ttfb, total, events, samples


def dist(values):
    """p50, p99 and max of a list (ms)."""
    return {"p50": h.pct(values, 50), "p99": h.pct(values, 99), "max": max(values, default=None), "n": len(values)}


# ---------------------------------------------------------------- phases

def paced_round(ctx, proxy, rate, seconds, tag):
    """One paced round against one system: the load's answers and latencies, the cgroup's CPU and throttling, the
    proxy's own timings and log events, and (a redis system) what the store ran."""
    # A stopped store answers nothing, its statistics included: they are read only while it runs.
    cg, store = proxy.cgroup, ctx.store if uses_store(proxy.name) and not ctx.store.paused else None
    if store:
        store.reset()
    _, offset = log_since(proxy, proxy.log_offset)
    cpu0, (thr0, _, periods0), store_cpu0 = cg.cpu_ns(), cg.throttled(), ctx.store.cpu_ms()
    out = ctx.out / f"paced-{tag.replace(' ', '-').replace('/', 'per')}.json"
    load = fc_limits.load_start(ctx, proxy.port, out, seconds, rate=rate, max_tokens=MAX_TOKENS, token=TOKEN,
                                pool=ctx.args.pool)
    res = fc_limits.load_result(ctx, load, out, seconds + 120)
    time.sleep(0.5)  # the last settlements and access lines
    cpu1, (thr1, _, periods1), store_cpu1 = cg.cpu_ns(), cg.throttled(), ctx.store.cpu_ms()
    lines, proxy.log_offset = log_since(proxy, offset)
    ttfb, total, events, samples = read_log(lines)
    outcomes = res.get("outcomes", {}).get("paced", {})
    ok = outcomes.get("ok", 0)
    answered = sum(n for label, n in outcomes.items() if label == "ok" or label.startswith("status "))
    row = {"rate": rate, "seconds": seconds, "due": round(rate * seconds), "ok": ok, "outcomes": outcomes,
           "latency_ms": res.get("paced_ms", []), "connections": res.get("paced_connections"),
           "cpu_ms": (cpu1 - cpu0) / 1e6, "cpu_us_per_request": (cpu1 - cpu0) / 1000 / ok if ok else None,
           "throttled_periods": thr1 - thr0, "periods": periods1 - periods0,
           "throttled_share": (thr1 - thr0) / (periods1 - periods0) if periods1 > periods0 else None,
           "upstream_ttfb_ms": ttfb, "total_ms": total, "log": events, "log_samples": samples}
    if store:
        s = store.scripts()
        s["local_admissions"] = max(0, 2 * answered - s["calls"])
        s["cpu_us_per_request"] = (store_cpu1 - store_cpu0) * 1000 / ok if ok else None
        row["store"] = s
    lat = dist(row["latency_ms"])
    if not res.get("paced_ms") and not ok:
        ctx.errors.append(f"{tag}: no answer at all {outcomes}")  # the load or the proxy did not run
    if not proxy.alive():
        ctx.errors.append(f"{tag}: {proxy.name} exited")
    log(f"  {tag:34s} ok {ok}/{row['due']}  latency p50 {fc.fmt(lat['p50'])} p99 {fc.fmt(lat['p99'])} max "
        f"{fc.fmt(lat['max'])} ms  cpu/req {fc.fmt(row['cpu_us_per_request'])} us  throttled "
        f"{row['throttled_periods']}/{row['periods']}" + (f"  store calls {row['store']['calls']} local "
                                                          f"{row['store']['local_admissions']}" if store else "")
        + (f"  log {dict((k, events[k]) for k in LOG_EVENTS if events[k])}" if any(events.values()) else ""))
    return row


def paced_level(ctx, names, rate, seconds, rounds, level):
    per = {s: [] for s in names}
    for r in range(rounds):
        for s in names[r % len(names):] + names[:r % len(names)]:
            per[s].append(paced_round(ctx, ctx.proxies[s], rate, seconds, f"{level} r{r + 1} {s} {rate:g}/s"))
    return {"rate": rate, "seconds": seconds, "rounds": rounds, "systems": {s: summarize(rows) for s, rows in per.items()}}


def summarize(rows):
    """A system's rounds at one level: latencies pooled over the rounds (they alternate with the other systems'), CPU
    per request as the median of the rounds, the store's counts summed."""
    pooled = [x for r in rows for x in r["latency_ms"]]
    out = {"latency": dist(pooled), "latency_p99_rounds": [h.pct(r["latency_ms"], 99) for r in rows],
           "latency_p50_rounds": [h.pct(r["latency_ms"], 50) for r in rows],
           "cpu_us_per_request": fc.med(r["cpu_us_per_request"] for r in rows),
           "cpu_us_rounds": [r["cpu_us_per_request"] for r in rows],
           "throttled_share": fc.med(r["throttled_share"] for r in rows),
           "upstream_ttfb": dist([x for r in rows for x in r["upstream_ttfb_ms"]]),
           "total": dist([x for r in rows for x in r["total_ms"]]),
           "ok": sum(r["ok"] for r in rows), "due": sum(r["due"] for r in rows),
           "not_ok": {label: sum(r["outcomes"].get(label, 0) for r in rows)
                      for label in sorted({k for r in rows for k in r["outcomes"] if k != "ok"})},
           "log": {k: sum(r["log"].get(k, 0) for r in rows) for k in {k for r in rows for k in r["log"]}},
           "log_samples": [m for r in rows for m in r["log_samples"]][:6],
           "rounds": [{k: v for k, v in r.items() if k not in ("latency_ms", "upstream_ttfb_ms", "total_ms")}
                      for r in rows]}
    stores = [r["store"] for r in rows if "store" in r]
    if stores:
        out["store"] = {"calls": sum(s["calls"] for s in stores), "failed": sum(s["failed"] for s in stores),
                        "local_admissions": sum(s["local_admissions"] for s in stores),
                        "exec_p50_us": fc.med(s["exec_p50_us"] for s in stores),
                        "exec_p99_us": max((s["exec_p99_us"] for s in stores if s["exec_p99_us"] is not None),
                                           default=None),
                        "cpu_us_per_request": fc.med(s["cpu_us_per_request"] for s in stores)}
    return out


def warm_up(ctx):
    for name, proxy in ctx.proxies.items():
        out = ctx.out / f"warm-{name}.json"
        fc_limits.load_result(ctx, fc_limits.load_start(ctx, proxy.port, out, ctx.args.warm_s,
                                                        rate=ctx.args.light_rate, max_tokens=MAX_TOKENS,
                                                        token=TOKEN), out, 120)
        fc.stream_run(ctx.args, proxy.port, 10, ctx.out / f"warm-{name}-streams.json", token=TOKEN)
        _, proxy.log_offset = log_since(proxy, 0)


def idle(ctx):
    """Every system idle for --idle-s after its warm-up: memory as an idle instance holds it."""
    cpu0 = {name: proxy.cgroup.cpu_ns() for name, proxy in ctx.proxies.items()}
    t0 = time.monotonic()
    time.sleep(ctx.args.idle_s)
    seconds = time.monotonic() - t0
    rows = {}
    for name, proxy in ctx.proxies.items():
        row = proxy.sample(0)
        row["idle_cpu_ms_per_s"] = (proxy.cgroup.cpu_ns() - cpu0[name]) / 1e6 / seconds
        gc = proxy.gc_probe.read(proxy.pid)
        if gc:
            row["gc_committed_mb"] = gc["current_total_committed"] / 2**20
        rows[name] = row
        log(f"  idle {name:12s} cgroup {row.get('cg_mb', 0):5.1f} MB (anon {row.get('anon_mb', 0):4.1f}, file "
            f"{row.get('file_mb', 0):4.1f}, kernel {row.get('kernel_mb', 0):4.1f})  RSS {row.get('rss_mb', 0):5.1f} MB"
            f"  GC committed {row.get('gc_committed_mb', 0):4.1f} MB  threads {row.get('threads')}  CPU idle "
            f"{row['idle_cpu_ms_per_s']:.2f} ms/s")
    return rows


def streams(ctx, names):
    """off, memory and redis at each stream level: CPU per relayed event and event delays, alternating rounds."""
    a = ctx.args
    levels = {}
    for level in a.stream_levels:
        per = {s: [] for s in names}
        for r in range(a.stream_rounds):
            for s in names[r % len(names):] + names[:r % len(names)]:
                proxy = ctx.proxies[s]
                if uses_store(s):
                    ctx.store.reset()
                d, row = fc.stream_round(a, proxy.port, proxy.cgroup, level, ctx.out / f"stream-{s}-{level}-{r + 1}.json",
                                         token=TOKEN)
                if uses_store(s):
                    row["store"] = ctx.store.scripts()
                    row["store"]["local_admissions"] = max(0, 2 * d["streams"] - row["store"]["calls"])
                per[s].append(row)
                if d["errors"]:
                    ctx.errors.append(f"streams {s} {level} round {r + 1}: {d['errors']} broken {d['error_samples'][:2]}")
                log(f"  {level:4d} streams r{r + 1} {s:12s} ok {d['ok']}/{level}  delay p50 {fc.fmt(row['delay_p50_ms'])} "
                    f"p99 {fc.fmt(row['delay_p99_ms'])} max {fc.fmt(row['delay_max_ms'])} ms  cpu/event "
                    f"{fc.fmt(row['cpu_us_per_event'])} us  throttled {row['throttled_periods']}/{row['periods']}")
        levels[str(level)] = {s: fc.stream_medians(rows) for s, rows in per.items()}
        for s, rows in per.items():
            if any("store" in r for r in rows):
                levels[str(level)][s]["local_admissions"] = sum(r["store"]["local_admissions"] for r in rows)
    return levels


def hung(ctx, names):
    """The store stopped (SIGSTOP: its connection stays open, nothing answers) for --hung-s at the light rate, per
    store timeout; then resumed, and the proxy given a few seconds to use it again."""
    a = ctx.args
    rows = {}
    for s in names:
        proxy = ctx.proxies[s]
        log(f"  store stopped for {s}")
        ctx.store.pause()
        try:
            row = paced_round(ctx, proxy, a.light_rate, a.hung_s, f"hung {s} {a.light_rate:g}/s")
        finally:
            ctx.store.resume()
        # After the store is back: a few paced requests, and when the proxy said it was answering again.
        after = paced_round(ctx, proxy, a.light_rate, a.recover_s, f"after hung {s} {a.light_rate:g}/s")
        row.pop("store", None)  # counted while stopped, the store's figures say nothing
        # The requests that waited for the store the whole timeout (the others were decided at once, locally).
        row["waited_timeout"] = sum(1 for x in row["latency_ms"] if x >= 0.9 * TIMEOUTS_MS[s])
        rows[s] = {"during": summarize([row]), "after": summarize([after])}
    return rows


# ---------------------------------------------------------------- main

def main(argv, scenario):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    fc_root.add_arguments(ap)
    ap.add_argument("--symbols", help="the Debian 11 mode: the zip's FcHandler.dbg (deploy.ps1 leaves it in "
                                      ".cache/publish/aot), to read the GC's variables")
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--quick", action="store_true", help="one or two short rounds of each phase: a smoke run")
    ap.add_argument("--phases", default="cold,idle,light,streams,pressure,hung")
    ap.add_argument("--rounds", type=int, help="alternating rounds of the light level (7)")
    ap.add_argument("--light-rate", type=float, default=25, help="requests a second, well below the quota")
    ap.add_argument("--light-s", type=float, help="seconds per light round (15)")
    ap.add_argument("--stream-levels", default="10,25")
    ap.add_argument("--stream-rounds", type=int, help="(5)")
    ap.add_argument("--pressure-rounds", type=int, help="(4)")
    ap.add_argument("--pressure-s", type=float, help="seconds per pressure round (15)")
    ap.add_argument("--pressure-rates", default="150,400", help="requests a second of each quota-bound level")
    ap.add_argument("--overload-rates", default="800", help="the same, of levels beyond the instance's capacity")
    ap.add_argument("--hung-s", type=float, default=10)
    ap.add_argument("--recover-s", type=float, default=5)
    ap.add_argument("--idle-s", type=float, default=10, help="idle before memory is read (past the 5 s idle trim)")
    ap.add_argument("--warm-s", type=float, default=5)
    ap.add_argument("--cold-reps", type=int)
    ap.add_argument("--pool", type=int, default=100, help="the load's kept-alive connections, at most")
    ap.add_argument("--ramp-ms", type=int, default=1000, help="StreamBench streams are opened over this")
    args = ap.parse_args(argv)
    q = args.quick
    for key, full, quick in (("rounds", 7, 1), ("light_s", 15, 8), ("stream_rounds", 5, 1), ("pressure_rounds", 4, 1),
                             ("pressure_s", 12, 8), ("cold_reps", 7, 2)):
        if getattr(args, key) is None:
            setattr(args, key, quick if q else full)
    args.stream_levels = [int(x) for x in args.stream_levels.split(",") if x]
    args.pressure_rates = [float(x) for x in args.pressure_rates.split(",") if x]
    args.overload_rates = [float(x) for x in args.overload_rates.split(",") if x]
    phases = set(args.phases.split(","))
    if os.geteuid() != 0:
        sys.exit("bench/lib/fc_store.py needs root: it creates cgroups and writes their limits")
    if not shutil.which("redis-server"):
        sys.exit("bench/lib/fc_store.py needs redis-server (Debian's redis-server package; bench/run.sh installs it)")

    out = Path(args.results).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ctx = fc_limits.start(args, out)
    ctx.proxies = {}
    R = ctx.results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": h.machine(), "quick": q,
                       **fc_root.describe(ctx.root),
                       "cgroup": "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1",
                       "config": {k: v for k, v in vars(args).items() if k not in ("aot", "streambench", "results")},
                       "limits": {"quota_us": fc.QUOTA_US, "period_us": fc.PERIOD_US,
                                  "memory_mb": fc.MEMORY_BYTES // 2**20, "events": fc.EVENTS,
                                  "interval_ms": fc.INTERVAL_MS, "max_tokens": MAX_TOKENS,
                                  "LIMITS_DEFAULT": scenario["systems"]["memory"]["env"]["LIMITS_DEFAULT"]},
                       "errors": ctx.errors, "cold": {}, "logs": {}, "timeouts_ms": TIMEOUTS_MS}
    R["config"]["stream_levels"] = args.stream_levels

    log("== fake upstream: SSE on CPU 0, behind TLS (h2, http/1.1); redis-server on CPU 0")
    fc.start_upstreams(args, ctx.runner, ctx.tls)
    if not h.wait_ready(fc.SSE_PORT) or not fc.tls_ready(ctx.tls["bundle"]):
        sys.exit("the fake upstream did not start (is a previous run still holding its ports?)")
    store = ctx.store = Store(out)
    atexit.register(store.resume)  # runs before stop_all: a stopped process would not see its SIGTERM
    dead_port = free_port()  # nobody listens there: the store-down system's LIMITS_STORE
    envs = environments(scenario["systems"], store.port, dead_port)
    R["store"] = {"version": store.version, "port": store.port, "dead_port": dead_port}
    # In the Debian 11 mode each system gets its own copy of the zip's /code in the root (fc_root.BenchRoot.variant_code).
    copies = {name: args.aot for name in envs} if ctx.root else binary_copies(args.aot, out, list(envs))
    try:
        if "cold" in phases:
            names = ["off", "memory", "redis", "store-down"]
            log(f"== cold start under the quota: spawn to first proxied 200 over TLS, {args.cold_reps} alternating reps")
            systems = fc.Systems(argparse.Namespace(systems=names, variant=[], aot=args.aot), ctx.runner, ctx.tls,
                                 ctx.root)
            systems.variants.update({s: (copies[s], envs[s]) for s in names})
            fc_cold.cold_phase(argparse.Namespace(systems=names, cold_reps=args.cold_reps, results=str(out)), systems, R,
                               paths=("direct",), token=TOKEN, keep_logs=True)
            for s in names:
                _, _, events, samples = read_log((out / f"{s}.cold.log").read_text(errors="replace").splitlines())
                R["logs"][f"cold {s}"] = {"events": events, "samples": samples}

        if phases & {"idle", "light", "streams", "pressure", "hung"}:
            names = ["off", "memory", "redis", "redis-100ms", "redis-500ms"]
            log("== every system started in its cgroup, warmed up")
            store.command("FLUSHDB")
            for i, s in enumerate(names):
                ctx.proxies[s] = fc_limits.Proxy(ctx, s, env=envs[s], binary=copies[s], port=fc.FIRST_PORT + 10 + i,
                                                 token=TOKEN)
                ctx.proxies[s].log_offset = 0
            warm_up(ctx)
            if "idle" in phases:
                log(f"== idle for {args.idle_s:g} s")
                R["idle"] = idle(ctx)
            R["paced"] = {}
            if "light" in phases:
                log(f"== light: {args.light_rate:g} requests/s, {args.rounds} rounds of {args.light_s:g} s")
                R["paced"]["light"] = paced_level(ctx, ["off", "memory", "redis"], args.light_rate, args.light_s,
                                                  args.rounds, "light")
            if "streams" in phases:
                log(f"== streams: {args.stream_levels} x {fc.EVENTS} events {fc.INTERVAL_MS} ms apart, "
                    f"{args.stream_rounds} rounds")
                R["streams"] = streams(ctx, ["off", "memory", "redis"])
            if "pressure" in phases:
                for kind, rates in (("pressure", args.pressure_rates), ("overload", args.overload_rates)):
                    for rate in rates:
                        level = f"{kind} {rate:g}/s"
                        log(f"== {level}: {args.pressure_rounds} rounds of {args.pressure_s:g} s")
                        R["paced"][level] = paced_level(ctx, ["off", "memory", "redis-100ms", "redis", "redis-500ms"],
                                                        rate, args.pressure_s, args.pressure_rounds, kind)
            if "hung" in phases:
                log(f"== the store stopped (SIGSTOP) for {args.hung_s:g} s at {args.light_rate:g} requests/s, per "
                    "timeout")
                R["hung"] = hung(ctx, ["redis-100ms", "redis", "redis-500ms"])
            for s, proxy in ctx.proxies.items():
                _, _, events, samples = read_log(proxy.log_file.read_text(errors="replace").splitlines())
                R["logs"][s] = {"events": events, "samples": samples}
                if not proxy.alive():
                    ctx.errors.append(f"{s}: exited during the run")
                proxy.stop()
    finally:
        (out / "results.json").write_text(json.dumps(R, indent=1))
        log(f"== results in {out}")
    return 0

