#!/usr/bin/env python3
"""Turns bench/results/results.json into the printed table, the ratios against each target, a markdown copy and
the PNG chart. Exit status 1 if any error was recorded or, for a full run, any target missed."""
import json
import sys
from pathlib import Path

from tables import md, table

results_dir, latest_dir = Path(sys.argv[1]), Path(sys.argv[2])
R = json.loads((results_dir / "results.json").read_text())
delays = json.loads((results_dir / "delays.json").read_text())
SYSTEMS = ["direct", "nginx-original", "nginx-tuned", "fc-aot", "fc-jit", "fc-aot-quiet"]


def get(section, system, key=None):
    v = R[section].get(system)
    if v is not None and key is not None:
        v = v.get(key)
    return v


def f(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return None if a in (None, 0) or b in (None, 0) else a / b


rows = []
for s in SYSTEMS:
    rows.append([
        s,
        f(get("http", s, "rps"), 0), f(get("http", s, "p50"), 2), f(get("http", s, "p99"), 2),
        f(get("http", s, "cpu_us_per_req"), 0),
        f(get("stream", s, "ttfe_p50_ms"), 2), f(get("stream", s, "delay_p50_ms"), 3),
        f(get("stream", s, "delay_p99_ms"), 3), f(get("stream", s, "delay_max_ms"), 2),
        f(get("cold_ms", s), 1), f(get("rss_idle_mb", s), 1), f(get("rss_peak_mb", s), 1),
        str((get("http", s, "errors") or 0) + (get("stream", s, "errors") or 0)) if s in R["http"] or s in R["stream"] else "-",
    ])
head = ["system", "req/s", "p50 ms", "p99 ms", "CPU us/req", "TTFE p50 ms", "event delay p50 ms", "p99 ms", "max ms",
        "cold start ms", "idle RSS MB", "peak RSS MB (500 streams)", "errors"]

aot, tuned, orig = "fc-aot", "nginx-tuned", "nginx-original"
peak_aot, peak_tuned = get("rss_peak_mb", aot), get("rss_peak_mb", tuned)
total_errors = len(R["errors"])
our_errors = sum((get(sec, s, "errors") or 0) for sec in ("http", "stream") for s in (aot, "fc-jit", "fc-aot-quiet"))
targets = [
    ("throughput >= 2x original nginx", ratio(get("http", aot, "rps"), get("http", orig, "rps")), lambda r: r >= 2.0, "x"),
    ("throughput >= 1.0x tuned nginx", ratio(get("http", aot, "rps"), get("http", tuned, "rps")), lambda r: r >= 1.0, "x"),
    ("p99 latency <= tuned nginx", ratio(get("http", aot, "p99"), get("http", tuned, "p99")), lambda r: r <= 1.0, "x"),
    ("event delay p99 <= tuned nginx + 0.5 ms",
     None if get("stream", aot, "delay_p99_ms") is None or get("stream", tuned, "delay_p99_ms") is None
     else get("stream", aot, "delay_p99_ms") - get("stream", tuned, "delay_p99_ms"), lambda d: d <= 0.5, " ms diff"),
    ("AOT cold start <= 1.5x tuned nginx", ratio(get("cold_ms", aot), get("cold_ms", tuned)), lambda r: r <= 1.5, "x"),
    ("idle RSS < 20 MB", get("rss_idle_mb", aot), lambda v: v < 20, " MB"),
    ("peak RSS (500 streams) < 2x tuned nginx", ratio(peak_aot, peak_tuned), lambda r: r < 2.0, "x"),
    ("peak RSS far inside 128 MB (< 64 MB)", peak_aot, lambda v: v < 64, " MB"),
    ("zero errors (ours)", float(our_errors), lambda v: v == 0, ""),
]
target_rows = []
missed = 0
for name, value, ok, unit in targets:
    met = value is not None and ok(value)
    missed += 0 if met else 1
    target_rows.append([name, "-" if value is None else f"{value:.2f}{unit}", "met" if met else "MISSED"])


print()
print(table(head, rows))
print()
print("fc-aot against the targets (ratios measured in this run):")
print(table(["target", "value", "result"], target_rows))
if R["errors"]:
    print("\nerrors:\n  " + "\n  ".join(R["errors"]))

cfg = R["config"]
note = (f"{R['date']}, {R['machine']}{' (QUICK run)' if R['quick'] else ''}. Non-streaming: wrk, {cfg['connections']} "
        f"connections, median of {cfg['rounds']} alternating rounds of {cfg['duration_s']} s. Streaming: "
        f"{cfg['streams']} concurrent streams x {cfg['events']} events {cfg['interval_ms']} ms apart, "
        f"{cfg['stream_rounds']} alternating rounds, percentiles over all events. Cold start: median of "
        f"{cfg['cold_reps']}. System under test alone on CPU 1; load generators and fake upstream on CPU 0.")

latest_dir.mkdir(parents=True, exist_ok=True)
(latest_dir / "results.md").write_text(
    "# Latest benchmark results\n\nWritten by `bench/run.sh`. " + note + "\n\n" + md(head, rows) +
    "\n\n## fc-aot against the targets\n\n" + md(["target", "value", "result"], target_rows) +
    ("\n\n## Errors\n\n" + "\n".join("- " + e for e in R["errors"]) if R["errors"] else "\n\nNo errors.") +
    "\n\n![results](results.png)\n")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"direct": "#999999", "nginx-original": "#d62728", "nginx-tuned": "#ff7f0e", "fc-aot": "#2ca02c",
              "fc-jit": "#1f77b4", "fc-aot-quiet": "#98df8a"}
    fig, ax = plt.subplots(2, 2, figsize=(13, 9))
    http = [s for s in SYSTEMS if s in R["http"]]
    ax[0][0].bar(http, [R["http"][s]["rps"] for s in http], color=[colors[s] for s in http])
    ax[0][0].set_title("Non-streaming throughput (req/s, higher is better)")
    ax[0][1].bar([i - 0.2 for i in range(len(http))], [R["http"][s]["p50"] for s in http], 0.4, label="p50",
                 color=[colors[s] for s in http], alpha=0.5)
    ax[0][1].bar([i + 0.2 for i in range(len(http))], [R["http"][s]["p99"] for s in http], 0.4, label="p99",
                 color=[colors[s] for s in http])
    ax[0][1].set_xticks(range(len(http)), http)
    ax[0][1].set_title("Latency at 64 connections (ms, p50 light / p99 dark, lower is better)")
    for s, d in delays.items():
        if d:
            xs = sorted(v / 1000 for v in d)
            ax[1][0].plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], label=s, color=colors[s])
    ax[1][0].set_xscale("log")
    ax[1][0].set_xlabel("per-event delay, arrival minus upstream send stamp (ms, log)")
    ax[1][0].set_title(f"Streaming: {cfg['streams']} concurrent streams, CDF of per-event delay")
    ax[1][0].legend()
    ax[1][0].grid(True, which="both", alpha=0.3)
    mem = [s for s in SYSTEMS if s in R["rss_peak_mb"]]
    ax[1][1].bar([i - 0.2 for i in range(len(mem))], [R["rss_idle_mb"].get(s, 0) for s in mem], 0.4,
                 color=[colors[s] for s in mem], alpha=0.5)
    ax[1][1].bar([i + 0.2 for i in range(len(mem))], [R["rss_peak_mb"][s] for s in mem], 0.4,
                 color=[colors[s] for s in mem])
    ax[1][1].axhline(128, color="black", linestyle="--", linewidth=1)
    ax[1][1].text(-0.4, 122, "128 MB FC instance", fontsize=8, va="top")
    ax[1][1].set_xticks(range(len(mem)), mem)
    ax[1][1].set_title(f"RSS (MB): idle light / peak with {cfg['streams']} open streams dark")
    for a in (ax[0][0], ax[0][1], ax[1][1]):
        a.tick_params(axis="x", labelsize=8)
        a.grid(True, axis="y", alpha=0.3)
    fig.suptitle("FcHandler vs nginx, " + R["date"] + ", " + R["machine"], fontsize=10)
    fig.tight_layout()
    fig.savefig(latest_dir / "results.png", dpi=80)
    print(f"\nchart: {latest_dir / 'results.png'}")
except ImportError:
    print("\nmatplotlib missing: no chart")

print(f"table: {latest_dir / 'results.md'}")
sys.exit(1 if total_errors or (missed and not R["quick"]) else 0)
