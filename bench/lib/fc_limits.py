#!/usr/bin/env python3
"""FcHandler at FC's limits, in the FC-shaped cgroup of bench/lib/fc.py (0.1 vCPU, 128 MB, TLS upstream on CPU 0).

    bench/run.sh --memcap | --slow | --soak [--minutes N] [-- options]: bench/bench.py runs the scenario with these
    options: SCENARIO (--root DIR --zip ZIP [--symbols DBG] | --aot BIN) --streambench DLL --results DIR [options]

memcap  What the garbage collector plans for (below), then 200 streams, concurrent 32 MB uploads and bursts of small
        requests at once: OOM kills, limit hits, the cgroup's peak and its parts, RSS, socket buffers, spooled files;
        then a quiet spell, and how close memory comes back to idle. One 32 MB upload alone first: its CPU and time.
slow    50 streams in back-to-back rounds (StreamBench) before, during and after 1,000 slow connections (idle ones,
        and ones trickling headers or a body far below Kestrel's minimum rate): each round's p99 event delay, what
        each slow connection got and when, descriptors, and memory per connection.
soak    Mixed traffic for N minutes (streams, uploads, aborted clients, upstream 429/500s, dropped and slow streams,
        bursts, trickling clients), sampled every minute and at the start: the cgroup's memory, RSS, open descriptors,
        threads and spooled request-body files; drift after warm-up.

The traffic comes from bench/lib/fc_load.py (every outcome classified as expected or not; see there) and StreamBench's
client, on CPU 0 in the load side's cgroup. The proxy runs through build/bootstrap with FC's environment
(FC_FUNCTION_MEMORY_SIZE=128) and its own TMPDIR, so its spooled bodies (ASPNETCORE_*.tmp) are counted alone. In the
Debian 11 mode (--root, --zip; what bench/run.sh runs unless --host) it is the deploy zip, chrooted in the root as
bench/lib/fc.py runs it (bench/lib/fc_root.py); with --aot, this machine's build.
Everything is loopback; every process is stopped by PID and every cgroup removed on exit. Results: DIR/results.json.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import fc
import fc_root
import wholecore as h

BENCH = h.BENCH
log = fc.log


# ---------------------------------------------------------------- the proxy and what is sampled of it

class Proxy:
    """FcHandler as FC starts it, alone in a cgroup (FC-sized unless sized=False), with its own TMPDIR. `binary` (the
    AOT build unless given; bootstrap beside it), `port` (fc.py's first unless given) and `token` (the first request's
    bearer token) let several run side by side, each from its own copy of the binary, in server-key mode."""

    def __init__(self, ctx, name, sized=True, env=None, binary=None, port=None, token="sk-bench"):
        self.ctx, self.name = ctx, name
        root = ctx.root
        # In the Debian 11 mode the proxy is chrooted: its TMPDIR and its copy of /code lie inside the root.
        self.tmpdir = (root.tmp if root else ctx.out) / f"tmp-{name}"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        binary = binary or ctx.args.aot
        self.systems = fc.Systems(argparse.Namespace(systems=[name], variant=[], aot=binary), ctx.runner, ctx.tls, root)
        # Set here rather than through a --variant string, whose commas would split a value such as LIMITS_DEFAULT's.
        tmpdir = root.inside(self.tmpdir) if root else str(self.tmpdir)
        self.systems.variants[name] = (binary, {"TMPDIR": tmpdir, **(env or {})})
        if port:
            self.systems.ports[name] = port
        self.port = self.systems.ports[name]
        # The binary this proxy runs: in the root, the copy of /code made for it (fc_root.BenchRoot.variant_code).
        self.binary = root.host(root.variant_code(name, binary)) / "FcHandler" if root else Path(binary)
        self.gc_probe = ctx.gc_probe.at(self.binary)
        self.cgroup = fc.Cgroup(name, sized=sized)
        self.cgroup.account_sockets()
        evict(self.binary)
        self.log_file = ctx.out / f"{name}.log"
        self.proc = self.systems.start(name, "tls", self.cgroup, open(ctx.out / f"{name}.stderr.log", "ab"),
                                       out=open(self.log_file, "ab"))
        status, _ = fc.first_200(self.port, token=token)
        if status != 200:
            ctx.errors.append(f"{name}: the proxy did not start (answered {status})")

    @property
    def pid(self):
        return self.proc.pid  # bootstrap execs the binary: same process

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        h.stop(self.proc)
        self.cgroup.remove()

    def sample(self, t0):
        """One row of what the soak and the limits are judged by."""
        cg, pid = self.cgroup, self.pid
        row = {"t": round(time.monotonic() - t0, 2)}
        try:
            parts = cg.memory_breakdown()
            row.update(cg_mb=cg.memory_now() / 2**20, anon_mb=parts["anon"] / 2**20, file_mb=parts["file"] / 2**20,
                       kernel_mb=parts["kernel"] / 2**20, sock_mb=cg.socket_bytes() / 2**20,
                       cpu_ms=cg.cpu_ns() / 1e6, throttled=cg.throttled()[0], limit_hits=cg.limit_hits(),
                       oom_kills=cg.oom_kills())
        except OSError:
            pass
        status = {}
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                status[key] = value.split()[0] if value.split() else ""
            fds = os.listdir(f"/proc/{pid}/fd")
            row.update(rss_mb=int(status["VmRSS"]) / 1024, anon_rss_mb=int(status["RssAnon"]) / 1024,
                       threads=int(status["Threads"]), fds=len(fds))
            spooled_open = 0
            for fd in fds:
                try:
                    spooled_open += os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(self.tmpdir))
                except OSError:
                    pass
            row["spool_open_fds"] = spooled_open
        except (OSError, KeyError, ValueError):
            row["gone"] = True
        gc = self.gc_probe.read(pid)
        if gc:
            row.update(gc_committed_mb=gc["current_total_committed"] / 2**20, gcs=gc["settings"],
                       full_gcs=gc["full_gc_counts"])
        files, size = 0, 0
        for entry in os.scandir(self.tmpdir):
            try:
                size += entry.stat().st_size
                files += 1
            except OSError:
                pass  # deleted between the listing and the stat
        row.update(spool_files=files, spool_mb=size / 2**20)
        return row


def evict(path):
    """Drops the binary's pages from the page cache, so that the proxy's cgroup is charged for the ones it touches, as
    FC's instance is: a page stays charged to the cgroup that first read it, here an earlier run's."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # a fresh copy's pages are dirty, and only written-back pages can be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class Sampler(threading.Thread):
    """Samples the proxy every `every` seconds, at once on start and once more on stop."""

    def __init__(self, proxy, t0, every):
        super().__init__(daemon=True)
        self.proxy, self.t0, self.every, self.rows = proxy, t0, every, []
        self._done = threading.Event()

    def run(self):
        while True:
            self.rows.append(self.proxy.sample(self.t0))
            if self._done.wait(self.every):
                return

    def stop(self):
        self._done.set()
        self.join()
        self.rows.append(self.proxy.sample(self.t0))
        return self.rows


def peak(rows, key):
    return max((r[key] for r in rows if key in r), default=None)


# ---------------------------------------------------------------- load

def load_start(ctx, port, out_file, seconds, **traffic):
    """bench/lib/fc_load.py on the load side; traffic: its options, as keyword arguments."""
    cmd = [sys.executable, str(BENCH / "lib/fc_load.py"), "--port", str(port), "--seconds", str(seconds),
           "--out", str(out_file)]
    for key, value in traffic.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    return fc.spawn_load(cmd)


def load_result(ctx, proc, out_file, timeout_s):
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        ctx.errors.append(f"load generator still running after {timeout_s:.0f} s: stopped")
    h.stop(proc)
    try:
        result = json.loads(Path(out_file).read_text())
    except (OSError, ValueError):
        ctx.errors.append(f"load generator wrote no result ({out_file.name})")
        return {"outcomes": {}, "expected": 0, "unexpected": 1, "unexpected_samples": ["no result"], "minutes": [],
                "uploads_s": [], "slow": {}, "marks": []}
    return result


def streams(ctx, port, n, name, events, interval_ms=None):
    """One round of n StreamBench streams; the summary, without the raw samples."""
    d = fc.stream_run(ctx.args, port, n, ctx.out / f"{name}.json", events=events, interval_ms=interval_ms)
    return {"streams": d["streams"], "ok": d["ok"], "errors": d["errors"], "error_samples": d["error_samples"][:3],
            "events": len(d["delay_us"]), "delay_p50_ms": fc.ms(fc.pct(d["delay_us"], 50)),
            "delay_p99_ms": fc.ms(fc.pct(d["delay_us"], 99)), "delay_max_ms": fc.ms(max(d["delay_us"], default=None))}


def warm_up(ctx, proxy):
    """Connection pools, TLS sessions, first-use paths, and the spooling path once."""
    fc.stream_run(ctx.args, proxy.port, 25, ctx.out / f"warm-{proxy.name}.json")
    out = ctx.out / f"warm-{proxy.name}-load.json"
    load_result(ctx, load_start(ctx, proxy.port, out, 2, streams=2, stream_events=20, uploads=1, upload_mb=1,
                                bursts=5, faults_every=0.5), out, 120)


def begin(ctx, name, every_s):
    """The proxy started and warmed up, the clock of the scenario, and its sampler running."""
    proxy = Proxy(ctx, name, env=dict(e.split("=", 1) for e in ctx.args.env))
    warm_up(ctx, proxy)
    t0 = time.monotonic()
    sampler = Sampler(proxy, t0, every_s)
    sampler.start()
    return proxy, t0, sampler


def finish(ctx, proxy, sampler, hits0=0):
    """The last sample, how the proxy fared against the cgroup, and the proxy stopped."""
    R = ctx.results
    R["samples"] = sampler.stop()
    R["after"] = R["samples"][-1]
    R["limit_hits"] = proxy.cgroup.limit_hits() - hits0
    R["oom_kills"] = proxy.cgroup.oom_kills()
    R["alive"] = proxy.alive()
    proxy.stop()
    # The proxy's own account of the idle trims (IDLE_TRIM_AFTER): when, and what each gave back.
    log_file = ctx.out / f"{proxy.name}.log"
    R["idle_trims"] = [log_message(line) for line in log_file.read_text(errors="replace").splitlines()
                       if "heap compacted" in line] if log_file.exists() else []


def log_message(line):
    """A log line's message, from the JSON line the proxy writes in FC (time first) or as it is."""
    try:
        entry = json.loads(line)
        return f"{entry['time']} {entry['msg']}"
    except (ValueError, KeyError, TypeError):
        return line.strip()


# ---------------------------------------------------------------- what the garbage collector plans for

GC_NOTE = ("Read from the running proxy: the GC's own variables (WKS::gc_heap::total_physical_mem, heap_hard_limit, "
           "regions_range; addresses from the symbols in FcHandler.dbg, values from /proc/PID/mem), and as a "
           "cross-check the largest anonymous reservation in /proc/PID/maps. With regions (.NET 7 and later) the GC "
           "reserves at start an address range of 5 times its heap hard limit when it has one, else of twice the "
           "physical memory it sees (dotnet/runtime, src/coreclr/gc/gc.cpp, GCHeap::Initialize); the reservation seen "
           "includes whatever was mapped next to it. The hard limit is 75% of the memory the GC is told of "
           "(DOTNET_GCTotalPhysicalMemory) or finds in its cgroup (gc_heap::compute_memory_settings).")


class GcProbe:
    """Reads the workstation GC's variables out of a running FcHandler, by the addresses the symbols in FcHandler.dbg
    (written beside the binary by the NativeAOT publish) give them. Without that file it reads nothing."""

    # settings starts with gc_index, the number of GCs so far; full_gc_counts counts gen2 GCs by kind (compacting,
    # blocking, background), the blocking and background ones adding up to all of them.
    NAMES = ("total_physical_mem", "heap_hard_limit", "regions_range", "is_restricted_physical_mem",
             "current_total_committed", "settings", "full_gc_counts")

    def __init__(self, binary, symbols=None):
        """symbols: FcHandler.dbg, when it is not beside the binary (the deploy zip leaves it out)."""
        self.binary, self.offsets = Path(binary), {}
        symbols = Path(symbols) if symbols else self.binary.with_name(self.binary.name + ".dbg")
        if not symbols.exists():
            return
        listing = subprocess.run(["nm", "-C", str(symbols)], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[2].startswith("WKS::gc_heap::") and parts[2][14:] in self.NAMES:
                self.offsets[parts[2][14:]] = int(parts[0], 16)

    def at(self, binary):
        """The same build's symbols, read where another copy of the binary is mapped."""
        probe = copy.copy(self)
        probe.binary = Path(binary)
        return probe

    def read(self, pid):
        """{name: value} of the GC's variables, or {} when they cannot be read."""
        if len(self.offsets) != len(self.NAMES):
            return {}
        try:
            base = next(int(f[0].split("-")[0], 16) for f in (l.split() for l in Path(f"/proc/{pid}/maps").open())
                        if len(f) >= 6 and f[5] == os.path.realpath(self.binary) and int(f[2], 16) == 0)
            values = {}
            with open(f"/proc/{pid}/mem", "rb") as mem:
                for name, offset in self.offsets.items():
                    mem.seek(base + offset)
                    values[name] = int.from_bytes(mem.read(8), "little")
                mem.seek(base + self.offsets["full_gc_counts"] + 8)
                values["full_gc_counts"] = sum(int.from_bytes(mem.read(8), "little") for _ in range(2))
        except (OSError, StopIteration):
            return {}
        values["is_restricted_physical_mem"] &= 0xFF  # a bool
        return values


def largest_reservation_mb(pid):
    """The longest run of adjacent anonymous mappings: the GC's range (and the few pages mapped next to it)."""
    best, run_start, run_end = 0, None, None
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if len(fields) < 6:  # no path: anonymous
            if run_end == start:
                run_end = end
            else:
                run_start, run_end = start, end
            best = max(best, run_end - run_start)
        else:
            run_end = None
    return best / 2**20


def gc_view(ctx):
    machine_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    cases = [("FC: 128 MB cgroup, FC_FUNCTION_MEMORY_SIZE=128", True, {}),
             ("128 MB cgroup alone (FC_FUNCTION_MEMORY_SIZE unset)", True, {"FC_FUNCTION_MEMORY_SIZE": ""}),
             ("no cgroup limit, FC_FUNCTION_MEMORY_SIZE=128 (FC's sandbox if it hides the cgroup)", False, {}),
             ("neither (control)", False, {"FC_FUNCTION_MEMORY_SIZE": ""})]
    rows = []
    for i, (case, sized, env) in enumerate(cases):
        proxy = Proxy(ctx, f"gcview-{i}", sized=sized, env=env)
        try:
            span = largest_reservation_mb(proxy.pid)
            gc = proxy.gc_probe.read(proxy.pid)
            environ = Path(f"/proc/{proxy.pid}/environ").read_bytes().split(b"\0")
            told = next((e.split(b"=", 1)[1].decode() for e in environ
                         if e.startswith(b"DOTNET_GCTotalPhysicalMemory=")), None)
        finally:
            proxy.stop()
        row = {"case": case, "cgroup_limit_mb": fc.MEMORY_BYTES // 2**20 if sized else None,
               "DOTNET_GCTotalPhysicalMemory": f"0x{told} ({int(told, 16) // 2**20} MB)" if told else "unset",
               "reservation_mb": round(span, 1)}
        if gc:
            row.update(physical_mb=round(gc["total_physical_mem"] / 2**20, 1),
                       restricted=bool(gc["is_restricted_physical_mem"]),
                       heap_hard_limit_mb=round(gc["heap_hard_limit"] / 2**20, 1),
                       regions_range_mb=round(gc["regions_range"] / 2**20, 1))
        else:  # no symbols: the reservation alone, an upper bound (it may include neighbours)
            no_limit = span >= 2 * machine_mb * 0.98
            row.update(physical_mb=round(span / 2 if no_limit else span / 5 / 0.75, 1), restricted=not no_limit,
                       heap_hard_limit_mb=0 if no_limit else round(span / 5, 1), regions_range_mb=None)
        rows.append(row)
        log(f"  {case:82s} GC sees {row['physical_mb']:9.1f} MB, heap hard limit {row['heap_hard_limit_mb'] or 'none'}"
            f" MB, reserves {span:.1f} MB")
    note = GC_NOTE
    if ctx.root:
        # fc_root.BenchRoot mounts /proc in the root, not /sys: the runtime finds no cgroup there, as where FC's sandbox
        # hides it, and the cgroup-only case shows what bootstrap's FC_FUNCTION_MEMORY_SIZE is for.
        note += (" In the Debian 11 root /sys is not mounted, so the runtime cannot read the cgroup's limit, as where "
                 "FC's sandbox hides the cgroup: with FC_FUNCTION_MEMORY_SIZE unset it sees the whole machine.")
    return {"machine_mb": round(machine_mb), "note": note, "from_symbols": bool(ctx.gc_probe.offsets), "cases": rows}


# ---------------------------------------------------------------- scenarios

def memcap(ctx):
    a = ctx.args
    R = ctx.results
    log("== what the GC plans for, four ways of starting")
    R["gc_view"] = gc_view(ctx)

    proxy, t0, sampler = begin(ctx, "memcap", 0.5)
    log(f"== one {a.upload_mb:g} MB upload alone: its CPU and time under the quota")
    cpu0 = proxy.cgroup.cpu_ns()
    out = ctx.out / "upload-alone.json"
    alone = load_result(ctx, load_start(ctx, proxy.port, out, 0.1, uploads=1, upload_mb=a.upload_mb), out, 300)
    R["upload_alone"] = {"mb": a.upload_mb, "cpu_ms": (proxy.cgroup.cpu_ns() - cpu0) / 1e6,
                         "seconds": alone["uploads_s"][0] if alone["uploads_s"] else None,
                         "outcomes": alone["outcomes"]}
    log(f"  {R['upload_alone']}")

    time.sleep(3)
    R["idle"] = proxy.sample(t0)
    proxy.cgroup.reset_peak()
    hits0 = proxy.cgroup.limit_hits()
    stream_s = a.stream_events * a.stream_interval_ms / 1000 + a.ramp_ms / 1000
    log(f"== {a.streams} streams ({a.stream_events} events {a.stream_interval_ms} ms apart), {a.uploads} x "
        f"{a.upload_mb:g} MB uploads at all times, {a.bursts} small requests every {a.burst_every_s:g} s, for "
        f"{stream_s:.0f} s")
    out = ctx.out / "memcap-load.json"
    mark = time.monotonic() - t0
    load = load_start(ctx, proxy.port, out, stream_s - 2, uploads=a.uploads, upload_mb=a.upload_mb,
                      bursts=a.bursts, burst_every_s=a.burst_every_s)
    s = streams(ctx, proxy.port, a.streams, "memcap-streams", a.stream_events, a.stream_interval_ms)
    R["load"] = load_result(ctx, load, out, 600)
    R["load_window"] = [round(mark, 2), round(time.monotonic() - t0, 2)]
    log(f"  streams ok {s['ok']}/{s['streams']}  delay p50 {fc.fmt(s['delay_p50_ms'])} p99 "
        f"{fc.fmt(s['delay_p99_ms'])} max {fc.fmt(s['delay_max_ms'])} ms; load: expected {R['load']['expected']} "
        f"unexpected {R['load']['unexpected']} {R['load']['outcomes']}")
    R["load_peak_mb"] = proxy.cgroup.memory_peak() / 2**20
    log(f"== quiet for {a.quiet_s:g} s")
    time.sleep(a.quiet_s)
    R["after_quiet"] = proxy.sample(t0)
    # The garbage collector runs when the proxy allocates, not on a clock: what light traffic afterwards gives back.
    log(f"== light traffic for {a.light_s:g} s (2 streams, a request every 0.5 s), then {a.quiet_s / 4:g} s quiet")
    out = ctx.out / "memcap-light.json"
    R["light"] = load_result(ctx, load_start(ctx, proxy.port, out, a.light_s, streams=2, stream_events=50,
                                             stream_interval_ms=100, faults_every=0.5), out, 120)
    time.sleep(a.quiet_s / 4)
    R["streams"] = s
    finish(ctx, proxy, sampler, hits0)
    log(f"  cgroup MB idle {R['idle'].get('cg_mb', 0):.1f}, peak {R['load_peak_mb']:.1f}, after quiet "
        f"{R['after_quiet'].get('cg_mb', 0):.1f}, after light traffic {R['after'].get('cg_mb', 0):.1f}; anon "
        f"{R['idle'].get('anon_mb', 0):.1f} / {peak(R['samples'], 'anon_mb') or 0:.1f} / "
        f"{R['after_quiet'].get('anon_mb', 0):.1f}"
        f" / {R['after'].get('anon_mb', 0):.1f}; limit hits {R['limit_hits']}, OOM kills {R['oom_kills']}")


def slow(ctx):
    a = ctx.args
    R = ctx.results
    proxy, t0, sampler = begin(ctx, "slow", 1.0)
    rounds = []

    def stream_rounds(phase, until):
        while True:
            start = time.monotonic() - t0
            s = streams(ctx, proxy.port, a.streams, f"slow-{phase}-{len(rounds) + 1}", a.stream_events,
                        a.stream_interval_ms)
            s.update(phase=phase, start=round(start, 2), end=round(time.monotonic() - t0, 2))
            rounds.append(s)
            log(f"  {phase:7s} round at {start:6.1f} s: ok {s['ok']}/{s['streams']}  delay p50 "
                f"{fc.fmt(s['delay_p50_ms'])} p99 {fc.fmt(s['delay_p99_ms'])} max {fc.fmt(s['delay_max_ms'])} ms")
            if until():
                return

    log(f"== before: {a.streams} streams per round, {a.base_s} s")
    end = time.monotonic() + a.base_s
    stream_rounds("before", lambda: time.monotonic() >= end)

    slow_total = a.idle + a.trickle_headers + a.trickle_body
    log(f"== with {slow_total} slow connections ({a.idle} idle, {a.trickle_headers} trickling headers, "
        f"{a.trickle_body} trickling a body), opened over {a.slow_ramp_s} s, idle ones held up to {a.idle_hold_s} s")
    out = ctx.out / "slow-load.json"
    mark = time.monotonic() - t0
    load = load_start(ctx, proxy.port, out, a.slow_ramp_s + a.idle_hold_s, idle=a.idle,
                      trickle_headers=a.trickle_headers,
                      trickle_body=a.trickle_body, slow_ramp_s=a.slow_ramp_s, idle_hold_s=a.idle_hold_s,
                      client_timeout_s=a.client_timeout_s)
    stream_rounds("with", lambda: load.poll() is not None)
    R["load"] = load_result(ctx, load, out, 120)
    R["load"]["t0_offset"] = round(mark, 2)

    log(f"== after: {a.base_s} s")
    end = time.monotonic() + a.base_s
    stream_rounds("after", lambda: time.monotonic() >= end)
    R["rounds"] = rounds

    # What the slow connections cost by themselves, with no streams: opened and trickling until they are cut off.
    hold = a.client_timeout_s + 10
    log(f"== the same slow connections alone, no streams, {a.slow_ramp_s + hold:g} s: their CPU")
    out = ctx.out / "slow-alone.json"
    cpu0, start = proxy.cgroup.cpu_ns(), time.monotonic()
    load = load_start(ctx, proxy.port, out, a.slow_ramp_s + hold, idle=a.idle, trickle_headers=a.trickle_headers,
                      trickle_body=a.trickle_body, slow_ramp_s=a.slow_ramp_s, idle_hold_s=hold,
                      client_timeout_s=a.client_timeout_s)
    R["alone"] = load_result(ctx, load, out, 300)
    R["alone"].update(cpu_ms=(proxy.cgroup.cpu_ns() - cpu0) / 1e6, seconds=round(time.monotonic() - start, 2))
    log(f"  {R['alone']['cpu_ms']:.0f} ms of CPU in {R['alone']['seconds']:.0f} s; {R['alone']['outcomes']}")
    finish(ctx, proxy, sampler)
    log(f"  slow connections: {R['load']['outcomes']}; peak fds {peak(R['samples'], 'fds')}, peak cgroup "
        f"{peak(R['samples'], 'cg_mb') or 0:.1f} MB, peak sockets {peak(R['samples'], 'sock_mb') or 0:.1f} MB")


def soak(ctx):
    a = ctx.args
    R = ctx.results
    proxy, t0, sampler = begin(ctx, "soak", a.sample_every_s)
    seconds = a.minutes * 60
    log(f"== soak: {a.minutes:g} minutes of mixed traffic, sampled every {a.sample_every_s:g} s")
    out = ctx.out / "soak-load.json"
    load = load_start(ctx, proxy.port, out, seconds, streams=a.streams, stream_events=a.stream_events,
                      stream_interval_ms=a.stream_interval_ms, faults_every=a.faults_every, uploads=a.uploads,
                      upload_mb=a.upload_mb, upload_pause_s=a.upload_pause_s, upload_abort_every=a.upload_abort_every,
                      bursts=a.bursts, burst_every_s=a.burst_every_s, trickle_every_s=a.trickle_every_s,
                      client_timeout_s=a.client_timeout_s)
    last = 0
    while load.poll() is None:
        time.sleep(1)
        if sampler.rows and len(sampler.rows) != last:
            last = len(sampler.rows)
            r = sampler.rows[-1]
            log(f"  {r['t'] / 60:5.1f} min  cgroup {r.get('cg_mb', 0):6.1f} MB  RSS {r.get('rss_mb', 0):6.1f} MB  fds "
                f"{r.get('fds', '-')}  threads {r.get('threads', '-')}  spooled {r.get('spool_files', 0)} files "
                f"{r.get('spool_mb', 0):.1f} MB")
    R["load"] = load_result(ctx, load, out, 60)
    R["load_end_s"] = round(time.monotonic() - t0, 2)
    log(f"== quiet for {a.quiet_s} s")
    time.sleep(a.quiet_s)
    finish(ctx, proxy, sampler)
    log(f"  load: expected {R['load']['expected']} unexpected {R['load']['unexpected']}")


SCENARIOS = {"memcap": memcap, "slow": slow, "soak": soak}


# ---------------------------------------------------------------- main

def start(args, out):
    """fc.start_run, then the proxy's binary (in the Debian 11 mode, the zip's) and the run's context."""
    root, tls = fc.start_run(args, out)
    if root:
        args.aot = str(root.host("/code/FcHandler"))  # each proxy runs its own copy of the zip's /code
    args.aot, args.streambench = str(Path(args.aot).resolve()), str(Path(args.streambench).resolve())
    return argparse.Namespace(args=args, out=out, runner=h.Runner(argparse.Namespace(results=str(out))), tls=tls,
                              errors=[], gc_probe=GcProbe(args.aot, getattr(args, "symbols", None)), root=root)


def main(argv, scenario):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=SCENARIOS)
    fc_root.add_arguments(ap)
    ap.add_argument("--symbols", help="the Debian 11 mode: the zip's FcHandler.dbg (deploy.ps1 leaves it in "
                                      ".cache/publish/aot), to read the GC's variables")
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--ramp-ms", type=int, default=1000, help="StreamBench streams are opened over this")
    ap.add_argument("--client-timeout-s", type=float, default=15, help="the proxy's CLIENT_TIMEOUT (its default)")
    ap.add_argument("--quiet-s", type=float, default=20, help="after the load, before memory counts as settled")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the proxy under test (an A/B of its settings); repeatable")
    g = ap.add_argument_group("memcap")
    g.add_argument("--upload-mb", type=float, default=32)
    g.add_argument("--uploads", type=int, help="concurrent uploads (memcap 2, soak 1)")
    g.add_argument("--bursts", type=int, help="small requests per burst (memcap 50, soak 20)")
    g.add_argument("--burst-every-s", type=float, help="memcap 5, soak 15")
    g.add_argument("--light-s", type=float, default=15, help="light traffic after the quiet spell")
    g = ap.add_argument_group("memcap, slow and soak: streams")
    g.add_argument("--streams", type=int, help="concurrent streams (memcap 200, slow 50, soak 20)")
    g.add_argument("--stream-events", type=int, help="events per stream (memcap 300, slow 100, soak 200)")
    g.add_argument("--stream-interval-ms", type=int, help="memcap 100, slow 50, soak 50")
    g = ap.add_argument_group("slow")
    g.add_argument("--idle", type=int, default=400)
    g.add_argument("--trickle-headers", type=int, default=300)
    g.add_argument("--trickle-body", type=int, default=300)
    g.add_argument("--slow-ramp-s", type=float, default=10)
    g.add_argument("--idle-hold-s", type=float, default=140, help="past Kestrel's KeepAliveTimeout (130 s)")
    g.add_argument("--base-s", type=float, default=60, help="stream rounds before and after the slow connections")
    g = ap.add_argument_group("soak")
    g.add_argument("--minutes", type=float, default=10)
    g.add_argument("--sample-every-s", type=float, default=60)
    g.add_argument("--faults-every", type=float, default=1.0)
    g.add_argument("--upload-pause-s", type=float, default=20)
    g.add_argument("--upload-abort-every", type=int, default=4)
    g.add_argument("--trickle-every-s", type=float, default=30)
    args = ap.parse_args(argv)
    defaults = {"memcap": dict(uploads=2, bursts=50, burst_every_s=5, streams=200, stream_events=300,
                               stream_interval_ms=100),
                "slow": dict(streams=50, stream_events=100, stream_interval_ms=50),
                "soak": dict(uploads=1, bursts=20, burst_every_s=15, streams=20, stream_events=200,
                             stream_interval_ms=50)}
    for key, value in defaults[args.scenario].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if os.geteuid() != 0:
        sys.exit("bench/lib/fc_limits.py needs root: it creates cgroups and writes their limits")

    out = Path(args.results).resolve()  # nginx reads its certificate paths from its own prefix
    out.mkdir(parents=True, exist_ok=True)
    ctx = start(args, out)
    ctx.results = {"scenario": args.scenario, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": h.machine(),
                   **fc_root.describe(ctx.root),
                   "cgroup": "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1",
                   "config": {k: v for k, v in vars(args).items() if k not in ("aot", "streambench", "results")},
                   "limits": {"quota_us": fc.QUOTA_US, "period_us": fc.PERIOD_US,
                              "memory_mb": fc.MEMORY_BYTES // 2**20},
                   "errors": ctx.errors}
    log("== fake upstream: SSE on CPU 0, behind TLS (h2, http/1.1)")
    fc.start_upstreams(args, ctx.runner, ctx.tls)
    if not h.wait_ready(fc.SSE_PORT) or not fc.tls_ready(ctx.tls["bundle"]):
        sys.exit("the fake upstream did not start (is a previous run still holding its ports?)")
    try:
        SCENARIOS[args.scenario](ctx)
    finally:
        (out / "results.json").write_text(json.dumps(ctx.results, indent=1))
        log(f"== results in {out}")
    return 0

