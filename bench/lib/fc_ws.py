"""The WebSocket level of the FC-shaped benchmark: bench/lib/fc.py's phase "ws" (--phases ws, or cold,stream,ws).

Realtime sessions through each system under test, in the same 0.1 vCPU / 128 MB cgroup over the same TLS upstream:
the fake upstream (StreamBench's, behind the TLS terminator, which passes the upgrade on) accepts
`GET /v1/realtime?model=gpt-realtime` as a WebSocket and, after the client's `response.create`, sends --ws-frames
audio deltas (--ws-frame-bytes of base64 each, 50 ms of 24 kHz 16-bit mono by default) --ws-interval-ms apart, each
stamped with its send time, then `response.done` with usage; the client (StreamBench ws-client, on the load side)
sends its key in `Authorization` as the SDKs do (the systems run in client-key mode), and closes with 1000 once the
response is done. Per level of concurrent sessions and per system, in alternating rounds: per-frame delay (arrival at
the client minus the upstream's stamp, one clock) p50/p99/max, the handshake's time to 101, CPU per relayed delta
from the cgroup's accounting (the handshake and close included), throttled periods, sessions completed, the cgroup's
peak memory, limit hits and OOM kills. CPU per frame is also taken in a steady window (every session past its
handshake, none closing yet): the relay's own cost per frame, which a session of minutes approaches; the rest of the
round's CPU, per session, is what opening and closing one costs.

nginx-original is left out: the original recipe passes no Upgrade header, so it relays no WebSocket. The tuned nginx
relays it through its one location (bench/nginx/tuned.conf: Upgrade and Connection passed on by the $connection_upgrade
map).
"""
import json
import subprocess
import time
from pathlib import Path

import fc

NO_UPGRADE = {"nginx-original"}  # configs that relay no WebSocket


def add_arguments(ap):
    ap.add_argument("--ws-levels", help="concurrent Realtime sessions per level (10,25,50; --quick: 10,25)")
    ap.add_argument("--ws-frames", type=int, help="audio deltas per session (200; --quick: 60)")
    ap.add_argument("--ws-interval-ms", type=int, default=50, help="between a session's deltas (50: 20 frames/s)")
    ap.add_argument("--ws-frame-bytes", type=int, default=3200, help="base64 audio per delta")
    ap.add_argument("--ws-transport", default="tls", choices=("tls", "plain"),
                    help="the upstream leg: through the TLS terminator (as OpenAI serves it), or plain HTTP to tell "
                         "what the upstream's TLS handshakes cost")


def settings(args):
    """The phase's levels and session shape, from the options and --quick."""
    levels = [int(x) for x in (args.ws_levels or ("10,25" if args.quick else "10,25,50")).split(",")]
    frames = args.ws_frames or (60 if args.quick else 200)
    return levels, frames


def ws_run(args, port, sessions, frames, out_file, at=(), probe=None):
    """StreamBench's ws-client on the load side: `sessions` Realtime sessions of `frames` deltas each. `probe()` is
    called `at` each of those seconds after the client's start; returns the client's result and the probes' values."""
    cmd = ["dotnet", args.streambench, "ws-client", "--port", str(port), "--sessions", str(sessions),
           "--events", str(frames), "--interval-ms", str(args.ws_interval_ms), "--frame-bytes", str(args.ws_frame_bytes),
           "--ramp-ms", str(args.ramp_ms), "--timeout-ms", "120000", "--out", str(out_file)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=fc.load_side)
    fc.h.started.append(proc)
    probed = []
    for offset in at:
        time.sleep(max(0.0, t0 + offset - time.monotonic()))
        probed.append(probe())
    try:
        proc.wait(timeout=300 + frames * args.ws_interval_ms / 1000)
    except subprocess.TimeoutExpired:
        fc.h.stop(proc)
    try:
        return json.loads(Path(out_file).read_text()), probed
    except (OSError, ValueError):
        return {"sessions": sessions, "ok": 0, "errors": sessions, "error_samples": ["client produced no result"],
                "handshake_us": [], "delay_us": []}, probed


def steady_window(args, frames):
    """Seconds after the client's start between which every session is past its handshake and before its close (the
    client's own start-up, the ramp and 2 s of handshakes before; 1 s before the first session ends), or None when
    sessions are too short for one of at least 2 s."""
    start, end = 0.5 + args.ramp_ms / 1000 + 2.0, frames * args.ws_interval_ms / 1000 - 1.0
    return (start, end) if end - start >= 2.0 else None


def ws_round(args, port, cg, sessions, frames, out_file):
    """One round against the system in cgroup `cg`: the client's result, and its row (delays, handshakes, CPU per
    relayed delta from the cgroup's accounting, in all and in the steady window, throttled periods, memory at the
    cgroup's peak)."""
    cpu0, (thr0, thr_ms0, periods0) = cg.cpu_ns(), cg.throttled()
    sampler = fc.PeakSampler(cg)
    sampler.start()
    window = steady_window(args, frames)
    d, probed = ws_run(args, port, sessions, frames, out_file, at=window or (), probe=cg.cpu_ns)
    cpu1, (thr1, thr_ms1, periods1) = cg.cpu_ns(), cg.throttled()
    at_peak = sampler.stop()
    relayed = len(d["delay_us"])
    # In the window every session relays a delta per interval: the relay's own cost, without handshakes and closes.
    steady = setup = None
    if window and d["ok"] == sessions:
        steady = (probed[1] - probed[0]) / 1000 / (sessions * (window[1] - window[0]) * 1000 / args.ws_interval_ms)
        # What the rest of the round cost per session: handshakes (the client's, the upstream's TLS), closes, start-up.
        setup = ((cpu1 - cpu0) / 1000 - steady * relayed) / 1000 / sessions
    return d, {
        "ok": d["ok"], "sessions": d["sessions"], "errors": d["errors"], "frames": relayed,
        "delay_p50_ms": fc.ms(fc.pct(d["delay_us"], 50)), "delay_p99_ms": fc.ms(fc.pct(d["delay_us"], 99)),
        "delay_max_ms": fc.ms(max(d["delay_us"], default=None)),
        "handshake_p50_ms": fc.ms(fc.pct(d["handshake_us"], 50)), "handshake_p99_ms": fc.ms(fc.pct(d["handshake_us"], 99)),
        "cpu_us_per_frame": (cpu1 - cpu0) / 1000 / relayed if relayed else None, "steady_cpu_us_per_frame": steady,
        "setup_cpu_ms_per_session": setup,
        "cpu_ms": (cpu1 - cpu0) / 1e6, "throttled_periods": thr1 - thr0, "throttled_ms": thr_ms1 - thr_ms0,
        "periods": periods1 - periods0, "at_peak_mb": at_peak,
    }


def ws_medians(rows):
    """A level's rounds summed up: medians over the rounds (as bench/lib/fc.py's stream levels), sessions completed."""
    medians = {key: fc.med(r[key] for r in rows) for key in (
        "delay_p50_ms", "delay_p99_ms", "delay_max_ms", "handshake_p50_ms", "handshake_p99_ms", "cpu_us_per_frame",
        "steady_cpu_us_per_frame", "setup_cpu_ms_per_session", "throttled_periods")}
    return {"rounds": rows, **medians,
            "throttled_share": fc.med(r["throttled_periods"] / r["periods"] for r in rows if r.get("periods")),
            "completed": sum(r["ok"] for r in rows), "sessions": sum(r["sessions"] for r in rows)}


def ws_phase(args, systems, results):
    """Every system that relays WebSockets started over TLS in its own FC-sized cgroup, warmed up, then each level in
    alternating rounds; results["ws"][level][system]."""
    levels, frames = settings(args)
    names = [s for s in args.systems if s not in NO_UPGRADE]
    results["config"]["ws"] = {"levels": levels, "frames": frames, "interval_ms": args.ws_interval_ms,
                               "frame_bytes": args.ws_frame_bytes, "systems": names, "transport": args.ws_transport}
    left_out = sorted(set(args.systems) & NO_UPGRADE)
    fc.log(f"== ws: Realtime sessions, upstream {args.ws_transport}, levels {levels} x {frames} deltas "
           f"{args.ws_interval_ms} ms apart ({args.ws_frame_bytes} B), {args.rounds} rounds"
           + (f"; {', '.join(left_out)} left out (no upgrade in the config)" if left_out else ""))
    out = Path(args.results)
    cgs, procs = {}, {}
    for s in names:
        cgs[s] = fc.Cgroup(f"ws-{s}")
        procs[s] = systems.start(s, args.ws_transport, cgs[s], open(out / f"{s}.ws.stderr.log", "ab"))
    for s in names:
        status, _ = fc.first_200(systems.ports[s], token=args.token)
        if status != 200:
            results["errors"].append(f"ws {s}: did not start (answered {status})")
    for s in names:  # warm-up: first-use paths of the upgrade and the relay, TLS sessions
        ws_run(args, systems.ports[s], 10, 20, out / f"warm-ws-{s}.json")
    by_level = results.setdefault("ws", {})
    for level in levels:
        for s in names:
            cgs[s].reset_peak()
        hits0 = {s: cgs[s].limit_hits() for s in names}

        def one_round(s, r):
            return ws_round(args, systems.ports[s], cgs[s], level, frames, out / f"ws-{s}-{level}-{r}.json")

        def line(s, r, d, row):
            return (f"  ws    {level:4d} sessions r{r} {s:18s} ok {d['ok']}/{level}  delay p50 "
                    f"{fc.fmt(row['delay_p50_ms'])} p99 {fc.fmt(row['delay_p99_ms'])} max {fc.fmt(row['delay_max_ms'])} ms  "
                    f"handshake p50 {fc.fmt(row['handshake_p50_ms'])} ms  cpu/frame {fc.fmt(row['cpu_us_per_frame'])} "
                    f"(steady {fc.fmt(row['steady_cpu_us_per_frame'])}) us  throttled {row['throttled_periods']}/{row['periods']}")

        per = fc.alternating_rounds(args, names, procs, results, ("ws", level, "sessions"), one_round, line)
        by_level[str(level)] = {s: {**ws_medians(per[s]), "peak_mb": cgs[s].memory_peak() / 2**20,
                                    "at_peak_mb": max((r["at_peak_mb"] for r in per[s]), key=lambda b: sum(b.values()), default={}),
                                    "limit_hits": cgs[s].limit_hits() - hits0[s], "oom_kills": cgs[s].oom_kills()}
                                for s in names}
    for s in names:
        fc.h.stop(procs[s])
        cgs[s].remove()
