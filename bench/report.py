#!/usr/bin/env python3
"""bench's one report: a run's results.json (bench/bench.py writes it) into the printed tables, the criteria or
targets met or missed, results.md, results.png and a compact copy of results.json beside them.

    /usr/bin/python3 bench/report.py RESULTS_DIR OUT_DIR

What a results.json holds decides its tables: "figures" (a report kept as its tables, for results whose raw run is
gone: rendered as they are), or a run of one of bench/scenarios.py's procedures (wholecore, fc, limits, store).
Exit status 1 if the run recorded an error or, for a full run, a target or criterion was missed."""
import json
import math
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))  # fc_load's outcome classes

# ---------------------------------------------------------------- tables, figures, ratios, the writers
def table(header, body):
    """Aligned columns: the first left-aligned, the rest right-aligned, a dashed rule under the header."""
    widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in body])


def md(header, body):
    return "\n".join(["| " + " | ".join(str(c) for c in header) + " |", "|" + "---|" * len(header)] +
                     ["| " + " | ".join(str(c) for c in r) + " |" for r in body])


def f(v, digits=1):
    """A figure with thousands separators, or - for none."""
    return "-" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def rx(a, b):
    """a's ratio to b, as " (1.23x)", or nothing when there is none."""
    r = ratio(a, b)
    return "" if r is None else f" ({r:.2f}x)"


# A system out of CPU in at least this share of its quota periods is quota-bound: its CPU per event or frame is then the
# quota divided by what it relayed, a ceiling both systems of a pair reach, so their ratio compares no real cost.
QUOTA_BOUND_SHARE = 0.5


def is_quota_bound(share):
    """Whether a level's throttled share (None: not measured) makes the system quota-bound."""
    return share is not None and share >= QUOTA_BOUND_SHARE


def _vs(key, digits=1):
    """A level's figure, with its ratio to the baseline's."""
    return lambda v, b: f(v.get(key), digits) + rx(v.get(key), b.get(key))


# Each column a level's table can show (bench/scenarios.py's "metrics"): its header, and its cell from a system's
# medians v and the baseline's b. Any other name is a figure of the level's (x_p99_ms from a StreamBench list "x_us"),
# shown against the baseline's.
METRICS = {
    "delay_p50_ms": ("delay p50 ms", lambda v, b: f(v["delay_p50_ms"])),
    "frame_delay_p50_ms": ("frame delay p50 ms", lambda v, b: f(v["delay_p50_ms"])),
    "delay_p99_ms": ("p99 ms", _vs("delay_p99_ms")),
    "delay_max_ms": ("max ms", lambda v, b: f(v["delay_max_ms"])),
    "handshake": ("handshake p50 / p99 ms", lambda v, b: f"{f(v['handshake_p50_ms'])} / {f(v['handshake_p99_ms'])}"),
    "cpu_us_per_event": ("CPU us/event", _vs("cpu_us_per_event")),
    "cpu_us_per_frame": ("CPU us/frame", _vs("cpu_us_per_frame")),
    "steady_cpu_us_per_frame": ("steady CPU us/frame", _vs("steady_cpu_us_per_frame")),
    # a difference of two noisy figures, near 0 for the baseline: no ratio
    "setup_cpu_ms_per_session": ("other CPU ms/session", lambda v, b: f(v.get("setup_cpu_ms_per_session"), 2)),
    "throttled": ("throttled periods (share)", lambda v, b: f(v["throttled_periods"], 0) + (
        "" if v.get("throttled_share") is None else f" ({v['throttled_share']:.0%})")),
    "completed": ("streams completed", lambda v, b: f"{v['completed']}/{v['streams']}"),
    "sessions_completed": ("sessions completed", lambda v, b: f"{v['completed']}/{v['sessions']}"),
    "peak_mb": ("peak MB", _vs("peak_mb")),
    "at_peak": ("at peak: anon/file/kernel MB", lambda v, b: " / ".join(
        f"{(v.get('at_peak_mb') or {}).get(k, 0):.1f}" for k in ("anon", "file", "kernel"))),
    "limits": ("limit hits/OOM", lambda v, b: f"{v['limit_hits']}/{v['oom_kills']}"),
}
STREAM_METRICS = ["delay_p50_ms", "delay_p99_ms", "delay_max_ms", "cpu_us_per_event", "throttled", "completed",
                  "peak_mb", "at_peak", "limits"]
WS_METRICS = ["frame_delay_p50_ms", "delay_p99_ms", "delay_max_ms", "handshake", "cpu_us_per_frame",
              "steady_cpu_us_per_frame", "setup_cpu_ms_per_session", "throttled", "sessions_completed", "peak_mb", "at_peak", "limits"]


def level_table(metrics, by_system, systems, base_name):
    """(header, rows) of one level: a row per system that ran it, a column per metric."""
    cols = [METRICS.get(m) or (m.replace("_", " "), _vs(m)) for m in metrics]
    base = by_system.get(base_name, {})
    return ["system"] + [c[0] for c in cols], [[s] + [c[1](by_system[s], base) for c in cols]
                                               for s in systems if by_system.get(s)]


def write_report(out, heading, how, note, sections, criteria):
    """Prints a report of criteria and sections and writes out/results.md (its chart, results.png, beside it).
    sections: (title, header, rows, note below or ""); criteria: (criterion, value, met). Returns the missed ones."""
    print(f"{heading}\n{note}")
    for title, header, rows, below in sections:
        print(f"\n{title}\n" + table(header, rows) + (f"\n{below}" if below else ""))
    crit_rows = [[name, value, "met" if ok else "MISSED"] for name, value, ok in criteria]
    print("\nCriteria:\n" + table(["criterion", "value", "result"], crit_rows))
    out.mkdir(parents=True, exist_ok=True)
    body = [f"# {heading}", "", f"Written by `bench/run.sh {how}`. {note}", ""]
    body += ["## Criteria", "", md(["criterion", "value", "result"], crit_rows), ""]
    for title, header, rows, below in sections:
        body += [f"## {title}", "", md(header, rows), ""] + ([below, ""] if below else [])
    body += [f"![{heading}](results.png)", ""]
    (out / "results.md").write_text("\n".join(body))
    return [c for c in criteria if not c[2]]


def save_chart(out, title, draw):
    """out/results.png from draw(plt), a function that returns the figure; says so when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nmatplotlib missing: no chart")
        return
    fig = draw(plt)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "results.png", dpi=80)
    print(f"\nchart: {out / 'results.png'}")


def software(results, nginx=True):
    """What a run's software was (bench/lib/fc_root.py's describe), as a sentence for a report's note; nginx: whether the
    root's nginx was among the systems under test."""
    v = results.get("versions") or {}
    if results.get("mode") == "debian11":
        proxy = "the proxy from the deploy zip through its bootstrap with FC's environment"
        systems = (f"{v.get('nginx')} ({v.get('nginx_openssl')}; package nginx-light {v.get('nginx_package')}), {proxy}, "
                   "both" if nginx else f"{proxy},")
        return (f" Debian 11 mode: every system under test chrooted in a Debian {v.get('debian')} root, FC's "
                f"custom.debian11 software: {systems} on the root's {v.get('openssl')} (libssl1.1 "
                f"{v.get('openssl_package')}), verifying the upstream against the root's system bundle plus the "
                f"throwaway root. The load side runs on this machine: Debian {v.get('host_debian')}, "
                f"{v.get('host_openssl')}, {v.get('host_nginx')} as the TLS terminator.")
    if results.get("mode") == "host":
        return (f" Host mode: this machine's software, Debian {v.get('host_debian')}, {v.get('host_nginx')}, "
                f"{v.get('host_openssl')}; not FC's.")
    return ""

def ws_levels(R):
    return sorted(int(level) for level in R.get("ws", {}))


def ws_sections(R, systems, base_name):
    """(title, header, rows) per level of concurrent sessions."""
    cfg = R["config"].get("ws", {})
    out = []
    for level in ws_levels(R):
        per_s = 1000 // cfg["interval_ms"] if cfg.get("interval_ms") else "?"
        out.append((f"Realtime WebSocket, {cfg.get('transport', 'tls').upper()} upstream, {level} concurrent sessions of "
                    f"{cfg.get('frames')} audio deltas at {per_s}/s, {cfg.get('frame_bytes')} B each (medians of the rounds)",
                    *level_table(WS_METRICS, R["ws"][str(level)], systems, base_name)))
    return out


def _get(R, level, system, key):
    return R.get("ws", {}).get(str(level), {}).get(system, {}).get(key)


def _bound(R, level, system):
    return is_quota_bound(_get(R, level, system, "throttled_share"))


def ws_summary(R, subject, base_name):
    """(header, rows): the subject against the baseline per level; no target is set for WebSockets."""
    rows = []
    for level in ws_levels(R):
        cpu = ratio(_get(R, level, subject, "cpu_us_per_frame"), _get(R, level, base_name, "cpu_us_per_frame"))
        steady = ratio(_get(R, level, subject, "steady_cpu_us_per_frame"), _get(R, level, base_name, "steady_cpu_us_per_frame"))
        p99, p99_base = _get(R, level, subject, "delay_p99_ms"), _get(R, level, base_name, "delay_p99_ms")
        diff = None if p99 is None or p99_base is None else p99 - p99_base
        bound = _bound(R, level, subject) and _bound(R, level, base_name)
        rows.append([f"{level} sessions", "-" if cpu is None else f"{cpu:.2f}x", "-" if steady is None else f"{steady:.2f}x",
                     "-" if diff is None else f"{diff:+.1f} ms ({p99 / p99_base:.2f}x)" if p99_base else f"{diff:+.1f} ms",
                     "both quota-bound" if bound else ""])
    return ["WebSocket level", "CPU per frame", "steady CPU per frame", "p99 frame delay vs baseline", ""], rows


def ws_incomplete(R, subject):
    """Sessions of the subject that did not complete, over every level."""
    return sum((_get(R, l, subject, "sessions") or 0) - (_get(R, l, subject, "completed") or 0) for l in ws_levels(R))

def wholecore(R, results_dir, latest_dir):
    """The whole-core run (lib/wholecore.py): one table, fc-aot against the targets, the chart."""
    # The CDF of every event's delay, kept as 201 quantiles (delays.json, every delay, stays with the raw run): what
    # the chart draws, so that the compact results.json beside the report redraws it.
    delays_file = results_dir / "delays.json"
    for s, d in (json.loads(delays_file.read_text()) if delays_file.exists() else {}).items():
        if d:
            d = sorted(d)
            R.setdefault("delay_quantiles_ms", {})[s] = [d[i * (len(d) - 1) // 200] / 1000 for i in range(201)]
    SYSTEMS = R["config"].get("systems") or ["direct", "nginx-original", "nginx-tuned", "fc-aot", "fc-jit", "fc-aot-quiet"]

    def get(section, system, key=None):
        v = R[section].get(system)
        if v is not None and key is not None:
            v = v.get(key)
        return v

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

    def chart(plt):
        colors = {"direct": "#999999", "nginx-original": "#d62728", "nginx-tuned": "#ff7f0e", "fc-aot": "#2ca02c",
                  "fc-jit": "#1f77b4", "fc-aot-quiet": "#98df8a"}
        fig, ax = plt.subplots(2, 2, figsize=(13, 9))
        http = [s for s in SYSTEMS if s in R["http"]]
        ax[0][0].bar(http, [R["http"][s]["rps"] for s in http], color=[colors.get(s, "#8c564b") for s in http])
        ax[0][0].set_title("Non-streaming throughput (req/s, higher is better)")
        ax[0][1].bar([i - 0.2 for i in range(len(http))], [R["http"][s]["p50"] for s in http], 0.4, label="p50",
                     color=[colors.get(s, "#8c564b") for s in http], alpha=0.5)
        ax[0][1].bar([i + 0.2 for i in range(len(http))], [R["http"][s]["p99"] for s in http], 0.4, label="p99",
                     color=[colors.get(s, "#8c564b") for s in http])
        ax[0][1].set_xticks(range(len(http)), http)
        ax[0][1].set_title("Latency at 64 connections (ms, p50 light / p99 dark, lower is better)")
        for s, xs in R.get("delay_quantiles_ms", {}).items():
            ax[1][0].plot(xs, [i / 200 for i in range(201)], label=s, color=colors.get(s, "#8c564b"))
        ax[1][0].set_xscale("log")
        ax[1][0].set_xlabel("per-event delay, arrival minus upstream send stamp (ms, log)")
        ax[1][0].set_title(f"Streaming: {cfg['streams']} concurrent streams, CDF of per-event delay")
        ax[1][0].legend()
        ax[1][0].grid(True, which="both", alpha=0.3)
        mem = [s for s in SYSTEMS if s in R["rss_peak_mb"]]
        ax[1][1].bar([i - 0.2 for i in range(len(mem))], [R["rss_idle_mb"].get(s, 0) for s in mem], 0.4,
                     color=[colors.get(s, "#8c564b") for s in mem], alpha=0.5)
        ax[1][1].bar([i + 0.2 for i in range(len(mem))], [R["rss_peak_mb"][s] for s in mem], 0.4,
                     color=[colors.get(s, "#8c564b") for s in mem])
        ax[1][1].axhline(128, color="black", linestyle="--", linewidth=1)
        ax[1][1].text(-0.4, 122, "128 MB FC instance", fontsize=8, va="top")
        ax[1][1].set_xticks(range(len(mem)), mem)
        ax[1][1].set_title(f"RSS (MB): idle light / peak with {cfg['streams']} open streams dark")
        for a in (ax[0][0], ax[0][1], ax[1][1]):
            a.tick_params(axis="x", labelsize=8)
            a.grid(True, axis="y", alpha=0.3)
        return fig

    save_chart(latest_dir, "FcHandler vs nginx, " + R["date"] + ", " + R["machine"], chart)

    print(f"table: {latest_dir / 'results.md'}")
    return 1 if total_errors or (missed and not R["quick"]) else 0


def fc(R, out, SUBJ="fc-aot", BASE="nginx-tuned"):
    """The FC-shaped run (lib/fc.py): cold start, stream and WebSocket levels, every figure against BASE of the same run, SUBJ against the targets."""
    systems = R["config"]["systems"]

    sections = []  # (title, header, rows)

    # Cold start
    cold = R.get("cold", {})
    cold_fc = R.get("cold_fc", {})
    if cold_fc:
        # FC's sequence (bench/lib/fc_cold.py): each phase's own duration, then the CPU the cgroup had used at each point.
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
        # Inside the proxy (FCHANDLER_STARTUP_TRACE): where its part of the start went, phase by phase.
        traced = [(s, path, c["inside"]) for s in systems for path, c in (cold_fc.get(s) or {}).items() if c.get("inside")]
        if traced:
            names = list(dict.fromkeys(m for _, _, inside in traced for m in inside))
            sections.append(("Inside the proxy: each start-up phase from the milestone before it (the first from the "
                             "spawn), FCHANDLER_STARTUP_TRACE's clock, medians: wall ms / the proxy's CPU ms",
                             ["system", "path", *[f"to {m}" for m in names]],
                             [[s, path, *[f"{f(inside[m]['ms'])} / {f(inside[m]['cpu_ms'])}" if m in inside else "-"
                                          for m in names]] for s, path, inside in traced]))
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
            levels.setdefault(transport, []).append(int(level))
            sections.append((f"{transport.upper()} upstream, {level} concurrent streams (medians of the rounds)",
                             *level_table(R["config"].get("metrics") or STREAM_METRICS, by_system, systems, BASE)))

    sections += ws_sections(R, systems, BASE)  # the WebSocket level (bench/lib/fc_ws.py)

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
        return is_quota_bound(share)

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
            targets.append((f"p99 event delay within 5 ms of {BASE}'s at {level} streams", d,
                            d is not None and d <= 5.0, " ms"))
    if 200 in levels.get("tls", []):
        r = ratio(get("tls", 200, SUBJ, "peak_mb"), get("tls", 200, BASE, "peak_mb"))
        targets.append(("peak cgroup memory <= 1.5x at 200 streams", r, r is not None and r <= 1.5, "x"))
    hits = sum((get(t, l, SUBJ, "limit_hits") or 0) + (get(t, l, SUBJ, "oom_kills") or 0)
               for t, ls in levels.items() for l in ls)
    targets.append(("no memory limit hit, no OOM kill (every level)", float(hits), hits == 0, ""))
    incomplete = sum((get(t, l, SUBJ, "streams") or 0) - (get(t, l, SUBJ, "completed") or 0) for t, ls in levels.items() for l in ls)
    incomplete += ws_incomplete(R, SUBJ)
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
    note += software(R)
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
        print(f"\n{title}\n" + table(header, rows))
    print(f"\n{SUBJ} against the targets (ratios against {BASE}, same run, TLS upstream):\n" +
          table(["target", "value", "result"], target_rows) + "\n" + QUOTA_BOUND)
    ws_header, ws_rows = ws_summary(R, SUBJ, BASE)
    if ws_rows:
        print(f"\n{SUBJ} against {BASE} on WebSockets (same run; no target set):\n" + table(ws_header, ws_rows))
    if R["errors"]:
        print("\nerrors:\n  " + "\n  ".join(R["errors"]))

    out.mkdir(parents=True, exist_ok=True)
    scenario = R.get("scenario", "fc")
    by = "`bench/run.sh --fc`" if scenario == "fc" else f"`bench/run.sh --scenario {scenario}`"
    body = [f"# FC-shaped benchmark{'' if scenario == 'fc' else ': ' + scenario}: 0.1 vCPU, 128 MB", "", f"Written by {by}. " + note, ""]
    for title, header, rows in sections:
        body += [f"## {title}", "", md(header, rows), ""]
    body += [f"## {SUBJ} against the targets", "", md(["target", "value", "result"], target_rows), "", QUOTA_BOUND, ""]
    if ws_rows:
        body += [f"## {SUBJ} against {BASE} on WebSockets (no target set)", "", md(ws_header, ws_rows), ""]
    body += (["## Errors", ""] + [f"- {e}" for e in R["errors"]] + [""]) if R["errors"] else ["No errors.", ""]
    body += ["![FC-shaped benchmark](results.png)", ""]
    (out / "results.md").write_text("\n".join(body))

    def chart(plt):
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
        return fig

    save_chart(out, f"The seed's instance size (0.1 vCPU, 128 MB), {R['date']}, {R['machine']}", chart)

    print(f"table: {out / 'results.md'}")
    return 1 if R["errors"] or (missed and not R["quick"]) else 0


def limits(R, OUT):
    """The memcap, slow and soak runs (lib/fc_limits.py): their tables, criteria and charts."""
    SCENARIO, CFG = R["scenario"], R["config"]
    LIMIT_MB = R["limits"]["memory_mb"]
    QUOTA_MS_PER_S = R["limits"]["quota_us"] / R["limits"]["period_us"] * 1000  # CPU ms the instance may use per second
    sections = []  # (title, header, rows, note below or "")
    criteria = []  # (criterion, value, met)

    def crit(name, value, met):
        criteria.append((name, value, bool(met)))

    def pick(rows, key, how=max):
        values = [r[key] for r in rows if key in r]
        return how(values) if values else None

    def outcome_rows(load):
        """Every (kind, outcome) with its count, expected ones first."""
        from fc_load import EXPECTED
        rows = []
        for kind, labels in sorted(load.get("outcomes", {}).items()):
            for label, n in sorted(labels.items(), key=lambda kv: (kv[0] not in EXPECTED, kv[0])):
                rows.append([kind, label, "expected" if label in EXPECTED else "UNEXPECTED", n])
        return rows

    def outcomes_section(load, title="Outcomes of the load (bench/lib/fc_load.py)"):
        rows = outcome_rows(load)
        first = load.get("unexpected_samples")
        sections.append((title, ["traffic", "outcome", "class", "count"], rows,
                         "Unexpected, first ones: " + "; ".join(first[:8]) if first else ""))
        crit("no unexpected outcome (any other status, a stream ended without [DONE] that nobody cut, a reset, a hang)",
             f"{load.get('unexpected', '?')} of {load.get('expected', 0) + load.get('unexpected', 0)}",
             load.get("unexpected") == 0)

    def merged(load, more, prefix):
        """Two runs of the load generator as one, the second's kinds of traffic named with a prefix."""
        return dict(load, outcomes={**load.get("outcomes", {}),
                                    **{f"{prefix}, {k}": v for k, v in more.get("outcomes", {}).items()}},
                    expected=load.get("expected", 0) + more.get("expected", 0),
                    unexpected=load.get("unexpected", 0) + more.get("unexpected", 0),
                    unexpected_samples=load.get("unexpected_samples", []) + more.get("unexpected_samples", []))

    MEMORY_KEYS = ("cg_mb", "anon_mb", "gc_committed_mb", "file_mb", "kernel_mb", "sock_mb", "rss_mb", "fds", "threads",
                   "spool_files", "spool_mb")
    MEMORY_HEADER = ["when", "cgroup MB", "anon", "of it GC heap", "page cache", "kernel", "sockets*", "RSS MB", "fds",
                     "threads", "spooled files / MB"]

    def memory_row(name, r):
        return [name] + [f(r.get(k)) for k in MEMORY_KEYS[:7]] + [r.get("fds", "-"), r.get("threads", "-"),
                                                                    f"{r.get('spool_files', '-')} / {f(r.get('spool_mb'))}"]
    SOCKETS_NOTE = ("GC heap: what the garbage collector has committed (its current_total_committed). *Socket buffers: "
                    "cgroup v1 (this machine) keeps them out of the cgroup's usage and limit (memory.kmem.tcp); cgroup v2 "
                    "and a VM of 128 MB count them, and so does the cap below. Page cache: the binary's pages and spooled "
                    "bodies; the kernel reclaims it at the limit (a limit hit), so the cap is judged on the rest. Peak "
                    "values are of different moments.")

    def cap_criteria(samples, binary_mb):
        """The cap holds if what the kernel cannot take back (anonymous memory, kernel memory, socket buffers), with the
        binary's own pages beside it, fits: page cache beyond that (spooled bodies) is reclaimed at the limit."""
        crit(f"no OOM kill, the proxy still running", f"{R.get('oom_kills')} kills, "
             f"{'running' if R.get('alive') else 'EXITED'}", R.get("oom_kills") == 0 and R.get("alive"))
        held = max((r.get("anon_mb", 0) + r.get("kernel_mb", 0) + r.get("sock_mb", 0) for r in samples), default=0)
        crit(f"within the {LIMIT_MB} MB cap: peak of anonymous + kernel memory + socket buffers, plus the binary's "
             f"{binary_mb:.0f} MB of pages", f"{held:.1f} + {binary_mb:.1f} = {held + binary_mb:.1f} MB",
             held + binary_mb < LIMIT_MB)

    def mann_whitney_greater(x, y):
        """One-sided p-value that the values of x tend to be larger than those of y (Mann-Whitney U, normal approximation
        with tie correction and continuity correction)."""
        n1, n2 = len(x), len(y)
        if not n1 or not n2:
            return None
        pooled = sorted([(v, 0) for v in x] + [(v, 1) for v in y])
        ranks, ties, i = [0.0] * len(pooled), 0.0, 0
        while i < len(pooled):
            j = i
            while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
                j += 1
            for k in range(i, j + 1):
                ranks[k] = (i + j) / 2 + 1
            ties += (j - i + 1) ** 3 - (j - i + 1)
            i = j + 1
        n = n1 + n2
        u = sum(r for r, (_, g) in zip(ranks, pooled) if g == 0) - n1 * (n1 + 1) / 2
        sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
        return 0.5 * math.erfc((u - n1 * n2 / 2 - 0.5) / sigma / math.sqrt(2)) if sigma else 1.0

    def slope(points):
        """Least-squares slope of (x, y) and its standard error."""
        n = len(points)
        if n < 3:
            return None, None
        mx, my = sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
        sxx = sum((p[0] - mx) ** 2 for p in points)
        b = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
        resid = sum((p[1] - my - b * (p[0] - mx)) ** 2 for p in points)
        return b, math.sqrt(resid / (n - 2) / sxx)

    # ---------------------------------------------------------------- memcap

    NEAR_IDLE_MB = 10  # a tenth of what the instance has beyond the proxy's idle 30 MB or so

    def report_memcap():
        gv = R["gc_view"]
        rows = [[c["case"], c["cgroup_limit_mb"] or "none", c["DOTNET_GCTotalPhysicalMemory"], f(c["physical_mb"]),
                 "yes" if c["restricted"] else "no", f(c["heap_hard_limit_mb"]) if c["heap_hard_limit_mb"] else "none",
                 f(c["regions_range_mb"]), f(c["reservation_mb"])] for c in gv["cases"]]
        sections.append(("What the garbage collector plans for, read from the running proxy",
                         ["started with", "cgroup limit MB", "DOTNET_GCTotalPhysicalMemory (bootstrap)",
                          "memory the GC sees MB", "restricted", "heap hard limit MB", "regions range MB",
                          "reservation in maps MB"], rows,
                         gv["note"] + f" This machine has {gv['machine_mb']:,} MB." +
                         ("" if gv.get("from_symbols") else " FcHandler.dbg was missing: the limits are derived from the "
                          "reservation, an upper bound.")))
        fc_cases = [c for c in gv["cases"] if "FC_FUNCTION_MEMORY_SIZE=128" in c["case"]]
        bound = 0.75 * LIMIT_MB * (1.0 if gv.get("from_symbols") else 1.1)  # the reservation may include neighbours
        ok = fc_cases and all(c["heap_hard_limit_mb"] and c["heap_hard_limit_mb"] <= bound for c in fc_cases)
        crit(f"the GC knows the {LIMIT_MB} MB, with the cgroup and without it (FC_FUNCTION_MEMORY_SIZE through bootstrap): "
             f"heap hard limit 75% of it", ", ".join(f"{c['heap_hard_limit_mb'] or 'no'} MB" for c in fc_cases), ok)

        up = R["upload_alone"]
        sections.append((f"One {up['mb']:g} MB upload alone, through the proxy to the TLS upstream",
                         ["MB", "seconds", "proxy CPU ms", "CPU while it ran"],
                         [[f(up["mb"], 0), f(up["seconds"], 2), f(up["cpu_ms"], 0),
                           f"{up['cpu_ms'] / up['seconds'] / QUOTA_MS_PER_S:.0%} of the quota" if up["seconds"] else "-"]],
                         f"That CPU is {up['cpu_ms'] / QUOTA_MS_PER_S:.1f} s of the instance's quota: "
                         f"{up['cpu_ms'] / up['mb']:.1f} ms per MB, receiving from the client, spooling to TMPDIR, reading "
                         "back and sending over TLS."))

        samples = R["samples"]
        w0, w1 = R["load_window"]
        during = [r for r in samples if w0 <= r["t"] <= w1]
        peak_row = {k: pick(during, k) for k in MEMORY_KEYS}
        first, last = during[0] if during else {}, during[-1] if during else {}
        periods = max(1.0, (last.get("t", 0) - first.get("t", 0)) * 1e6 / R["limits"]["period_us"])
        throttled = (last.get("throttled", 0) - first.get("throttled", 0)) / periods
        gcs = ""
        if "gcs" in last and "gcs" in first:
            full = f" ({last['full_gcs'] - first['full_gcs']} full)" if "full_gcs" in last and "full_gcs" in first else ""
            gcs = (f"{last['gcs'] - first['gcs']} garbage collections under the load{full}, "
                   f"{R['after'].get('gcs', 0) - last['gcs']} after it. ")
        sections.append(("Memory of the proxy's cgroup", MEMORY_HEADER,
                         [memory_row("idle, warmed up", R["idle"]), memory_row("peak under the load", peak_row),
                          memory_row(f"after {CFG['quiet_s']:g} s quiet", R["after_quiet"]),
                          memory_row(f"after {CFG['light_s']:g} s of light traffic", R["after"])],
                         SOCKETS_NOTE + f" The cgroup's own high-water mark (memory.max_usage_in_bytes) under the load: "
                         f"{R['load_peak_mb']:.1f} MB. {gcs}The proxy was throttled in {throttled:.0%} of the quota "
                         "periods under the load: it ran out of CPU before it ran out of memory." + trims_note()))
        s = R["streams"]
        sections.append(("The streams", ["streams", "completed", "events", "delay p50 ms", "p99 ms", "max ms"],
                         [[s["streams"], s["ok"], s["events"], f(s["delay_p50_ms"]), f(s["delay_p99_ms"]),
                           f(s["delay_max_ms"])]],
                         "Errors: " + "; ".join(s["error_samples"]) if s["errors"] else ""))
        outcomes_section(merged(R["load"], R.get("light", {}), "light traffic"))
        crit("every stream completed", f"{s['ok']}/{s['streams']}", s["ok"] == s["streams"])
        cap_criteria(samples, R["idle"]["file_mb"])
        crit("memory limit hits that hurt a request", f"{R['limit_hits']} hits (memory.failcnt), "
             f"{R['load']['unexpected'] + s['errors']} requests hurt", R["load"]["unexpected"] + s["errors"] == 0)
        idle, after = R["idle"], R["after"]
        crit(f"memory back near idle after the load and {CFG['light_s']:g} s of light traffic: cgroup memory within "
             f"{NEAR_IDLE_MB} MB of idle, spooled files gone",
             f"{idle['cg_mb']:.1f} -> {after['cg_mb']:.1f} MB (peak {R['load_peak_mb']:.1f}); GC heap "
             f"{f(idle.get('gc_committed_mb'))} -> {f(after.get('gc_committed_mb'))} MB; {after['spool_files']} files",
             after["cg_mb"] - idle["cg_mb"] <= NEAR_IDLE_MB and after["spool_files"] == 0
             and after.get("spool_open_fds", 0) == 0)

    def trims_note():
        """What the proxy's log says its idle trims (IDLE_TRIM_AFTER) gave back."""
        trims = R.get("idle_trims")
        if trims is None:
            return ""
        return (f" Idle trims in the proxy's log: {len(trims)}" + (": " + "; ".join(trims) if trims else "") + ".")

    def chart_memcap(plt):
        samples = R["samples"]
        fig, ax = plt.subplots(1, 2, figsize=(13, 4.8))
        t = [r["t"] for r in samples]
        a = ax[0]
        a.stackplot(t, [r.get("anon_mb", 0) for r in samples], [r.get("file_mb", 0) for r in samples],
                    [r.get("kernel_mb", 0) for r in samples], [r.get("sock_mb", 0) for r in samples],
                    labels=["anon", "page cache", "kernel", "socket buffers"], alpha=0.7)
        a.plot(t, [r.get("rss_mb", 0) for r in samples], "k-", lw=1, label="RSS")
        a.plot(t, [r.get("gc_committed_mb") for r in samples], "b:", lw=1.5, label="GC heap (committed)")
        a.axhline(LIMIT_MB, color="r", ls="--", label=f"limit {LIMIT_MB} MB")
        a.axvspan(*R["load_window"], color="grey", alpha=0.12, label="200 streams + uploads + bursts")
        a.set_title("memory of the proxy's cgroup (MB)")
        a.set_xlabel("seconds")
        a.legend(fontsize=7, loc="upper left")
        a = ax[1]
        a.plot(t, [r.get("spool_mb", 0) for r in samples], label="spooled request bodies (MB)")
        a.plot(t, [r.get("fds", 0) / 10 for r in samples], label="open descriptors / 10")
        a.plot(t, [r.get("threads", 0) for r in samples], label="threads")
        a.axvspan(*R["load_window"], color="grey", alpha=0.12)
        a.set_xlabel("seconds")
        a.set_title("spooled bodies, descriptors, threads")
        a.legend(fontsize=7)
        return fig

    # ---------------------------------------------------------------- slow

    def slow_phases():
        """The rounds by phase; "with" split where the last trickling connection was answered: until then connections
        were being opened and trickling, after it only the idle ones were open."""
        load = R["load"]
        last = load.get("slow", {}).get("last_answer_at", {})
        cut = load.get("t0_offset", 0) + max(last.get("trickle-headers", 0), last.get("trickle-body", 0))
        phases = {"before": [], "with: opening, trickling": [], "with: idle ones only": [], "after": []}
        for r in R["rounds"]:
            if r["phase"] == "with":
                phases["with: opening, trickling" if r["start"] < cut else "with: idle ones only"].append(r)
            else:
                phases[r["phase"]].append(r)
        return phases, cut

    def report_slow():
        rounds, load = R["rounds"], R["load"]
        phases, _ = slow_phases()
        base = [r["delay_p99_ms"] for r in phases["before"] + phases["after"] if r["delay_p99_ms"] is not None]
        samples = R["samples"]
        rows = []
        for phase, rs in phases.items():
            p99 = sorted(r["delay_p99_ms"] for r in rs if r["delay_p99_ms"] is not None)
            xs = [x for x in samples if rs and rs[0]["start"] <= x["t"] <= rs[-1]["end"] and "cpu_ms" in x]
            cpu = ((xs[-1]["cpu_ms"] - xs[0]["cpu_ms"]) / (xs[-1]["t"] - xs[0]["t"]) / QUOTA_MS_PER_S
                   if len(xs) > 1 else None)
            rows.append([phase, len(rs), f"{sum(r['ok'] for r in rs)}/{sum(r['streams'] for r in rs)}",
                         f(statistics.median(r["delay_p50_ms"] for r in rs)) if rs else "-",
                         f(statistics.median(p99)) if p99 else "-", f"{f(p99[0])} - {f(p99[-1])}" if p99 else "-",
                         f(max((r["delay_max_ms"] or 0) for r in rs)) if rs else "-",
                         f"{cpu:.0%}" if cpu is not None else "-"])
        alone = R.get("alone", {})
        n = load.get("slow", {}).get("planned") or 1
        sections.append((f"{CFG['streams']} streams per round ({CFG['stream_events']} events "
                         f"{CFG['stream_interval_ms']} ms apart), before, with and after the slow connections",
                         ["phase", "rounds", "streams completed", "median p50 ms", "median p99 ms", "p99 range ms",
                          "max ms", "proxy CPU, share of quota"], rows,
                         (f"The same {n} slow connections alone, without streams, cost {alone['cpu_ms']:.0f} ms of CPU in "
                          f"{alone['seconds']:.0f} s, opened and trickling until cut off "
                          f"({alone['cpu_ms'] / n * 1000:.0f} us each, "
                          f"{alone['cpu_ms'] / alone['seconds'] / QUOTA_MS_PER_S:.0%} of the quota over that time)."
                          if alone.get("seconds") else "")))
        for phase in ("with: opening, trickling", "with: idle ones only"):
            withs = [r["delay_p99_ms"] for r in phases[phase] if r["delay_p99_ms"] is not None]
            p = mann_whitney_greater(withs, base)
            mw = statistics.median(withs) if withs else None
            mb = statistics.median(base) if base else None
            shift = mw - mb if withs and base else None
            crit(f"streams' p99 event delay does not move beyond noise, {phase[6:]}: its rounds not higher than the rounds "
                 "before and after (one-sided Mann-Whitney U, p >= 0.01)",
                 f"median {f(mw)} vs {f(mb)} ms ({'+' if (shift or 0) >= 0 else ''}{f(shift)}), p = {f(p, 3)}",
                 p is not None and p >= 0.01)
        crit("every stream completed", f"{sum(r['ok'] for r in rounds)}/{sum(r['streams'] for r in rounds)}",
             all(r["ok"] == r["streams"] for r in rounds))

        answered = load.get("slow", {}).get("answered_s", {})
        rows = []
        for key, secs in sorted(answered.items()):
            secs = sorted(secs)
            rows.append([key, len(secs), f(secs[0]), f(statistics.median(secs)), f(secs[-1])])
        sections.append(("What each slow connection got, and when (seconds after it connected)",
                         ["connection: outcome", "count", "first", "median", "last"], rows,
                         f"CLIENT_TIMEOUT (Kestrel's RequestHeadersTimeout, and the grace period of its "
                         f"MinRequestBodyDataRate) {CFG['client_timeout_s']:g} s; KeepAliveTimeout, which also bounds the "
                         f"wait for a new connection's first byte, is Kestrel's default, 130 s. Trickling clients send "
                         f"10 bytes a second; bodies of 20 KB and 200 KB alternate. Connect failures: "
                         f"{load.get('slow', {}).get('connect_failed', '?')}."))
        outcomes_section(merged(load, alone, "alone"), "Outcomes of the slow connections (bench/lib/fc_load.py)")

        t_open = load.get("t0_offset", 0) + (load.get("slow", {}).get("all_open_at") or 0)
        before = [r for r in samples if r["t"] < load.get("t0_offset", 0)]
        at_open = min(samples, key=lambda r: abs(r["t"] - t_open - 1))
        base_row = {k: statistics.median(r[k] for r in before if k in r) if before else None for k in MEMORY_KEYS}
        peak_row = {k: pick(samples, k) for k in MEMORY_KEYS}
        per = [[f"per slow connection, all {n} open"] + [
            f"{(at_open.get(k, 0) - (base_row[k] or 0)) * 1024 / n:.1f} KB" for k in MEMORY_KEYS[:7]] + [
            f"{(at_open.get(k, 0) - (base_row[k] or 0)) / n:.2f}" for k in ("fds", "threads")] + ["-"]]
        sections.append(("Memory and descriptors", MEMORY_HEADER,
                         [memory_row("before (median)", base_row), memory_row(f"all {n} slow connections open", at_open),
                          memory_row("peak", peak_row), memory_row("after", R["after"])] + per, SOCKETS_NOTE))
        cap_criteria(samples, base_row["file_mb"] or 0)

    def chart_slow(plt):
        fig, ax = plt.subplots(1, 2, figsize=(13, 4.8))
        a = ax[0]
        colors = {"before": "#1f77b4", "with": "#d62728", "after": "#2ca02c"}
        for phase, c in colors.items():
            rs = [r for r in R["rounds"] if r["phase"] == phase]
            mid = [(r["start"] + r["end"]) / 2 for r in rs]
            a.plot(mid, [r["delay_p99_ms"] for r in rs], "o", color=c, ms=4, label=f"p99, {phase}")
            a.plot(mid, [r["delay_p50_ms"] for r in rs], ".", color=c, ms=3, alpha=0.5)
        off = R["load"].get("t0_offset", 0)
        _, cut = slow_phases()
        a.axvspan(off, cut, color="grey", alpha=0.15, label="opening, trickling")
        a.axvspan(cut, R["load"].get("t0_offset", 0) + R["load"].get("seconds", 0), color="grey", alpha=0.06,
                  label="idle ones only")
        a.set_title(f"{CFG['streams']} streams per round: p99 (and p50) event delay, ms")
        a.set_xlabel("seconds")
        a.set_yscale("log")
        a.legend(fontsize=7)
        a = ax[1]
        s = R["samples"]
        t = [r["t"] for r in s]
        a.plot(t, [r.get("cg_mb", 0) for r in s], label="cgroup MB")
        a.plot(t, [r.get("sock_mb", 0) for r in s], label="socket buffers MB")
        a.plot(t, [r.get("rss_mb", 0) for r in s], label="RSS MB")
        a.plot(t, [r.get("fds", 0) / 10 for r in s], label="open descriptors / 10")
        a.axhline(LIMIT_MB, color="r", ls="--", label=f"limit {LIMIT_MB} MB")
        a.set_xlabel("seconds")
        a.set_title("memory and descriptors")
        a.legend(fontsize=7)
        return fig

    # ---------------------------------------------------------------- soak

    TOLERANCE = {"rss_mb": (0.25, "MB/min"), "cg_mb": (0.25, "MB/min"), "fds": (0.5, "/min"), "threads": (0.1, "/min")}
    TOLERANCE_NOTE = ("Drift is the least-squares slope over the samples after warm-up (the first third of the run); it "
                      "counts only when it is both above the tolerance and more than twice its standard error. 0.25 MB/min "
                      "is 15 MB an hour: the instance's headroom (about 80 MB) would last five hours, and less than that "
                      "cannot be told from the garbage collector's own swings within a 30-minute run. 0.5 "
                      "descriptors/min and 0.1 threads/min: one leaked per 2-10 minutes, against the dozens that come and "
                      "go with the load.")

    def report_soak():
        load, samples = R["load"], R["samples"]
        end_s = CFG["minutes"] * 60  # the steady load; then the last operations finish, and the quiet spell
        warm = end_s / 3
        by_minute = {m["minute"]: m for m in load["minutes"]}
        rows = []
        for r in samples:
            m = by_minute.get(int(r["t"] // 60) - 1) if r["t"] >= 60 else None
            rows.append([f"{r['t'] / 60:.1f}", m["expected"] if m else "-", m["unexpected"] if m else "-",
                         m["events"] if m else "-", f(m["delay_p50_ms"]) if m else "-", f(m["delay_p99_ms"]) if m else "-",
                         f(r.get("cg_mb")), f(r.get("rss_mb")), r.get("fds"), r.get("threads"),
                         f"{r.get('spool_files')} / {f(r.get('spool_mb'))}"])
        sections.append(("Each sample (every minute, and at the start and the end); the load's figures are those of the "
                         "minute before", ["minute", "expected", "unexpected", "events", "delay p50 ms", "p99 ms",
                                           "cgroup MB", "RSS MB", "fds", "threads", "spooled files / MB"], rows,
                         "The proxy's CPU in each interval, as a share of its quota: " + ", ".join(
                             f"{(b['cpu_ms'] - a['cpu_ms']) / (b['t'] - a['t']) / QUOTA_MS_PER_S:.0%}"
                             for a, b in zip(samples, samples[1:])
                             if b["t"] <= end_s + 1 and "cpu_ms" in a and "cpu_ms" in b) + "."))
        outcomes_section(load)
        running = [r for r in samples if r["t"] <= end_s + 1 and "rss_mb" in r]
        after_warm = [r for r in running if r["t"] >= warm]
        start = samples[0]
        warm_row = min(after_warm, key=lambda r: r["t"]) if after_warm else {}
        last = running[-1] if running else {}
        for r in samples + [R["after"]]:
            if "gc_committed_mb" in r and "anon_mb" in r:
                r["native_mb"] = r["anon_mb"] - r["gc_committed_mb"]
        counted = "gcs" in last and "gcs" in warm_row
        gcs = last["gcs"] - warm_row["gcs"] if counted else None
        full = last["full_gcs"] - warm_row["full_gcs"] if "full_gcs" in last and "full_gcs" in warm_row else None
        rows = []
        for key, label in (("rss_mb", "RSS, MB"), ("cg_mb", "cgroup memory, MB"), ("gc_committed_mb", "GC heap, MB"),
                           ("native_mb", "anonymous outside the GC heap, MB"), ("fds", "open descriptors"),
                           ("threads", "threads")):
            b, se = slope([(r["t"] / 60, r[key]) for r in after_warm if key in r])
            tol, unit = TOLERANCE.get(key, TOLERANCE["rss_mb"])
            drift = b is not None and b > tol and b > 2 * se
            rows.append([label, f(start.get(key)), f(warm_row.get(key)), f(last.get(key)), f(R["after"].get(key)),
                         f"{f(b, 3)} ± {f(se, 3)}" if b is not None else "too few samples", f"{tol} {unit}",
                         "DRIFT" if drift else ("no drift" if b is not None else "-")])
            if b is None or key == "gc_committed_mb":  # the GC heap is in RSS and the cgroup's memory already
                continue
            name = label.split(",")[0]
            compacted = R.get("idle_trims") and key in R["after"] and key in start
            if drift and key in ("rss_mb", "cg_mb") and (full or 0) < 2 and compacted:
                # Without a full collection since warm-up, a rising heap may be garbage not yet collected, or a leak: the
                # slope cannot tell. The idle trim after the load compacts the heap; what a leak holds would survive it.
                margin = 2.0
                crit(f"no growth of {name} that survives a compacting collection: the slope after warm-up was "
                     f"{b:+.3f} ± {se:.3f} {unit} with no full collection; after the load and the idle trim, back within "
                     f"{margin:g} MB of its start", f"{start[key]:.1f} -> {R['after'][key]:.1f} MB",
                     R["after"][key] <= start[key] + margin)
            else:
                unsure = (" (a GC heap that had no full collection since warm-up still holds its old garbage)"
                          if drift and key in ("rss_mb", "cg_mb") and (full or 0) < 2 else "")
                crit(f"no upward drift of {name} after warm-up{unsure}", f"{b:+.3f} ± {se:.3f} {unit}", not drift)
        sections.append((f"Drift after warm-up ({warm / 60:.1f} of {end_s / 60:.1f} minutes)",
                         ["", "start", "after warm-up", "end of load", f"after {CFG['quiet_s']:g} s quiet",
                          "slope after warm-up (per min)", "tolerance", "result"], rows,
                         TOLERANCE_NOTE + f" Garbage collections after warm-up: {gcs if gcs is not None else '?'}, "
                         f"of them full (gen2): {full if full is not None else '?'}. Anonymous memory outside the GC heap "
                         "(native: TLS, sockets' user buffers, stacks, the allocator) does not wait for a collection."
                         + trims_note()))
        after = R["after"]
        crit("no spooled body left after the load (files in TMPDIR, descriptors open on them)",
             f"{after.get('spool_files')} files, {after.get('spool_open_fds')} descriptors",
             after.get("spool_files") == 0 and after.get("spool_open_fds") == 0)
        crit("descriptors back to their start after the load (within 2)", f"{start.get('fds')} -> {after.get('fds')}",
             after.get("fds") is not None and after["fds"] <= start.get("fds", 0) + 2)
        cap_criteria(samples, start.get("file_mb", 0))
        up = load.get("uploads_s") or []
        if up:
            sections.append(("Uploads", ["completed", "MB each", "seconds p50", "max"],
                             [[len(up), f(CFG["upload_mb"], 0), f(statistics.median(up), 2), f(max(up), 2)]], ""))

    def chart_soak(plt):
        s, load = R["samples"], R["load"]
        fig, ax = plt.subplots(2, 2, figsize=(13, 8))
        t = [r["t"] / 60 for r in s]
        warm = CFG["minutes"] / 3
        for a, keys, title in ((ax[0][0], (("cg_mb", "cgroup"), ("rss_mb", "RSS"), ("anon_mb", "anon")), "memory (MB)"),
                               (ax[0][1], (("fds", "open descriptors"), ("threads", "threads")), "descriptors and threads"),
                               (ax[1][0], (("spool_files", "spooled files"), ("spool_mb", "spooled MB")),
                                "spooled request bodies at each sample")):
            for key, label in keys:
                a.plot(t, [r.get(key) for r in s], "o-", ms=3, label=label)
            a.axvspan(0, warm, color="grey", alpha=0.12, label="warm-up")
            a.set_title(title)
            a.set_xlabel("minutes")
            a.legend(fontsize=7)
        a = ax[1][1]
        m = load["minutes"]
        a.plot([x["minute"] + 0.5 for x in m], [x["delay_p99_ms"] for x in m], "o-", ms=3, label="event delay p99 ms")
        a.plot([x["minute"] + 0.5 for x in m], [x["delay_p50_ms"] for x in m], "o-", ms=3, label="event delay p50 ms")
        a2 = a.twinx()
        a2.bar([x["minute"] + 0.5 for x in m], [x["unexpected"] for x in m], 0.6, color="r", alpha=0.4,
               label="unexpected outcomes")
        a2.set_ylim(0, max(5, max((x["unexpected"] for x in m), default=0) * 1.2))
        a.set_title("streams, and unexpected outcomes (bars), per minute")
        a.set_xlabel("minutes")
        a.legend(fontsize=7, loc="upper left")
        a2.legend(fontsize=7, loc="upper right")
        return fig

    # ---------------------------------------------------------------- output

    REPORTS = {"memcap": (report_memcap, chart_memcap, "Memory cap: 200 streams, 32 MB uploads and bursts in 128 MB"),
               "slow": (report_slow, chart_slow, "Slow and idle clients at scale"),
               "soak": (report_soak, chart_soak, "Fault-and-soak run")}
    report, chart, heading = REPORTS[SCENARIO]
    report()
    for e in R["errors"]:
        crit(f"harness: {e}", "", False)

    how = {"memcap": "--memcap", "slow": "--slow", "soak": f"--soak --minutes {CFG.get('minutes', 0):g}"}[SCENARIO]
    note = (f"{R['date']}, {R['machine']}, cgroup {R['cgroup']}. FcHandler (NativeAOT, started by build/bootstrap in FC's "
            f"environment) alone in a cgroup of {R['limits']['quota_us'] // 1000} ms CPU per "
            f"{R['limits']['period_us'] // 1000} ms (0.1 vCPU) and {LIMIT_MB} MB on CPU 1; the load (bench/lib/fc_load.py, "
            "StreamBench), the fake upstream and its TLS terminator (ALPN h2, http/1.1) on CPU 0.") + software(R, nginx=False)
    missed = write_report(OUT, heading, how, note, sections, criteria)
    save_chart(OUT, f"{heading}: FcHandler in 0.1 vCPU / {LIMIT_MB} MB, {R['date']}", chart)
    print(f"table: {OUT / 'results.md'}")
    return 1 if missed else 0


def store(R, OUT):
    """The limits-store run (lib/fc_store.py): every figure beside `off` of the same run, criteria, chart."""
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
            f"(bench/lib/fc_load.py --rate: non-streaming chat completions with max_tokens {LIM['max_tokens']}, open loop, "
            f"kept-alive connections; StreamBench for streams), the fake upstream and its TLS terminator (ALPN h2) run "
            f"on CPU 0. Figures in brackets are ratios against `off` in the same run.") + software(R, nginx=False)
    heading = "Limits and their store on the seed's instance size"
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
    return 1 if missed else 0


# ---------------------------------------------------------------- kept reports, and the one entry

def figures_md(doc):
    """A report kept as its tables ({"figures": blocks}), in markdown: each block a heading ("#" levels), a paragraph,
    or a table (header and rows), separated by a blank line as every report writes them."""
    parts = []
    for b in doc["figures"]:
        if "table" in b:
            parts.append(md(b["table"][0], b["table"][1:]))
        else:
            parts.append(b.get("heading") or b["text"])
    return "\n\n".join(parts) + "\n"


def figures_from_md(text):
    """The blocks of a report's results.md (figures_md's inverse): how a report whose raw run is gone is kept."""
    blocks = []
    for chunk in text.rstrip("\n").split("\n\n"):
        lines = chunk.split("\n")
        if all(l.startswith("|") for l in lines) and len(lines) >= 2 and set(lines[1]) <= set("|-"):
            cells = [l[2:-2].split(" | ") for l in lines[:1] + lines[2:]]  # md()'s "| a | b |", spaces kept
            blocks.append({"table": cells})
        elif chunk.startswith("#") and "\n" not in chunk:
            blocks.append({"heading": chunk})
        else:
            blocks.append({"text": chunk})
    return blocks


def kind_of(R):
    """Which report a results.json wants: bench.py stamps its procedure; older runs are told apart by their keys."""
    if "figures" in R:
        return "figures"
    if R.get("procedure"):
        return R["procedure"]
    if R.get("scenario") in ("memcap", "slow", "soak"):
        return "limits"
    return "store" if "timeouts_ms" in R else "wholecore" if "http" in R else "fc"


def main(argv):
    results_dir, out = Path(argv[0]), Path(argv[1])
    text = (results_dir / "results.json").read_text()
    R = json.loads(text)
    kind = kind_of(R)
    out.mkdir(parents=True, exist_ok=True)
    if kind == "figures":
        (out / "results.md").write_text(figures_md(R))
        status = 0
    elif kind == "wholecore":
        status = wholecore(R, results_dir, out)
    elif kind == "fc":
        status = fc(R, out, R.get("subject", "fc-aot"), R.get("baseline", "nginx-tuned"))
    else:
        status = {"limits": limits, "store": store}[kind](R, out)
    if out.resolve() != results_dir.resolve():  # the raw figures beside the report, so that it regenerates
        (out / "results.json").write_text(json.dumps(R, separators=(",", ":")) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
