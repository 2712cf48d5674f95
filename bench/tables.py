"""The two table formats every bench report prints: aligned text for the terminal, markdown for bench/latest/."""


def table(header, body):
    """Aligned columns: the first left-aligned, the rest right-aligned, a dashed rule under the header."""
    widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in body])


def md(header, body):
    return "\n".join(["| " + " | ".join(str(c) for c in header) + " |", "|" + "---|" * len(header)] +
                     ["| " + " | ".join(str(c) for c in r) + " |" for r in body])
