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
