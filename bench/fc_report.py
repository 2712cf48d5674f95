#!/usr/bin/env python3
"""Turns a bench/fc.py results.json into the printed tables, every figure as a ratio against the tuned nginx of the
same run, the targets, a markdown copy and the chart.

    /usr/bin/python3 bench/fc_report.py RESULTS_DIR OUT_DIR [--subject fc-aot] [--baseline nginx-tuned]

Exit status 1 if any error was recorded or, for a full run, any target was missed."""
import argparse
import json
import sys
from pathlib import Path

import tables
from tables import f, level_row, md, ratio, rx, table as text
import fc_ws_report

ap = argparse.ArgumentParser()
ap.add_argument("results")
ap.add_argument("out")
ap.add_argument("--subject", default="fc-aot")
ap.add_argument("--baseline", default="nginx-tuned")
args = ap.parse_args()
R = json.loads((Path(args.results) / "results.json").read_text())
out = Path(args.out)
SUBJ, BASE = args.subject, args.baseline
systems = R["config"]["systems"]


sections = []  # (title, header, rows)

# Cold start
cold = R.get("cold", {})
cold_fc = R.get("cold_fc", {})
if cold_fc:
    # FC's sequence (bench/fc_cold.py): each phase's own duration, then the CPU the cgroup had used at each point.
    base = (cold_fc.get(BASE) or {}).get("direct", {})
    rows = []
    for s in systems:
        for path, c in (cold_fc.get(s) or {}).items():
            ph = c["phases"]

            def phase(p):
                return f"+{f(ph[p]['ms'])}" if p in ph else "-"

            rows.append([s, path, phase("listening"), phase("initialize"), phase("first"),
                         f(c["total_ms"]) + rx(c["total_ms"], base.get("total_ms")),
                         " / ".join(f(ph[p]["at_cpu_ms"]) if p in ph else "-" for p in ("listening", "initialize", "first")),
                         ", ".join(f"{r['first']['ms']:.0f}" for r in c["reps"])])
    sections.append(("Cold start under the quota as FC sequences it: spawn, port listening, POST /initialize (the "
                     "initializer path), first proxied 200 over TLS (medians; nginx has no initializer)",
                     ["system", "path", "to listening ms", "/initialize ms", "first request ms",
                      "spawn to first 200 ms (vs baseline)", "cgroup CPU ms at listening / /initialize / first 200",
                      "every start, ms"], rows))
elif cold:
    base = cold.get(BASE, {})
    rows = []
    for s in systems:
        c = cold.get(s)
        if not c:
            continue
        rows.append([s, f(c["median_ms"]) + rx(c["median_ms"], base.get("median_ms")),
                     f(c["median_cpu_ms"]) + rx(c["median_cpu_ms"], base.get("median_cpu_ms")),
                     ", ".join(f"{x:.0f}" for x in c["ms"])])
    sections.append(("Cold start under the quota: spawn into the cgroup to the first proxied 200 over TLS (median)",
                     ["system", "ms (vs baseline)", "CPU ms used by then", "every start, ms"], rows))

# Streams, per transport and level
levels = {}
for transport, by_level in R.get("streams", {}).items():
    for level, by_system in sorted(by_level.items(), key=lambda kv: int(kv[0])):
        base = by_system.get(BASE, {})
        rows = []
        for s in systems:
            v = by_system.get(s)
            if not v:
                continue
            rows.append(level_row(s, v, base, "cpu_us_per_event", "streams"))
        levels.setdefault(transport, []).append(int(level))
        sections.append((f"{transport.upper()} upstream, {level} concurrent streams (medians of the rounds)",
                         ["system", "delay p50 ms", "p99 ms", "max ms", "CPU us/event", "throttled periods (share)",
                          "streams completed", "peak MB", "at peak: anon/file/kernel MB", "limit hits/OOM"], rows))

sections += fc_ws_report.sections(R, systems, BASE)  # the WebSocket level (bench/fc_ws.py)

# Targets
def get(transport, level, system, key):
    return R.get("streams", {}).get(transport, {}).get(str(level), {}).get(system, {}).get(key)


targets = []
if cold_fc.get(SUBJ) and cold_fc.get(BASE):
    for path, c in cold_fc[SUBJ].items():
        r = ratio(c["total_ms"], cold_fc[BASE]["direct"]["total_ms"])
        targets.append((f"cold start, spawn to first proxied 200 ({path} path) <= 1.5x", r, r is not None and r <= 1.5, "x"))
elif cold.get(SUBJ) and cold.get(BASE):
    r = ratio(cold[SUBJ]["median_ms"], cold[BASE]["median_ms"])
    targets.append(("cold start over TLS under the quota <= 1.5x (aim 1.0x)", r, r is not None and r <= 1.5, "x"))


def quota_bound(transport, level, system):
    """The system ran out of CPU in most of its quota periods: its CPU per event is then the quota divided by the
    events relayed, a ceiling both systems of a pair reach, and their ratio compares no real cost."""
    share = get(transport, level, system, "throttled_share")
    if share is None:  # results from before periods were counted: a round lasts about 30 periods
        return (get(transport, level, system, "throttled_periods") or 0) >= 15
    return tables.quota_bound(share)


# Below the quota, where an instance still has room and users compare: CPU per event at 10 and 25 streams, and the p99
# delay at 25 and 50 streams within 5 ms of the tuned nginx's. Above it, both systems' CPU per event is the quota's.
for level in (10, 25):
    if level in levels.get("tls", []):
        r = ratio(get("tls", level, SUBJ, "cpu_us_per_event"), get("tls", level, BASE, "cpu_us_per_event"))
        bound = quota_bound("tls", level, BASE) and quota_bound("tls", level, SUBJ)
        targets.append((f"CPU per relayed event <= 1.2x (aim 1.0x) at {level} streams", r,
                        None if bound else r is not None and r <= 1.2, "x"))
for level in (25, 50):
    if level in levels.get("tls", []):
        ours, theirs = get("tls", level, SUBJ, "delay_p99_ms"), get("tls", level, BASE, "delay_p99_ms")
        d = None if ours is None or theirs is None else ours - theirs
        targets.append((f"p99 event delay within 5 ms of the tuned nginx's at {level} streams", d,
                        d is not None and d <= 5.0, " ms"))
if 200 in levels.get("tls", []):
    r = ratio(get("tls", 200, SUBJ, "peak_mb"), get("tls", 200, BASE, "peak_mb"))
    targets.append(("peak cgroup memory <= 1.5x at 200 streams", r, r is not None and r <= 1.5, "x"))
hits = sum((get(t, l, SUBJ, "limit_hits") or 0) + (get(t, l, SUBJ, "oom_kills") or 0)
           for t, ls in levels.items() for l in ls)
targets.append(("no memory limit hit, no OOM kill (every level)", float(hits), hits == 0, ""))
incomplete = sum((get(t, l, SUBJ, "streams") or 0) - (get(t, l, SUBJ, "completed") or 0) for t, ls in levels.items() for l in ls)
incomplete += fc_ws_report.incomplete(R, SUBJ)
errors_subj = [e for e in R["errors"] if SUBJ in e.split()]
targets.append(("zero errors, every stream (TLS and plain) and WebSocket session complete", float(incomplete + len(errors_subj)),
                 incomplete == 0 and not errors_subj, ""))
target_rows = [[name, "-" if v is None else f"{v:+.1f}{unit}" if unit == " ms" else f"{v:.2f}{unit}", "both quota-bound" if ok is None else "met" if ok else "MISSED"]
               for name, v, ok, unit in targets]
missed = sum(1 for t in target_rows if t[2] == "MISSED")

cfg = R["config"]
note = (f"{R['date']}, {R['machine']}, cgroup {R['cgroup']}{' (QUICK run)' if R['quick'] else ''}. Each system alone "
        f"in a cgroup of {cfg['quota_us'] // 1000} ms CPU per {cfg['period_us'] // 1000} ms (0.1 vCPU) and "
        f"{cfg['memory_mb']} MB on CPU 1; the load generator, the SSE upstream and its TLS terminator (ALPN h2, "
        f"http/1.1) on CPU 0. Streams of {cfg['events']} events {cfg['interval_ms']} ms apart, opened over "
        f"{cfg['ramp_ms']} ms; {cfg['rounds']} alternating rounds per level; cold start: median of {cfg['cold_reps']}. "
        f"Ratios are against {BASE} in the same run.")
note += tables.software(R)
if cfg.get("ws"):
    ws = cfg["ws"]
    note += (f" WebSocket level: Realtime sessions of {ws['frames']} audio deltas {ws['interval_ms']} ms apart, "
             f"{ws['frame_bytes']} B each, {ws.get('transport', 'tls').upper()} upstream; CPU per frame counts handshakes "
             "and closes, its steady figure (every session open, none closing) does not.")
if cfg.get("variants"):
    note += " Variants: " + "; ".join(f"`{v}`" for v in cfg["variants"]) + "."

QUOTA_BOUND = ("Quota-bound: the system ran out of CPU in at least half of its quota periods. Its CPU per event is "
               "then the quota divided by the events it relayed: a ceiling that both systems of a pair reach, so their ratio "
               "compares no real cost. Their delays still compare how each copes without CPU.")
print(note)
for title, header, rows in sections:
    print(f"\n{title}\n" + text(header, rows))
print(f"\n{SUBJ} against the targets (ratios against {BASE}, same run, TLS upstream):\n" +
      text(["target", "value", "result"], target_rows) + "\n" + QUOTA_BOUND)
ws_header, ws_rows = fc_ws_report.summary(R, SUBJ, BASE)
if ws_rows:
    print(f"\n{SUBJ} against {BASE} on WebSockets (same run; no target set):\n" + text(ws_header, ws_rows))
if R["errors"]:
    print("\nerrors:\n  " + "\n  ".join(R["errors"]))

out.mkdir(parents=True, exist_ok=True)
body = ["# FC-shaped benchmark: 0.1 vCPU, 128 MB", "", "Written by `bench/run.sh --fc`. " + note, ""]
for title, header, rows in sections:
    body += [f"## {title}", "", md(header, rows), ""]
body += [f"## {SUBJ} against the targets", "", md(["target", "value", "result"], target_rows), "", QUOTA_BOUND, ""]
if ws_rows:
    body += [f"## {SUBJ} against {BASE} on WebSockets (no target set)", "", md(ws_header, ws_rows), ""]
body += (["## Errors", ""] + [f"- {e}" for e in R["errors"]] + [""]) if R["errors"] else ["No errors.", ""]
body += ["![FC-shaped benchmark](results.png)", ""]
(out / "results.md").write_text("\n".join(body))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    palette = ["#ff7f0e", "#d62728", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    color = {s: palette[i % len(palette)] for i, s in enumerate(systems)}
    fig, ax = plt.subplots(2, 2, figsize=(13, 9))
    for transport, style in (("tls", "-"), ("plain", ":")):
        ls = sorted(levels.get(transport, []))
        for s in systems:
            for a, key in ((ax[0][0], "delay_p99_ms"), (ax[0][1], "cpu_us_per_event"), (ax[1][0], "peak_mb")):
                ys = [get(transport, l, s, key) for l in ls]
                if ls and all(y is not None for y in ys):
                    a.plot(ls, ys, style, marker="o", color=color[s], label=f"{s} ({transport})")
    ax[0][0].set_title("p99 per-event delay (ms, lower is better)")
    ax[0][0].set_yscale("log")
    ax[0][1].set_title("CPU per relayed event (us, cgroup accounting)")
    ax[1][0].set_title("peak cgroup memory (MB); the instance has 128")
    for a in (ax[0][0], ax[0][1], ax[1][0]):
        a.set_xlabel("concurrent streams, 50 events/s each")
        a.grid(True, which="both", alpha=0.3)
    if ax[0][0].lines:  # a run of other phases only draws no stream levels
        ax[0][0].legend(fontsize=7)
    cs = [s for s in systems if cold.get(s, {}).get("median_ms")]
    if not cs:
        ax[1][1].text(0.5, 0.5, "no cold-start phase in this run", ha="center", va="center", transform=ax[1][1].transAxes)
    ax[1][1].bar([i - 0.2 for i in range(len(cs))], [cold[s]["median_ms"] for s in cs], 0.4,
                 color=[color[s] for s in cs], label="wall ms")
    ax[1][1].bar([i + 0.2 for i in range(len(cs))], [cold[s]["median_cpu_ms"] * 10 for s in cs], 0.4,
                 color=[color[s] for s in cs], alpha=0.4, label="CPU ms x 10 (the quota's factor)")
    ax[1][1].set_xticks(range(len(cs)), cs, fontsize=8)
    ax[1][1].set_title("cold start over TLS under the quota (ms)")
    ax[1][1].legend(fontsize=8)
    ax[1][1].grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"FC's smallest instance (0.1 vCPU, 128 MB), {R['date']}, {R['machine']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "results.png", dpi=80)
    print(f"\nchart: {out / 'results.png'}")
except ImportError:
    print("\nmatplotlib missing: no chart")

print(f"table: {out / 'results.md'}")
sys.exit(1 if R["errors"] or (missed and not R["quick"]) else 0)
