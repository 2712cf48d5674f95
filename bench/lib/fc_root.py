"""The Debian 11 root bench/lib/fc.py runs every system under test in: FC's custom.debian11 software (OpenSSL 1.1.1, nginx
1.18) instead of this machine's.

The root is a tree made by build/make-sysroot.sh with nginx-light added (bench/run.sh --fc builds it). While a run lasts:
/proc is mounted in it (.NET reads its limits and its own path there), the deploy zip is unpacked to /code as FC unpacks
a function's code, and the run's throwaway root CA is appended to the root's system bundle, where an FC user's upstream
CA already is: the proxy's bootstrap hands that bundle to the proxy, and nginx's proxy_ssl_trusted_certificate names it.
Everything is undone on exit. The processes run chrooted (Systems.start): they share this machine's network namespace,
so the load side, the fake upstream and its TLS terminator stay outside, on loopback.
"""
import atexit
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's system bundle, as seen inside the root
SAVED = ".fcbench-saved"  # the bundle as it was, beside it, until the run ends


def add_arguments(ap):
    """The options that choose the mode: --root and --zip (FC's software), or --aot (this machine's)."""
    ap.add_argument("--aot", help="the host mode's AOT build (build/bootstrap beside it)")
    ap.add_argument("--root", help="the Debian 11 mode: a bench root (build/make-sysroot.sh with nginx-light)")
    ap.add_argument("--zip", help="the Debian 11 mode: the deploy zip, unpacked to /code in the root")


def open_root(args, scratch):
    """The Debian 11 mode's root (None in the host mode), undone at exit. Call it before registering anything that
    stops processes: exit handlers run last first, so the root is undone after every process in it has stopped."""
    if bool(args.root) != bool(args.zip) or not (args.root or args.aot):
        sys.exit(f"{Path(sys.argv[0]).name} needs --root and --zip (the Debian 11 mode) or --aot (the host mode)")
    if not args.root:
        return None
    root = BenchRoot(args.root, args.zip, scratch)
    atexit.register(root.tear_down)
    return root


def describe(root):
    """What a run's results say of the software it measured."""
    return {"mode": "debian11" if root else "host", "versions": root.versions() if root else host_versions()}


class BenchRoot:
    def __init__(self, root, zip_path, scratch):
        self.root = Path(root).resolve()
        self.zip = Path(zip_path)
        self.scratch = scratch  # a per-run directory name under the root's /tmp
        self.mounted_proc = False
        if not (self.root / ".sysroot-complete").exists() or not (self.root / "usr/sbin/nginx").exists():
            raise SystemExit(f"no Debian 11 bench root with nginx at {self.root}: run "
                             "SYSROOT_EXTRA_PACKAGES=nginx-light build/make-sysroot.sh DIR (bench/run.sh --fc does)")
        if not self.zip.exists():
            raise SystemExit(f"{self.zip} missing: run deploy.ps1 -PackageOnly -Build Aot")

    def host(self, path):
        """The host's path of a path inside the root."""
        return self.root / str(path).lstrip("/")

    def inside(self, path):
        """The path inside the root of a host path under it."""
        return "/" + str(Path(path).resolve().relative_to(self.root))

    @property
    def tmp(self):
        """A host directory inside the root for this run's nginx prefixes and variants, removed on exit."""
        d = self.host(f"/tmp/{self.scratch}")
        d.mkdir(parents=True, exist_ok=True)
        return d

    def set_up(self, throwaway_root_pem):
        proc = self.host("/proc")
        if subprocess.run(["mountpoint", "-q", str(proc)]).returncode != 0:
            subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
            self.mounted_proc = True
        code = self.host("/code")
        shutil.rmtree(code, ignore_errors=True)
        unzip(self.zip, code)
        bundle = self.host(BUNDLE)
        saved = bundle.with_name(bundle.name + SAVED)
        if saved.exists():  # a previous run did not get to restore it
            saved.replace(bundle)
        shutil.copy2(bundle, saved)
        with bundle.open("a") as f:
            f.write(Path(throwaway_root_pem).read_text())

    def tear_down(self):
        bundle = self.host(BUNDLE)
        saved = bundle.with_name(bundle.name + SAVED)
        if saved.exists():
            saved.replace(bundle)
        shutil.rmtree(self.host("/code"), ignore_errors=True)
        shutil.rmtree(self.host(f"/tmp/{self.scratch}"), ignore_errors=True)
        if self.mounted_proc:
            subprocess.run(["umount", str(self.host("/proc"))])
            self.mounted_proc = False

    def variant_code(self, name, binary):
        """For --variant NAME:bin=PATH, its path inside the root: a copy of /code with another FcHandler binary in it,
        or another deploy zip (bootstrap and all) unpacked when PATH is one."""
        d = self.tmp / f"code-{name}"
        if not d.exists() and str(binary).endswith(".zip"):
            unzip(binary, d)
        elif not d.exists():
            shutil.copytree(self.host("/code"), d, symlinks=True)
            shutil.copy2(binary, d / "FcHandler")
        return self.inside(d)

    def versions(self):
        """What the run measured: the root's Debian, nginx and OpenSSL, and this machine's."""
        nginx = subprocess.run(["chroot", str(self.root), "/usr/sbin/nginx", "-V"], capture_output=True, text=True).stderr
        return {
            "debian": self.host("/etc/debian_version").read_text().strip(),
            "nginx": _line(nginx, "nginx version: "),
            "nginx_openssl": _line(nginx, "built with OpenSSL"),
            "nginx_package": _package(self.root, "nginx-light"),
            "openssl": _libcrypto_version(self.host("/usr/lib/x86_64-linux-gnu/libcrypto.so.1.1")),
            "openssl_package": _package(self.root, "libssl1.1"),
            **host_versions(),
        }


def unzip(zip_path, code):
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(code)
        for member in z.infolist():  # zipfile drops the mode bits: bootstrap and the binary must stay executable
            mode = member.external_attr >> 16
            if mode:
                (code / member.filename).chmod(mode & 0o7777)


def host_versions():
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {"host_nginx": _line(nginx, "nginx version: "), "host_openssl": openssl,
            "host_debian": Path("/etc/debian_version").read_text().strip()}


def _line(text, prefix):
    """The first line of `text` that starts with `prefix`, without a "name: " prefix: "nginx/1.18.0"."""
    line = next((l.strip() for l in text.splitlines() if l.startswith(prefix)), None)
    return line[len(prefix):] if line and prefix.endswith(": ") else line


def _package(root, name):
    r = subprocess.run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True)
    return r.stdout.strip() or None


def _libcrypto_version(path):
    """The version string compiled into libcrypto (the root has no openssl binary): "OpenSSL 1.1.1w  11 Sep 2023"."""
    try:
        m = re.search(rb"OpenSSL \d\.\d\.\d\w* +\d+ \w+ \d{4}", Path(path).read_bytes())
    except OSError:
        return None
    return m.group(0).decode() if m else None
