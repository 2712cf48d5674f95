"""The WebSocket level's part of bench/fc_report.py: tables of a results.json's "ws" levels (bench/fc_ws.py), every
figure against the baseline of the same run, and the subject's ratios with quota-bound pairs marked."""
from tables import f, level_row, quota_bound, ratio, rx


def levels(R):
    return sorted(int(level) for level in R.get("ws", {}))


def sections(R, systems, base_name):
    """(title, header, rows) per level of concurrent sessions."""
    cfg = R["config"].get("ws", {})
    out = []
    for level in levels(R):
        by_system = R["ws"][str(level)]
        base = by_system.get(base_name, {})
        rows = []
        for s in systems:
            v = by_system.get(s)
            if not v:
                continue
            handshake = f"{f(v['handshake_p50_ms'])} / {f(v['handshake_p99_ms'])}"
            row = level_row(s, v, base, "cpu_us_per_frame", "sessions", extra=[handshake])
            steady = v.get("steady_cpu_us_per_frame")
            setup = v.get("setup_cpu_ms_per_session")
            row[6:6] = [f(steady) + rx(steady, base.get("steady_cpu_us_per_frame")),
                        f(setup, 2)]  # a difference of two noisy figures, near 0 for the baseline: no ratio
            rows.append(row)
        per_s = 1000 // cfg["interval_ms"] if cfg.get("interval_ms") else "?"
        out.append((f"Realtime WebSocket, {cfg.get('transport', 'tls').upper()} upstream, {level} concurrent sessions of "
                    f"{cfg.get('frames')} audio deltas at {per_s}/s, {cfg.get('frame_bytes')} B each (medians of the rounds)",
                    ["system", "frame delay p50 ms", "p99 ms", "max ms", "handshake p50 / p99 ms", "CPU us/frame",
                     "steady CPU us/frame", "other CPU ms/session", "throttled periods (share)", "sessions completed", "peak MB", "at peak: anon/file/kernel MB",
                     "limit hits/OOM"], rows))
    return out


def _get(R, level, system, key):
    return R.get("ws", {}).get(str(level), {}).get(system, {}).get(key)


def _bound(R, level, system):
    return quota_bound(_get(R, level, system, "throttled_share"))


def summary(R, subject, base_name):
    """(header, rows): the subject against the baseline per level; no target is set for WebSockets."""
    rows = []
    for level in levels(R):
        cpu = ratio(_get(R, level, subject, "cpu_us_per_frame"), _get(R, level, base_name, "cpu_us_per_frame"))
        steady = ratio(_get(R, level, subject, "steady_cpu_us_per_frame"), _get(R, level, base_name, "steady_cpu_us_per_frame"))
        p99, p99_base = _get(R, level, subject, "delay_p99_ms"), _get(R, level, base_name, "delay_p99_ms")
        diff = None if p99 is None or p99_base is None else p99 - p99_base
        bound = _bound(R, level, subject) and _bound(R, level, base_name)
        rows.append([f"{level} sessions", "-" if cpu is None else f"{cpu:.2f}x", "-" if steady is None else f"{steady:.2f}x",
                     "-" if diff is None else f"{diff:+.1f} ms ({p99 / p99_base:.2f}x)" if p99_base else f"{diff:+.1f} ms",
                     "both quota-bound" if bound else ""])
    return ["WebSocket level", "CPU per frame", "steady CPU per frame", "p99 frame delay vs baseline", ""], rows


def incomplete(R, subject):
    """Sessions of the subject that did not complete, over every level."""
    return sum((_get(R, l, subject, "sessions") or 0) - (_get(R, l, subject, "completed") or 0) for l in levels(R))
