#!/usr/bin/env python3
"""A/B of FcHandler settings against tuned nginx, in alternating rounds, with the harness's placement and tools.

  /usr/bin/python3 bench/ab.py --aot BIN [--aot-b BIN] --streambench DLL [--rounds 3] [--streams 200] \
      'name=ENV=VALUE,ENV=VALUE' ...

Each variant is the AOT binary (or --aot-b when the name starts with "b:") with extra environment. Prints, per
variant: median req/s and p99 (wrk, 64 connections), idle RSS, peak RSS and per-event delay p99 over
--streams streams, and median cold start. This is how the figures in bench/README.md's "What was tried" were made.
"""
import argparse
import statistics
import sys
import time

import harness as h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aot", required=True)
    ap.add_argument("--aot-b")
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("variants", nargs="+")
    args = ap.parse_args()
    args.jit, args.results = args.aot, "/tmp/fchandler-ab"
    args.events, args.interval_ms, args.ramp_ms = 20, 100, 500
    import atexit
    atexit.register(h.stop_all)
    runner = h.Runner(args)

    variants = {}
    for i, spec in enumerate(args.variants):
        name, _, env = spec.partition("=")
        pairs = dict(p.split("=", 1) for p in env.split(",") if p)
        variants[name] = (19100 + i, pairs)

    def start(name, upstream_port):
        port, extra = variants[name]
        if name == "nginx-tuned":
            cmd, env = runner.nginx_conf(f"ab-tuned-{upstream_port}", h.BENCH / "nginx/tuned.conf",
                                         f"127.0.0.1:{port}", f"127.0.0.1:{upstream_port}"), None
        else:
            import os
            env = dict(os.environ, UPSTREAM_BASE_URL=f"http://127.0.0.1:{upstream_port}",
                       FC_CUSTOM_LISTEN_PORT=str(port), LISTEN_HOST="127.0.0.1", **extra)
            cmd = [args.aot_b if name.startswith("b:") else args.aot]
        return h.spawn(cmd, h.SUT_CPU, env=env)

    h.spawn(runner.nginx_conf("ab-upstream", h.BENCH / "nginx/upstream.conf", f"127.0.0.1:{h.STATIC_PORT}", "")[:],
            h.LOAD_CPU)
    h.spawn(["dotnet", args.streambench, "upstream", "--port", str(h.SSE_PORT), "--events", "20",
             "--interval-ms", "100"], h.LOAD_CPU)
    for port in (h.STATIC_PORT, h.SSE_PORT):
        h.wait_ready(port)

    names = list(variants)
    cold = {n: [] for n in names}
    for r in range(5):
        for n in names:
            t0 = time.monotonic()
            proc = start(n, h.STATIC_PORT)
            h.wait_ready(variants[n][0])
            cold[n].append((time.monotonic() - t0) * 1000)
            h.stop(proc)
            time.sleep(0.2)

    procs = {n: start(n, h.STATIC_PORT) for n in names}
    idle = {}
    for n in names:
        h.wait_ready(variants[n][0])
    time.sleep(1)
    for n in names:
        idle[n] = h.rss_mb(procs[n])
        h.wrk(variants[n][0], 2, 64)
    http = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            http[n].append(h.wrk(variants[n][0], 5, 64))
    for p in procs.values():
        h.stop(p)

    procs = {n: start(n, h.SSE_PORT) for n in names}
    for n in names:
        h.wait_ready(variants[n][0])
        h.stream_run(args, variants[n][0], 50, "/tmp/fchandler-ab/warm.json")
    sampler = h.RssSampler(procs)
    sampler.start()
    delay = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            d = h.stream_run(args, variants[n][0], args.streams, "/tmp/fchandler-ab/s.json")
            delay[n].append(h.pct(d["delay_us"], 99) or 0)
    sampler.running = False
    sampler.join()

    print(f"{'variant':28s} {'req/s':>8s} {'p99 ms':>7s} {'idle MB':>8s} {'peak MB':>8s} {'delay p99 ms':>13s} {'cold ms':>8s}  rounds req/s")
    for n in names:
        rps = [x["rps"] for x in http[n]]
        print(f"{n:28s} {statistics.median(rps):8.0f} {statistics.median(x['p99'] or 0 for x in http[n]):7.2f} "
              f"{idle[n]:8.1f} {sampler.peak.get(n, 0):8.1f} {statistics.median(delay[n]) / 1000:13.2f} "
              f"{statistics.median(cold[n]):8.1f}  {[round(x) for x in rps]} errors={sum(x['errors'] for x in http[n])}")


if __name__ == "__main__":
    sys.exit(main())
