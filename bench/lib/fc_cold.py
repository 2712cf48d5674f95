"""Cold start as FC sequences it (bench/lib/fc.py's cold phase).

FC spawns bootstrap, waits until the port accepts a connection, calls POST /initialize when the function has an
initializer (template.yml configures one: it opens the upstream connection), then sends the first request; the user's
first request waits for all of it. Per start, into a fresh FC-sized cgroup, each point is timed from the spawn, with the
CPU the cgroup had used by then:
  - the initializer path (the proxy as template.yml deploys it): listening, /initialize answered, first proxied 200;
  - the direct path (no initializer configured): listening, first proxied 200.
nginx has no initializer: its only path is the direct one. The requests carry the x-fc-* headers FC adds
(docs/fc-platform.md, section 2), nginx's too, as FC sends them to whatever listens.

A proxy started with FCHANDLER_STARTUP_TRACE=1 (scenarios.py's "startup") prints a line on stderr at each of its
milestones (Main, the host's composition, listening, ...) with the monotonic time and its own CPU: each start then also
says how long each phase inside the proxy took, on the same clock.
"""
import socket
import time
from contextlib import nullcontext
import uuid
from pathlib import Path

import fc
import wholecore as h

PATHS = {"initializer": ("listening", "initialize", "first"), "direct": ("listening", "first")}
MILESTONES = ["main", "builder", "services", "container", "pipeline", "listening"]  # StartupTrace's, in order


def fc_headers(control_path):
    """The common headers FC adds to a call into a custom runtime (x-fc-security-token is not sent on custom.debian11)."""
    return {"x-fc-request-id": str(uuid.uuid4()), "x-fc-control-path": control_path,
            "x-fc-function-name": "fcbench", "x-fc-function-handler": "index.handler",
            "x-fc-function-initializer": "initialize", "x-fc-initialization-timeout": "10",
            "x-fc-function-memory": str(fc.MEMORY_BYTES // 2**20), "x-fc-function-timeout": "600",
            "x-fc-region": "ap-southeast-1", "x-fc-account-id": "1234567890", "x-fc-qualifier": "LATEST",
            "x-fc-version-id": "", "x-fc-service-name": "", "x-fc-access-key-id": "", "x-fc-access-key-secret": "",
            "x-fc-service-logproject": "", "x-fc-service-logstore": ""}


def wait_listening(port, end):
    """The monotonic time the port first accepts a connection (what FC waits for), or None by `end`."""
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return time.monotonic()
        except OSError:
            time.sleep(0.0005)
    return None


def call(port, method, path, headers, body, end):
    """One request on a new connection, waited for until `end`: (status or None, monotonic time of the answer)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=max(1.0, end - time.monotonic())) as s:
            status = fc.exchange(s, request)
    except OSError:
        status = None
    return status, time.monotonic()


def trace_of(text, t0):
    """The proxy's StartupTrace lines in its stderr: milestone -> (ms since t0, the proxy's own CPU ms)."""
    marks = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) in (4, 5) and parts[0] == "startup-trace":  # builds before the GC counts have 4 fields
            marks.setdefault(parts[1], (int(parts[2]) / 1e6 - t0 * 1000, int(parts[3]) / 1e3))
    return marks


def one_start(systems, system, path, err, deadline_s=120.0, token="sk-bench", out=None):
    """Spawns `system` into a fresh cgroup and walks FC's sequence, the first request with `token` (its log to `out`, if
    given). Returns ({point: (ms, cpu_ms)}, error or None); points["inside"]: the proxy's trace, if it traced."""
    port = systems.ports[system]
    cg = fc.Cgroup(f"cold-{system}")
    start_of_log = err.tell()
    t0 = time.monotonic()
    end = t0 + deadline_s
    proc = systems.start(system, "tls", cg, err, out=out)
    points, error = {}, None
    try:
        t = wait_listening(port, end)
        if t is None:
            return points, "never listened"
        points["listening"] = ((t - t0) * 1000, cg.cpu_ns() / 1e6)
        if path == "initializer":
            status, t = call(port, "POST", "/initialize", fc_headers("/initialize"), b"", end)
            points["initialize"] = ((t - t0) * 1000, cg.cpu_ns() / 1e6)
            if status != 200:
                error = f"/initialize answered {status}"
        headers = {**fc_headers("/http-invoke"), "Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, t = call(port, "POST", "/v1/chat/completions", headers, fc.CHAT, end)
        points["first"] = ((t - t0) * 1000, cg.cpu_ns() / 1e6)
        if status != 200:
            error = error or f"first request answered {status}"
        return points, error
    finally:
        h.stop(proc)
        cg.remove()
        err.flush()
        with open(err.name, errors="replace") as log:
            log.seek(start_of_log)
            points["inside"] = trace_of(log.read(), t0)


def cold_phase(args, systems, results, paths=tuple(PATHS), token="sk-bench", keep_logs=False):
    """Alternating reps of every system's paths (the proxy: `paths`; nginx: direct). Fills results["cold_fc"] and, for
    the reports that read it, results["cold"] with each system's direct path. keep_logs: each start's log (stdout)
    appended to SYSTEM.cold.log."""
    entries = [(s, p) for s in args.systems for p in (("direct",) if s.startswith("nginx-") else paths)]
    reps = {e: [] for e in entries}
    for rep in range(args.cold_reps):
        for system, path in entries[rep % len(entries):] + entries[:rep % len(entries)]:
            stem = Path(args.results) / f"{system}.cold"
            with open(f"{stem}.stderr.log", "ab") as err, open(f"{stem}.log", "ab") if keep_logs else nullcontext() as out:
                points, error = one_start(systems, system, path, err, token=token, out=out)
            if error:
                results["errors"].append(f"cold start {system} ({path} path): {error}")
            else:
                reps[(system, path)].append(points)
            time.sleep(0.3)
    out = results.setdefault("cold_fc", {})
    for (system, path), rows in reps.items():
        out.setdefault(system, {})[path] = summary = summarise(rows, PATHS[path])
        if path == "direct":
            results["cold"][system] = {"ms": [r["first"][0] for r in rows], "cpu_ms": [r["first"][1] for r in rows],
                                       "median_ms": summary["total_ms"], "median_cpu_ms": summary["total_cpu_ms"]}
        phases = "  ".join(f"{p} +{fc.fmt(summary['phases'][p]['ms'])} ms" for p in PATHS[path])
        fc.log(f"  cold start {system:18s} {path:11s} {phases}  total {fc.fmt(summary['total_ms'])} ms  "
               f"CPU {fc.fmt(summary['total_cpu_ms'])} ms  of {[round(r['first'][0]) for r in rows]}")


def summarise(rows, points):
    """Medians over the starts: each phase's own duration, the time and cgroup CPU at its end (both from the spawn)."""
    phases, previous = {}, None
    for p in points:
        phases[p] = {"ms": fc.med(r[p][0] - (r[previous][0] if previous else 0) for r in rows),
                     "cpu_ms": fc.med(r[p][1] - (r[previous][1] if previous else 0) for r in rows),
                     "at_ms": fc.med(r[p][0] for r in rows), "at_cpu_ms": fc.med(r[p][1] for r in rows)}
        previous = p
    # Inside the proxy, each milestone's own phase from the one before it (the first from the spawn), wall and its CPU.
    inside, previous = {}, None
    for m in MILESTONES:
        if rows and all(m in r["inside"] for r in rows):
            inside[m] = {k: fc.med(r["inside"][m][i] - (r["inside"][previous][i] if previous else 0) for r in rows)
                         for i, k in enumerate(("ms", "cpu_ms"))}
            previous = m
    return {"reps": [{p: {"ms": r[p][0], "cpu_ms": r[p][1]} for p in points} for r in rows], "phases": phases,
            "total_ms": fc.med(r["first"][0] for r in rows), "total_cpu_ms": fc.med(r["first"][1] for r in rows),
            **({"inside": inside} if inside else {})}

