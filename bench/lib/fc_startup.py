#!/usr/bin/env python3
"""FcHandler's cold start as FC sequences it, phase by phase, in a Debian 11 root under FC's smallest quota.

    bench/run.sh --scenario startup [-- options]: bench/bench.py runs it with the deploy zip as "base" and --nginx;
    more options: --system changed=B.zip[,NAME=VALUE...] [--reps 7] [--paths init,direct]

FC spawns ./bootstrap, waits until the port accepts, calls POST /initialize when an initializer is configured (the
"init" path; the "direct" path has none), then sends the first request: the user's first request waits for all of it.
Each rep spawns each system in turn (the order rotates), like FC: chrooted into the Debian 11 root, working directory
/code-NAME, FC's environment, in a fresh cgroup of FC's smallest instance (bench/lib/fc.py's Cgroup: 0.1 vCPU, 128 MB). Then
it connects until the port accepts, calls /initialize (init path), and sends the first proxied chat completion over TLS
(ECDSA leaf and intermediate; the throwaway root added to Debian 11's bundle, passed as UPSTREAM_CA_FILE). At each step:
the wall time since spawn and the CPU the cgroup has used. Inside the proxy, FCHANDLER_STARTUP_TRACE=1 marks its
milestones (main, host composition, listening, the warm-up's HEAD and check) with the same monotonic clock and its
own CPU. With --nginx, Debian 11's nginx (installed into the overlay from Debian's archive) with the tuned config,
verifying the upstream against the same bundle, is the reference: it has no initializer, so it runs the direct path.

The root is only read: an overlay over it (its upper layer under --results) holds /code-NAME, the bundle and nginx,
and is unmounted at exit with /proc inside it. The upstream (StreamBench's SSE server behind nginx's TLS) runs on the
load CPU as in bench/lib/fc.py, on ports from FCBENCH_PORT_BASE. Results: DIR/startup.json and a table on stdout.
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import fc
import fc_cold
import wholecore as h

INSIDE = ["main", "builder", "services", "container", "pipeline", "listening"]  # StartupTrace milestones, in order
CHAT = fc.CHAT


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


class Overlay:
    """A writable view of a read-only root: its changes go to an upper layer of our own."""

    def __init__(self, lower, work):
        self.merged, upper, scratch = work / "merged", work / "upper", work / "scratch"
        for d in (self.merged, upper, scratch):
            d.mkdir(parents=True, exist_ok=True)
        sh("mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={scratch}", str(self.merged))
        self.mounts = [self.merged]
        atexit.register(self.unmount)
        self.mount("proc", "proc")

    def mount(self, kind, where):
        sh("mount", "-t", kind, kind, str(self.merged / where))
        self.mounts.append(self.merged / where)

    def unmount(self):
        for m in reversed(self.mounts):
            subprocess.run(["umount", str(m)], check=False)
        self.mounts = []

    def inside(self, path):
        return "/" + str(Path(path).relative_to(self.merged))


def install_nginx(root):
    """Debian 11's nginx in the overlay, as a user following the original recipe gets it on custom.debian11."""
    if (root.merged / "usr/sbin/nginx").exists():
        return
    shutil.copy("/etc/resolv.conf", root.merged / "etc/resolv.conf")
    policy = root.merged / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")  # no service starts inside the root
    policy.chmod(0o755)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    sh("chroot", str(root.merged), "apt-get", "update", "-qq", env=env)
    sh("chroot", str(root.merged), "apt-get", "install", "-y", "-qq", "nginx-light", env=env, stdout=subprocess.DEVNULL)
    policy.unlink()


class System:
    def __init__(self, name, root, port, tls_dir, zip_path=None, extra=None, nginx_cmd=None):
        self.name, self.root, self.port, self.extra, self.nginx_cmd = name, root, port, extra or {}, nginx_cmd
        self.code = f"/code-{name}"
        if zip_path:
            target = root.merged / self.code.lstrip("/")
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            sh("unzip", "-q", str(zip_path), "-d", str(target))
        self.bundle = tls_dir

    def command(self):
        if self.nginx_cmd:
            return self.nginx_cmd, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, "/"
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
               "FC_FUNCTION_NAME": "fcstartup", "FC_REGION": "ap-southeast-1", "FC_FUNCTION_MEMORY_SIZE": "128",
               "FC_CUSTOM_LISTEN_PORT": str(self.port), "FC_FUNC_CODE_PATH": self.code,
               "UPSTREAM_BASE_URL": f"https://{fc.TLS_NAME}:{fc.TLS_PORT}", "UPSTREAM_CA_FILE": self.bundle,
               "FCHANDLER_STARTUP_TRACE": "1"}
        env.update(self.extra)
        # EXEC=FcHandler: the binary without build/bootstrap, given what bootstrap would have set (what the script costs).
        if env.pop("EXEC", None) == "FcHandler":
            env.update({"SSL_CERT_FILE": "/dev/null", "SSL_CERT_DIR": "", "DOTNET_GCTotalPhysicalMemory": "8000000",
                        "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION": "256",
                        "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS": "1"})
            return ["./FcHandler"], env, self.code
        return ["./bootstrap"], env, self.code

    def spawn(self, cgroup, out, err):
        cmd, env, cwd = self.command()
        merged = str(self.root.merged)

        def enter():
            os.sched_setaffinity(0, fc.SUT_CPU)
            cgroup.enter(os.getpid())
            os.chroot(merged)
            os.chdir(cwd)

        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, preexec_fn=enter)
        h.started.append(proc)
        return proc


def trace_of(path):
    """The proxy's StartupTrace lines: milestone -> (monotonic ms, its CPU ms, "gen0/gen1/gen2" collections so far)."""
    marks = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) in (4, 5) and parts[0] == "startup-trace":  # builds before the GC counts have 4 fields
            marks.setdefault(parts[1], (int(parts[2]) / 1e6, int(parts[3]) / 1e3, parts[4] if len(parts) == 5 else "?"))
    return marks


def one_start(system, path, results_dir, rep):
    """Spawn to first proxied answer along `path`; every step's wall ms since spawn and the cgroup's CPU ms by then."""
    cg = fc.Cgroup(f"start-{system.name}")
    stem = results_dir / f"{system.name}.{path}.{rep}"
    with open(f"{stem}.out.log", "wb") as out, open(f"{stem}.err.log", "wb") as err:
        t0 = time.monotonic()
        proc = system.spawn(cg, out, err)
        end = t0 + 60
        steps = {}
        try:
            if fc_cold.wait_listening(system.port, end) is None:
                return None
            steps["accepted"] = ((time.monotonic() - t0) * 1000, cg.cpu_ns() / 1e6)
            if path == "init":
                status, _ = fc_cold.call(system.port, "POST", "/initialize",
                                         {"x-fc-control-path": "/initialize", "x-fc-request-id": f"init-{rep}"}, b"", end)
                steps["initialized"] = ((time.monotonic() - t0) * 1000, cg.cpu_ns() / 1e6)
                if status != 200:
                    return None
            status, _ = fc_cold.call(system.port, "POST", "/v1/chat/completions", {
                "Authorization": "Bearer sk-bench", "Content-Type": "application/json", "x-fc-request-id": f"req-{rep}"}, CHAT, end)
            steps["answered"] = ((time.monotonic() - t0) * 1000, cg.cpu_ns() / 1e6)
            if status != 200:
                return None
        finally:
            h.stop(proc)
            cg.remove()
    inside = {k: (ms - t0 * 1000, cpu, gcs) for k, (ms, cpu, gcs) in trace_of(f"{stem}.err.log").items()}
    return {"steps": steps, "inside": inside}


def phases(run):
    """Per phase (wall ms, CPU ms): inside milestones use the process's own CPU, outside steps the cgroup's."""
    rows, prev = {}, ("spawn", (0.0, 0.0))
    for name in INSIDE:
        if name in run["inside"]:
            rows[f"{prev[0]}->{name}"] = (run["inside"][name][0] - prev[1][0], run["inside"][name][1] - prev[1][1])
            prev = (name, run["inside"][name])
    last = ("spawn", (0.0, 0.0)) if prev[0] == "spawn" else None
    for name in ("accepted", "initialized", "answered"):
        if name in run["steps"]:
            if last is None:  # from the last inside milestone: wall from the trace, CPU from the cgroup
                rows[f"{prev[0]}->{name}"] = (run["steps"][name][0] - prev[1][0], None)
            else:
                rows[f"{last[0]}->{name}"] = (run["steps"][name][0] - last[1][0], run["steps"][name][1] - last[1][1])
            last = (name, run["steps"][name])
    for name in ("warmup-head", "warmup-check"):
        if name in run["inside"] and "accepted" in run["steps"]:
            rows[f"accepted->{name} (in init)"] = (run["inside"][name][0] - run["steps"]["accepted"][0], None)
    rows["TOTAL spawn->answered"] = run["steps"]["answered"]
    return rows


def main(argv, scenario):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--streambench", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--system", action="append", default=[], help="NAME=ZIP[,VAR=VALUE...]")
    ap.add_argument("--nginx", action="store_true")
    ap.add_argument("--root-work", help="where the overlay's layers go (default DIR/root); reused, nginx stays installed")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--paths", default="init,direct")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("needs root: overlay, chroot, cgroups")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    os.sched_setaffinity(0, fc.LOAD_CPU)

    out = Path(args.results).resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = Overlay(Path(args.rootfs).resolve(), Path(args.root_work or out / "root").resolve())  # unmounted last: at exit, handlers run newest first
    atexit.register(fc.remove_all_cgroups)
    atexit.register(h.stop_all)
    tls = fc.make_tls(out)
    inroot = root.merged / "tmp/fcstartup"
    inroot.mkdir(parents=True, exist_ok=True)
    # Debian 11's bundle plus the throwaway root: what FC's image trusts, and the upstream's CA.
    bundle = inroot / "bundle.pem"
    bundle.write_text((root.merged / "etc/ssl/certs/ca-certificates.crt").read_text() + (out / "tls/root.pem").read_text())
    shutil.copy(out / "tls/root.pem", inroot / "root.pem")  # UPSTREAM_CA_FILE=/tmp/fcstartup/root.pem: the bundle's cost

    systems = []
    port = fc.FIRST_PORT
    for spec in args.system:
        name, _, rest = spec.partition("=")
        zip_path, *pairs = rest.split(",")
        systems.append(System(name, root, port, root.inside(bundle), zip_path=zip_path, extra=dict(p.split("=", 1) for p in pairs)))
        port += 1
    if args.nginx:
        install_nginx(root)
        runner = h.Runner(argparse.Namespace(results=str(inroot)))
        cmd = runner.nginx_conf("tuned", fc.BENCH / "nginx/tuned.conf", f"127.0.0.1:{port}", f"{fc.TLS_NAME}:{fc.TLS_PORT}",
                                tls={"name": fc.TLS_NAME, "ca": root.inside(bundle)})
        conf = Path(cmd[4])
        conf.write_text(conf.read_text().replace(str(root.merged), ""))
        cmd = ["/usr/sbin/nginx"] + [c.replace(str(root.merged), "") for c in cmd[1:]]
        i = cmd.index("-e")
        del cmd[i:i + 2]  # nginx 1.18 has no -e: the config's error_log line says where errors go
        systems.append(System("nginx", root, port, root.inside(bundle), nginx_cmd=cmd))

    fc.start_upstreams(argparse.Namespace(streambench=args.streambench), h.Runner(argparse.Namespace(results=str(out))), tls)
    if not h.wait_ready(fc.SSE_PORT) or not fc.tls_ready(tls["bundle"]):
        sys.exit("the fake upstream did not start")

    paths = [p for p in args.paths.split(",") if p]
    runs = {}
    order = [(s, p) for s in systems for p in paths if not (s.nginx_cmd and p == "init")]
    for rep in range(args.reps):
        k = rep % len(order)
        for system, path in order[k:] + order[:k]:
            result = one_start(system, path, out, rep)
            key = f"{system.name}/{path}"
            runs.setdefault(key, [])
            if result is None:
                print(f"  {key} rep {rep}: FAILED (see {out}/{system.name}.{path}.{rep}.*.log)", flush=True)
                continue
            runs[key].append(result)
            print(f"  {key} rep {rep}: {result['steps']['answered'][0]:.0f} ms, CPU {result['steps']['answered'][1]:.0f} ms", flush=True)
            time.sleep(0.3)

    summary = {}
    for key, rs in runs.items():
        if not rs:
            continue
        table = {}
        for r in rs:
            for phase, (wall, cpu) in phases(r).items():
                table.setdefault(phase, ([], []))
                table[phase][0].append(wall)
                if cpu is not None:
                    table[phase][1].append(cpu)
        summary[key] = {phase: {"wall_ms": statistics.median(w), "cpu_ms": statistics.median(c) if c else None, "n": len(w)}
                        for phase, (w, c) in table.items()}
    (out / "startup.json").write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))

    base = next(iter(summary), None)
    for key, table in summary.items():
        print(f"== {key} (medians of {table['TOTAL spawn->answered']['n']})")
        for phase, v in table.items():
            cpu = "-" if v["cpu_ms"] is None else f"{v['cpu_ms']:7.1f}"
            print(f"   {phase:36s} wall {v['wall_ms']:8.1f} ms  CPU {cpu} ms")
    print("== totals: spawn to first proxied answer (median wall ms, CPU ms; ratio to the first)")
    for key, table in summary.items():
        t, b = table["TOTAL spawn->answered"], summary[base]["TOTAL spawn->answered"]
        print(f"   {key:24s} {t['wall_ms']:8.1f} ms  {t['cpu_ms']:7.1f} ms CPU   x{t['wall_ms'] / b['wall_ms']:.2f} wall  "
              f"x{t['cpu_ms'] / b['cpu_ms']:.2f} CPU")
    return 0

