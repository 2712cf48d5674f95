#!/usr/bin/env python3
"""Turns a bench/fc_store.py results.json into printed tables, every figure beside the `off` system of the same run,
the criteria met or missed, a markdown copy (results.md) and a chart (results.png).

    /usr/bin/python3 bench/fc_store_report.py RESULTS_DIR OUT_DIR

Exit status 1 if the harness recorded an error or a criterion was missed; the tables say which."""
import json
import re
import statistics
import sys
from pathlib import Path

from tables import f, ratio, rx, save_chart, software, write_report

R = json.loads((Path(sys.argv[1]) / "results.json").read_text())
OUT = Path(sys.argv[2])
CFG, LIM = R["config"], R["limits"]
TIMEOUTS = R.get("timeouts_ms", {"redis-100ms": 100, "redis": 250, "redis-500ms": 500})
PACED = R.get("paced", {})
sections = []  # (title, header, rows, note below or "")
criteria = []  # (criterion, value, met)


def diff(a, b, digits=1):
    return "-" if a is None or b is None else f"{a - b:+,.{digits}f}"


def crit(name, value, met):
    criteria.append((name, value, bool(met)))


def label(system):
    return f"{system} ({TIMEOUTS[system]} ms)" if system in TIMEOUTS else system


def local(v):
    """Admissions the store did not decide (2 x answers - script calls), and the fallback warnings logged."""
    store = v.get("store")
    return (store["local_admissions"] if store else None), v["log"].get("unavailable", 0)


def paced_rows(level, names):
    L = PACED[level]["systems"]
    off = L.get("off", {})
    rows = []
    for s in names:
        v = L.get(s)
        if not v:
            continue
        lat, ttfb, total = v["latency"], v["upstream_ttfb"], v["total"]
        n_local, warned = local(v)
        rows.append([label(s), f(v["cpu_us_per_request"], 0) + rx(v["cpu_us_per_request"], off.get("cpu_us_per_request")),
                     f"{v['throttled_share']:.0%}" if v.get("throttled_share") is not None else "-",
                     f(lat["p50"]), f(lat["p99"]), f(lat["max"]),
                     f"{f(ttfb['p50'])} / {f(ttfb['p99'])} / {f(ttfb['max'])}",
                     f"{f(total['p99'])} / {f(total['max'])}",
                     f"{v['ok']:,}/{v['due']:,}", cut_off(v), "-" if n_local is None else n_local, warned,
                     v["log"].get("settle_failed", 0)])
    return rows


def cut_off(v):
    """Requests that got no complete answer, and the failed forwards the proxy logged meanwhile."""
    lost = sum(v.get("not_ok", {}).values())
    failed = v["log"].get("forward_failed", 0)
    return f"{lost} ({failed})" if lost or failed else "0"


PACED_HEADER = ["system", "CPU µs/request (vs off)", "throttled periods", "latency p50 ms", "p99 ms", "max ms",
                "proxy: upstream_ttfb p50 / p99 / max ms", "proxy: total p99 / max ms", "answered 200",
                "cut off (proxy's failed forwards)", "admissions decided locally", "fallback warnings",
                "failed settlements"]
PACED_NOTE = ("Latency: from when the request was due (open loop) to the last byte of its answer, which the proxy "
              "writes after the settlement. upstream_ttfb and total are the proxy's own access-line timings: the "
              "first holds the admission's wait for the store, the second the settlement's too. Admissions decided "
              "locally = 2 x answers - scripts the store ran (each request the store decides runs two; one whose "
              "admission timed out runs one, late, and is settled on the local counters). Fallback warnings: "
              "`limits_store_unavailable` lines of the proxy's log. Cut off: no complete answer (the proxy reset the "
              "connection), with the `forward_failed` lines the proxy logged in the same rounds in brackets.")

# ---------------------------------------------------------------- light: the cost with room in the quota

light = PACED.get("light")
if light:
    L = light["systems"]
    off = L.get("off", {})
    sections.append((f"With room in the quota: {light['rate']:g} requests/s, {light['rounds']} alternating rounds of "
                     f"{light['seconds']:g} s", PACED_HEADER, paced_rows("light", ["off", "memory", "redis"]),
                     PACED_NOTE))
    rows = []
    for s in ("memory", "redis"):
        v = L.get(s)
        if not v or not off:
            continue
        pairs = [(a - b) for a, b in zip(v["latency_p50_rounds"], off["latency_p50_rounds"]) if a is not None and b is not None]
        pairs99 = [(a - b) for a, b in zip(v["latency_p99_rounds"], off["latency_p99_rounds"]) if a is not None and b is not None]
        cpu = [ratio(a, b) for a, b in zip(v["cpu_us_rounds"], off["cpu_us_rounds"])]
        cpu = [c for c in cpu if c is not None]
        rows.append([s, diff(v["latency"]["p50"], off["latency"]["p50"], 2),
                     f"{statistics.median(pairs):+.2f} ({min(pairs):+.2f} to {max(pairs):+.2f})" if pairs else "-",
                     diff(v["latency"]["p99"], off["latency"]["p99"], 2),
                     f"{statistics.median(pairs99):+.1f} ({min(pairs99):+.1f} to {max(pairs99):+.1f})" if pairs99 else "-",
                     f"{ratio(v['cpu_us_per_request'], off['cpu_us_per_request']):.2f}x" if off.get("cpu_us_per_request") else "-",
                     f"{min(cpu):.2f} to {max(cpu):.2f}x" if cpu else "-"])
    sections.append(("What limits add to a request, against off in the same run",
                     ["system", "latency added p50 ms (pooled)", "median of rounds (range)", "added p99 ms (pooled)",
                      "median of rounds (range)", "CPU per request vs off (median of rounds)", "per round"], rows,
                     "Pooled: percentiles of every request of the level's rounds, which the noisiest rounds dominate; "
                     "rounds: the same figure in each round against off's in that round (the rounds alternate, so "
                     "each pair saw the same hour of this shared machine), their median and range."))
    store = L.get("redis", {}).get("store")
    if store:
        sections.append(("The store's side (redis-server on CPU 0, outside the instance)",
                         ["scripts run", "per answered request", "failed", "Lua execution p50 / p99 µs (its own "
                          "clock)", "redis-server CPU per request µs"],
                         [[f"{store['calls']:,}", f(store["calls"] / max(1, L['redis']['ok']), 2), store["failed"],
                           f"{f(store['exec_p50_us'])} / {f(store['exec_p99_us'])}",
                           f(store["cpu_us_per_request"], 0)]], ""))
    n_local, warned = local(L.get("redis", {"log": {}}))
    crit("with room in the quota the store decides every request: no fallback warning, no admission decided locally "
         f"(redis, {light['rate']:g}/s)", f"{warned} warnings, {n_local} local", warned == 0 and n_local == 0)

# ---------------------------------------------------------------- streams: the per-event path

streams = R.get("streams", {})
for level, by in sorted(streams.items(), key=lambda kv: int(kv[0])):
    off = by.get("off", {})
    rows = []
    for s in ("off", "memory", "redis"):
        v = by.get(s)
        if not v:
            continue
        spread = [r["cpu_us_per_event"] for r in v["rounds"] if r.get("cpu_us_per_event")]
        rows.append([s, f(v["cpu_us_per_event"]) + rx(v["cpu_us_per_event"], off.get("cpu_us_per_event")),
                     f"{min(spread):.0f} to {max(spread):.0f}" if spread else "-",
                     f(v["delay_p50_ms"]), f(v["delay_p99_ms"]) + rx(v["delay_p99_ms"], off.get("delay_p99_ms")),
                     f(v["delay_max_ms"]), f"{v['throttled_share']:.0%}" if v.get("throttled_share") is not None else "-",
                     f"{v['completed']}/{v['streams']}", v.get("local_admissions", "-")])
    bound = all((by.get(s, {}).get("throttled_share") or 0) >= 0.5 for s in ("off", "redis"))
    expect = ""
    if light and light["systems"].get("redis", {}).get("cpu_us_per_request") and light["systems"].get("off"):
        extra = light["systems"]["redis"]["cpu_us_per_request"] - light["systems"]["off"]["cpu_us_per_request"]
        expect = (f" If limits cost only at a stream's start and end, a stream of {LIM['events']} events pays the "
                  f"light level's extra CPU per request ({extra:,.0f} µs) once: {extra / LIM['events']:,.1f} µs per "
                  "event.")
    sections.append((f"{level} concurrent streams, {LIM['events']} events {LIM['interval_ms']} ms apart "
                     f"({CFG['stream_rounds']} alternating rounds, medians)",
                     ["system", "CPU µs/event (vs off)", "per round", "delay p50 ms", "p99 ms (vs off)", "max ms",
                      "throttled periods", "streams completed", "admissions decided locally"], rows,
                     ("Both quota-bound: they ran out of CPU in most periods, so CPU per event is the quota divided "
                      "by the events, not a measure; the delays still compare." if bound else
                      "CPU per event from the cgroup's accounting, the stream's admission and settlement included. "
                      "memory and redis both pass a limited stream's events through the usage filter (a budget needs "
                      "the stream's usage); only redis asks the store, at the stream's start and end.")
                     + expect))
    if by.get("redis"):
        crit(f"streams ({level}): the store decides every stream", f"{by['redis'].get('local_admissions', 0)} local",
             by["redis"].get("local_admissions", 0) == 0)

# ---------------------------------------------------------------- pressure: is 250 ms enough under the quota?

pressure = [k for k in PACED if k.startswith(("pressure", "overload"))]
judged = [k for k in pressure if k.startswith("pressure")]  # the instance keeps up: a fallback there is a false one
for level in pressure:
    P = PACED[level]
    names = ["off", "memory", "redis-100ms", "redis", "redis-500ms"]
    kind = "Quota-bound" if level in judged else "Beyond the instance's capacity"
    sections.append((f"{kind}: {P['rate']:g} requests/s, {P['rounds']} alternating rounds of {P['seconds']:g} s",
                     PACED_HEADER, paced_rows(level, names), PACED_NOTE))
if pressure:
    rows = []
    for s in ("redis-100ms", "redis", "redis-500ms"):
        row = [label(s)]
        for level in pressure:
            v = PACED[level]["systems"].get(s)
            if not v:
                row += ["-", "-"]
                continue
            n_local, warned = local(v)
            row += [f"{n_local} of {v['ok']:,} ({warned} warnings)", f"{f(v['upstream_ttfb']['p99'])} / "
                                                                      f"{f(v['upstream_ttfb']['max'])}"]
        rows.append(row)
    header = ["LIMITS_STORE_TIMEOUT"]
    for level in pressure:
        over = "" if level in judged else " (beyond capacity)"
        header += [f"{PACED[level]['rate']:g}/s{over}: decided locally, store healthy", "upstream_ttfb p99 / max ms"]
    sections.append(("False fallbacks: the store healthy, only the CPU quota in the way", header, rows,
                     "Every admission decided locally here is one the store would have answered: its Lua ran in "
                     "well under a millisecond (the store's side above), and the wait was the instance's, out of "
                     "CPU. upstream_ttfb bounds the admission's wait from above."))
    worst = [local(PACED[level]["systems"]["redis"])[0] for level in judged if "redis" in PACED[level]["systems"]]
    rates = ", ".join(f"{PACED[level]['rate']:g}/s" for level in judged)
    if judged:
        crit(f"the default LIMITS_STORE_TIMEOUT (250 ms): no false fallback while the instance is quota-bound and "
             f"keeps up, store healthy ({rates})", f"{sum(worst)} local admissions", sum(worst) == 0)

# ---------------------------------------------------------------- a hung store

hung = R.get("hung", {})
if hung:
    rows = []
    for s, v in hung.items():
        d, a = v["during"], v["after"]
        back = next((m.group(1) for line in a["log_samples"] for m in [re.search(r"answering again after ([\d.]+)s", line)]
                     if m), None)
        waited = d["rounds"][0].get("waited_timeout")
        rows.append([label(s), f(d["latency"]["p50"]), f(d["latency"]["p99"]), f(d["latency"]["max"]),
                     f"{waited} of {d['ok']}", d["log"].get("unavailable", 0), f"{d['ok']}/{d['due']}",
                     f"{back} s" if back else "-", f(a["latency"]["p99"]),
                     a.get("store", {}).get("local_admissions", "-")])
        timeout = TIMEOUTS[s]
        crit(f"a hung store costs a request at most its timeout: every answer within {timeout} + 100 ms ({s})",
             f"max {f(d['latency']['max'])} ms", d["latency"]["max"] is not None and d["latency"]["max"] <= timeout + 100
             and d["ok"] == d["due"])
    sections.append((f"A hung store: redis-server stopped (SIGSTOP) for {CFG['hung_s']:g} s at {CFG['light_rate']:g} "
                     "requests/s", ["system", "latency p50 ms", "p99 ms", "max ms", "requests that waited the whole "
                                    "timeout", "fallback warnings", "answered 200", "proxy says the store answers again "
                                    "after", f"p99 ms in the {CFG['recover_s']:g} s after",
                                    "decided locally in those"], rows,
                     "The store's connection stays open and nothing answers: the worst kind of dead store. The "
                     "first requests wait the whole timeout; once the connection is known to be down, the others are "
                     "decided locally at once and one a second still tries the store."))

# ---------------------------------------------------------------- idle memory

idle = R.get("idle", {})
if idle:
    off = idle.get("off", {})
    rows = [[label(s), f(v.get("cg_mb")) + rx(v.get("cg_mb"), off.get("cg_mb")), f(v.get("anon_mb")),
             f(v.get("file_mb")), f(v.get("kernel_mb")), f(v.get("rss_mb")) + rx(v.get("rss_mb"), off.get("rss_mb")),
             f(v.get("gc_committed_mb")), v.get("threads", "-"), f(v.get("idle_cpu_ms_per_s"), 2)]
            for s, v in idle.items()]
    sections.append((f"Idle, {CFG['idle_s']:g} s after the warm-up (past the 5 s idle trim)",
                     ["system", "cgroup MB (vs off)", "anon MB", "file MB (its binary)", "kernel MB", "RSS MB (vs off)",
                      "GC committed MB", "threads", "CPU while idle ms/s"], rows,
                     "Each system runs its own copy of the binary, dropped from the page cache before it starts, so "
                     "its cgroup is charged for the pages it reads, as an instance is."))

# ---------------------------------------------------------------- cold start

cold = R.get("cold", {})
if cold:
    off = cold.get("off", {})
    rows = []
    for s, c in cold.items():
        events = R.get("logs", {}).get(f"cold {s}", {}).get("events", {})
        said = ", ".join(f"{k} {v}" for k, v in events.items() if v and not k.startswith("reason"))
        rows.append([s, f(c["median_ms"]) + rx(c["median_ms"], off.get("median_ms")),
                     f(c["median_cpu_ms"]) + rx(c["median_cpu_ms"], off.get("median_cpu_ms")),
                     ", ".join(f"{x:.0f}" for x in c["ms"]), f"{len(c['ms'])}/{CFG['cold_reps']}", said or "-"])
    sections.append((f"Cold start under the quota: spawn to the first proxied 200 over TLS (median of "
                     f"{CFG['cold_reps']}, alternating)",
                     ["system", "ms (vs off)", "CPU ms by then (vs off)", "every start, ms", "first request answered",
                      "the store in the log (all starts)"], rows,
                     "store-down: LIMITS_STORE points at a loopback port nobody listens on, "
                     "LIMITS_STORE_FAILURE=local. No FC initializer runs here, so the first request meets the store's "
                     "connection as it opens."))
    if "store-down" in cold:
        crit("store down at start: the first request is still answered, every start",
             f"{len(cold['store-down']['ms'])} of {CFG['cold_reps']}", len(cold["store-down"]["ms"]) == CFG["cold_reps"])

for level, P in PACED.items():
    lost = {s: sum(v.get("not_ok", {}).values()) for s, v in P["systems"].items()}
    failed = sum(v["log"].get("forward_failed", 0) for v in P["systems"].values())
    crit(f"every request answered 200 ({level})", f"{sum(lost.values())} cut off "
         + (f"({', '.join(f'{s} {n}' for s, n in lost.items() if n)}), {failed} failed forwards logged"
            if sum(lost.values()) else ""), sum(lost.values()) == 0)

logs = {s: v for s, v in R.get("logs", {}).items() if any(v["events"].values())}
if logs:
    rows = [[s, ", ".join(f"{k} {n}" for k, n in v["events"].items() if n and not k.startswith("reason")),
             "; ".join(f"{k[8:]} ({n})" for k, n in v["events"].items() if n and k.startswith("reason")) or "-"]
            for s, v in logs.items()]
    samples = [m for s, v in logs.items() if not s.startswith("cold") for m in v["samples"]][:4]
    sections.append(("What the proxies logged about the store over the whole run, warm-ups included",
                     ["system", "events", "reasons given for `unavailable`"], rows,
                     ("First lines: " + " / ".join(f"`{m[:220]}`" for m in samples)) if samples else ""))

for e in R["errors"]:
    crit(f"harness: {e}", "", False)

# ---------------------------------------------------------------- output

note = (f"{R['date']}, {R['machine']}, cgroup {R['cgroup']}{' (QUICK run)' if R.get('quick') else ''}. Every system "
        f"is FcHandler (NativeAOT, started by build/bootstrap in FC's environment) in server-key mode with one static "
        f"access token, alone in a cgroup of {LIM['quota_us'] // 1000} ms CPU per {LIM['period_us'] // 1000} ms "
        f"(0.1 vCPU) and {LIM['memory_mb']} MB on CPU 1: `off` without limits; `memory` with "
        f"LIMITS_DEFAULT='{LIM['LIMITS_DEFAULT']}' (every kind of limit, none within reach); `redis` the same in "
        f"redis-server {R.get('store', {}).get('version', '?')} (LIMITS_STORE=redis://127.0.0.1:PORT/0), at the default "
        f"LIMITS_STORE_TIMEOUT of 250 ms, 100 ms and 500 ms. redis-server (no persistence), the load "
        f"(bench/fc_load.py --rate: non-streaming chat completions with max_tokens {LIM['max_tokens']}, open loop, "
        f"kept-alive connections; StreamBench for streams), the fake upstream and its TLS terminator (ALPN h2) run "
        f"on CPU 0. Figures in brackets are ratios against `off` in the same run.") + software(R, nginx=False)
heading = "Limits and their store on FC's smallest instance"
missed = write_report(OUT, heading, "--store", note, sections, criteria)


def chart(plt):
    palette = {"off": "#2ca02c", "memory": "#1f77b4", "redis-100ms": "#ff7f0e", "redis": "#d62728",
               "redis-500ms": "#9467bd", "store-down": "#7f7f7f"}
    fig, ax = plt.subplots(2, 2, figsize=(13, 9))
    if light:
        names = [s for s in ("off", "memory", "redis") if s in light["systems"]]
        L = light["systems"]
        for i, s in enumerate(names):
            ax[0][0].bar([i - 0.2], [statistics.median(L[s]["latency_p50_rounds"])], 0.4, color=palette[s])
            ax[0][0].bar([i + 0.2], [statistics.median(L[s]["latency_p99_rounds"])], 0.4, color=palette[s], alpha=0.45)
        ax[0][0].set_xticks(range(len(names)), names)
        ax[0][0].set_title(f"latency at {light['rate']:g} requests/s, median of the rounds (ms): p50 solid, p99 light")
    # Ratios against off: what limits cost, figure by figure.
    figures = []
    if light:
        figures.append((f"CPU/request\n{light['rate']:g}/s", lambda s: light["systems"].get(s, {}).get("cpu_us_per_request"),
                        light["systems"].get("off", {}).get("cpu_us_per_request")))
    for level, by in sorted(streams.items(), key=lambda kv: int(kv[0])):
        figures.append((f"CPU/event\n{level} streams", lambda s, by=by: by.get(s, {}).get("cpu_us_per_event"),
                        by.get("off", {}).get("cpu_us_per_event")))
    if idle:
        figures.append(("idle RSS", lambda s: idle.get(s, {}).get("rss_mb"), idle.get("off", {}).get("rss_mb")))
    if cold:
        figures.append(("cold start", lambda s: cold.get(s, {}).get("median_ms"), cold.get("off", {}).get("median_ms")))
    for j, s in enumerate(("memory", "redis")):
        ys = [ratio(get(s), base) or 0 for _, get, base in figures]
        ax[0][1].bar([i + (j - 0.5) * 0.4 for i in range(len(figures))], ys, 0.4, color=palette[s], label=s)
    ax[0][1].axhline(1.0, color="black", lw=0.8)
    ax[0][1].set_xticks(range(len(figures)), [name for name, _, _ in figures], fontsize=8)
    ax[0][1].set_title("against off in the same run (x)")
    ax[0][1].legend(fontsize=8)
    if pressure:
        names = ["off", "memory", "redis-100ms", "redis", "redis-500ms"]
        width = 0.8 / len(names)
        for j, s in enumerate(names):
            xs = [i + (j - len(names) / 2 + 0.5) * width for i in range(len(pressure))]
            ys = [PACED[l]["systems"].get(s, {}).get("latency", {}).get("max") or 0 for l in pressure]
            ax[1][0].bar(xs, ys, width, color=palette[s], alpha=0.45)
            ys99 = [PACED[l]["systems"].get(s, {}).get("latency", {}).get("p99") or 0 for l in pressure]
            ax[1][0].bar(xs, ys99, width, color=palette[s], label=label(s))
            for x, y, l in zip(xs, ys, pressure):
                n_local = local(PACED[l]["systems"][s])[0] if s in PACED[l]["systems"] else None
                if n_local:
                    ax[1][0].annotate(f"{n_local} local", (x, y), rotation=90, fontsize=7, ha="center", va="bottom")
        for t in (100, 250, 500):
            ax[1][0].axhline(t, color="#999", lw=0.6, ls=":")
        ax[1][0].set_yscale("log")
        ax[1][0].set_ylim(top=ax[1][0].get_ylim()[1] * 8)  # room for the notes
        ax[1][0].set_xticks(range(len(pressure)), [f"{PACED[l]['rate']:g} requests/s" for l in pressure])
        ax[1][0].set_title("quota-bound: latency p99 (solid), max (light), ms")
        ax[1][0].legend(fontsize=7, loc="upper left")
    cs = [s for s in cold if cold[s].get("median_ms")]
    ax[1][1].bar(range(len(cs)), [cold[s]["median_ms"] for s in cs], color=[palette.get(s, "#333") for s in cs])
    ax[1][1].set_xticks(range(len(cs)), cs)
    ax[1][1].set_title("cold start over TLS, spawn to first proxied 200 (ms, median)")
    for a in (ax[0][0], ax[0][1], ax[1][0], ax[1][1]):
        a.grid(True, axis="y", alpha=0.3)
    return fig


save_chart(OUT, f"{heading} (0.1 vCPU, {LIM['memory_mb']} MB), {R['date']}, {R['machine']}", chart)
print(f"table: {OUT / 'results.md'}")
sys.exit(1 if missed else 0)
