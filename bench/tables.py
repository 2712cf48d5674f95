"""The two table formats every bench report prints: aligned text for the terminal, markdown for bench/latest/."""


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


def quota_bound(share):
    """Whether a level's throttled share (None: not measured) makes the system quota-bound."""
    return share is not None and share >= QUOTA_BOUND_SHARE


def level_row(system, v, base, cpu_key, count_key, extra=()):
    """One system's row in a level of the FC-shaped bench (bench/fc.py's streams, fc_ws.py's sessions): delays p50,
    p99 (against the baseline's `base`), max, the `extra` columns, CPU per event or frame (`cpu_key`, against the
    baseline's), throttled periods and their share, completed of `count_key`, peak memory and its parts, limit
    hits and OOM kills."""
    mem = v.get("at_peak_mb") or {}
    return [
        system, f(v["delay_p50_ms"]), f(v["delay_p99_ms"]) + rx(v["delay_p99_ms"], base.get("delay_p99_ms")),
        f(v["delay_max_ms"]), *extra, f(v[cpu_key]) + rx(v[cpu_key], base.get(cpu_key)),
        f(v["throttled_periods"], 0) + ("" if v.get("throttled_share") is None else f" ({v['throttled_share']:.0%})"),
        f"{v['completed']}/{v[count_key]}", f(v["peak_mb"]) + rx(v["peak_mb"], base.get("peak_mb")),
        " / ".join(f"{mem.get(k, 0):.1f}" for k in ("anon", "file", "kernel")), f"{v['limit_hits']}/{v['oom_kills']}",
    ]


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
    """What a run's software was (bench/fc_root.py's describe), as a sentence for a report's note; nginx: whether the
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
