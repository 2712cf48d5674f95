#!/usr/bin/env python3
"""Turns a bench/fc_limits.py results.json into printed tables, the criteria met or missed, a markdown copy
(results.md) and a chart (results.png).

    /usr/bin/python3 bench/fc_limits_report.py RESULTS_DIR OUT_DIR

Exit status 1 if anything unexpected happened or any criterion was missed; the tables say which."""
import json
import math
import statistics
import sys
from pathlib import Path

from tables import f, save_chart, software, write_report

R = json.loads((Path(sys.argv[1]) / "results.json").read_text())
OUT = Path(sys.argv[2])
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


def outcomes_section(load, title="Outcomes of the load (bench/fc_load.py)"):
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
    outcomes_section(merged(load, alone, "alone"), "Outcomes of the slow connections (bench/fc_load.py)")

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
        f"{R['limits']['period_us'] // 1000} ms (0.1 vCPU) and {LIMIT_MB} MB on CPU 1; the load (bench/fc_load.py, "
        "StreamBench), the fake upstream and its TLS terminator (ALPN h2, http/1.1) on CPU 0.") + software(R, nginx=False)
missed = write_report(OUT, heading, how, note, sections, criteria)
save_chart(OUT, f"{heading}: FcHandler in 0.1 vCPU / {LIMIT_MB} MB, {R['date']}", chart)
print(f"table: {OUT / 'results.md'}")
sys.exit(1 if missed else 0)
