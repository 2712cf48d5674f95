#!/usr/bin/env python3
"""The one bench runner: runs a scenario of bench/scenarios.py by name, then bench/report.py on its results.

    sudo /usr/bin/python3 bench/bench.py SCENARIO [--quick] [--host] [-- the procedure's own options]
    /usr/bin/python3 bench/bench.py --list [--markdown]

bench/run.sh installs the tools, builds, then runs this; run it directly when the builds are there (bench/results/bin,
dist/, .cache/). Raw results go to bench/results/TIME-SCENARIO (git-ignored). A full run of a scenario with a
`latest` folder, on FC's software (not --host), writes its report there, with its raw results.json; a --quick or --host
run, or a soak shorter than 30 minutes, writes it beside the raw results. Exit status: the procedure's, else the
report's (1 for an error or, in a full run, a target missed).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH / "lib"))

import report  # noqa: E402  (after the path: it imports from bench/lib too)
from scenarios import SCENARIOS, SEED  # noqa: E402

BIN = BENCH / "results/bin"
PROCEDURES = {"wholecore": "wholecore", "fc": "fc", "limits": "fc_limits", "store": "fc_store"}


def system_under_test(sc, host):
    """The procedure's options that say what runs: the deploy zip in the Debian 11 root, or this machine's builds."""
    if not sc["root"] or host:
        return ["--aot", str(BIN / "aot/FcHandler")] + (["--jit", str(BIN / "jit/FcHandler")] if not sc["root"] else [])
    sut = ["--root", str(REPO / ".cache/benchroot-bullseye"), "--zip", str(REPO / "dist/FcHandler-linux-x64-aot.zip")]
    # The zip leaves FcHandler.dbg out; the limits and store procedures read the GC's variables with it.
    return sut + (["--symbols", str(REPO / ".cache/publish/aot/FcHandler.dbg")]
                  if sc["procedure"] in ("limits", "store") else [])


def brief(arg):
    """An argument as the table shows it: a long list (the key pool's 30 access tokens) by its count."""
    return f"<{arg.count(',') + 1} values>" if len(arg) > 60 and "," in arg else arg


def listing(markdown):
    """The scenario table: bench/README.md's is this with --markdown."""
    rows = []
    for name, sc in SCENARIOS.items():
        cg = sc["cgroup"]
        shape = "whole cores: each system alone on CPU 1" if cg is None else (
            f"{cg['quota_us'] / cg['period_us']:g} vCPU, {cg['memory_mb']} MB{' (the seed’s)' if cg == SEED else ''}")
        load = "; ".join(f"{k}: {' '.join(map(brief, v)) if isinstance(v, list) else v}" for k, v in sc["load"].items())
        rows.append([f"`{name}`", sc["what"], ", ".join(f"`{s}`" for s in sc["systems"]), shape, load,
                     ", ".join(m.replace("_", " ") for m in sc["metrics"]),
                     "-" if sc["latest"] is None else f"`bench/latest/{sc['latest']}`".replace("/`", "`"),
                     f"{sc['minutes']}"])
    header = ["scenario", "what", "systems", "cgroup", "load", "metrics", "committed report", "minutes"]
    if markdown:
        return report.md(header, rows)
    return "\n".join(f"{r[0].strip('`'):10s} {r[7]:>3s} min  {r[1]}" for r in rows)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="wholecore", choices=SCENARIOS)
    ap.add_argument("--quick", action="store_true", help="a smoke run: short rounds, few levels; reported beside it")
    ap.add_argument("--host", action="store_true", help="this machine's software instead of FC's Debian 11 root")
    ap.add_argument("--list", action="store_true", help="print the scenario table and exit")
    ap.add_argument("--markdown", action="store_true", help="with --list: as bench/README.md's table")
    ap.add_argument("--results", help="where the raw results go (default bench/results/TIME-SCENARIO)")
    own, _, extra = (argv[:argv.index("--")], None, argv[argv.index("--") + 1:]) if "--" in argv else (argv, None, [])
    args = ap.parse_args(own)
    if args.list:
        print(listing(args.markdown))
        return 0
    sc = SCENARIOS[args.scenario]
    if (sc["cgroup"] or sc["root"]) and os.geteuid() != 0:
        sys.exit(f"bench.py {args.scenario} needs root: it creates cgroups (and chroots into the Debian 11 root)")
    results = Path(args.results or BENCH / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}-{args.scenario}").resolve()
    quick = ["--quick"] if args.quick and sc["procedure"] in ("wholecore", "fc", "store") else []
    options = [*sc["args"], *system_under_test(sc, args.host), "--streambench",
               str(BIN / "streambench/StreamBench.dll"), "--results", str(results), *quick, *extra]
    if sc["cgroup"]:  # the instance size every FC-shaped procedure's cgroups get (bench/lib/fc.py's Cgroup)
        import fc
        fc.QUOTA_US, fc.PERIOD_US = sc["cgroup"]["quota_us"], sc["cgroup"]["period_us"]
        fc.MEMORY_BYTES = sc["cgroup"]["memory_mb"] * 2**20
    print(f"== {args.scenario}: bench/lib/{PROCEDURES[sc['procedure']]}.py {' '.join(options)}", flush=True)
    status = __import__(PROCEDURES[sc["procedure"]]).main(options, sc)
    raw = results / "results.json"
    R = json.loads(raw.read_text())
    R.update(procedure=sc["procedure"], scenario=R.get("scenario", args.scenario),
             **{k: sc[k] for k in ("subject", "baseline") if k in sc})  # whose ratios the report gives, against whom
    raw.write_text(json.dumps(R, indent=1))
    short_soak = args.scenario == "soak" and R.get("config", {}).get("minutes", 30) < 30
    latest = sc["latest"] is not None and not (args.quick or (args.host and sc["root"]) or short_soak)
    out = BENCH / "latest" / sc["latest"] if latest else results
    return status or report.main([str(results), str(out)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
