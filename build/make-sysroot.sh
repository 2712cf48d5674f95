#!/usr/bin/env bash
# Builds a Debian 11 (bullseye, glibc 2.31) root file system with debootstrap.
#
# It serves two purposes:
#   1. the --sysroot that NativeAOT links against (-p:SysRoot=<dir>), so the binary asks for no glibc
#      symbol newer than 2.31. A binary linked against this Debian 12 host's glibc needs GLIBC_2.34
#      and does not start on FC's custom.debian11 image.
#   2. the chroot in which build/debian11-proof.sh starts the packaged zip as FC would.
#
# Why one tree for both: the -dev packages the linker needs (headers, crt*.o, static libgcc) only add
# files; every shared library they depend on is the same runtime library FC's Debian 11 image carries.
# The tree also holds what FC's custom.debian11 image has at run time for TLS: libssl1.1 and
# ca-certificates (FC's custom runtimes ship Python, Node.js and PowerShell, all of which need OpenSSL).
# The packaged zip still brings its own fallback copy of libssl1.1 (see deploy.ps1), and the proof
# also runs with the tree's libssl hidden, so TLS does not depend on that assumption.
#
# Reproducible: bullseye's main suite is frozen since its last point release, so the same package set
# comes out each time; security updates from bullseye-security are applied on top (set
# SYSROOT_SECURITY_UPDATES=0 to skip them).
#
# Usage: build/make-sysroot.sh [output-dir]     (default: <repo>/.cache/sysroot-bullseye)
# Env:   DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override the mirrors read from this machine's apt config.
#        SYSROOT_EXTRA_PACKAGES: more bullseye packages, space-separated, installed after the security updates (bench/run.sh
#        --fc adds nginx-light for its Debian 11 bench root); they are part of what makes a finished tree "the same".
# Needs root (debootstrap, chroot). Idempotent: a finished tree with the same package list is kept.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/.cache/sysroot-bullseye}"
suite=bullseye

# Packages on top of the minbase variant.
#  - libc6-dev, libgcc-10-dev, libstdc++-10-dev: crt1.o/crti.o, libc/libm/libdl/librt/libpthread stubs,
#    crtbegin.o and libgcc for clang's link step (bullseye's default GCC is 10).
#  - zlib1g-dev, libssl-dev: headers/static libraries some native parts of .NET may link.
#  - libssl1.1, ca-certificates: what an HTTPS client needs at run time (the proof's chroot).
packages=(libc6-dev libgcc-10-dev libstdc++-10-dev zlib1g-dev libssl-dev libssl1.1 ca-certificates)
read -r -a extra_packages <<< "${SYSROOT_EXTRA_PACKAGES:-}"

stamp="$out/.sysroot-complete"
want_stamp="$suite ${packages[*]}${extra_packages[*]:+ ${extra_packages[*]}}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
    echo "make-sysroot: $out is already built ($suite), skipping"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "make-sysroot: needs root (debootstrap and chroot); run it with sudo" >&2
    exit 1
fi

if ! command -v debootstrap >/dev/null; then
    echo "make-sysroot: installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The Debian mirror this machine's apt already uses (deb822 "URIs:" or one-line "deb URI ..."):
# the first URI whose path ends in /debian, and the first that ends in /debian-security.
apt_uris() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        sed -n -E \
            -e 's/^[[:space:]]*URIs:[[:space:]]*//p' \
            -e 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' "$f"
    done | tr ' ' '\n' | sed -e 's:/*$::' | grep -E '^https?://' || true
}
mirror="${DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian$' | head -n1)}"
if [[ -z "$mirror" ]]; then
    echo "make-sysroot: no Debian mirror found in /etc/apt; set DEBIAN_MIRROR=http://<host>/debian" >&2
    exit 1
fi
security_mirror="${DEBIAN_SECURITY_MIRROR:-$(apt_uris | grep -E '/debian-security$' | head -n1)}"
security_mirror="${security_mirror:-${mirror}-security}"

echo "make-sysroot: debootstrap $suite from $mirror into $out"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
include="$(IFS=,; echo "${packages[*]}")"
debootstrap --variant=minbase --arch=amd64 --include="$include" "$suite" "$out" "$mirror" \
    > "$out.debootstrap.log" 2>&1 || {
    echo "make-sysroot: debootstrap failed; last lines of $out.debootstrap.log:" >&2
    tail -n 30 "$out.debootstrap.log" >&2
    exit 1
}

if [[ "${SYSROOT_SECURITY_UPDATES:-1}" == 1 ]]; then
    echo "make-sysroot: applying $suite-security updates from $security_mirror"
    cat > "$out/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $security_mirror $suite-security main
EOF
    cp -L /etc/resolv.conf "$out/etc/resolv.conf"
    chroot "$out" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get update -qq && apt-get upgrade -y -qq && apt-get clean' >> "$out.debootstrap.log" 2>&1 || {
        echo "make-sysroot: security upgrade failed; see $out.debootstrap.log" >&2
        exit 1
    }
    rm -rf "$out/var/lib/apt/lists/"* "$out/etc/resolv.conf"
fi
if ((${#extra_packages[@]})); then
    echo "make-sysroot: installing ${extra_packages[*]}"
    # From apt, not debootstrap's --include, so that a policy-rc.d can refuse the service starts their maintainer
    # scripts ask for: nginx would otherwise start inside the tree, on this machine's network, port 80.
    grep -q "^deb $mirror $suite main" "$out/etc/apt/sources.list" 2>/dev/null || echo "deb $mirror $suite main" > "$out/etc/apt/sources.list"
    cp -L /etc/resolv.conf "$out/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' > "$out/usr/sbin/policy-rc.d"
    chmod +x "$out/usr/sbin/policy-rc.d"
    chroot "$out" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${extra_packages[*]} && apt-get clean" \
        >> "$out.debootstrap.log" 2>&1 || {
        echo "make-sysroot: installing ${extra_packages[*]} failed; see $out.debootstrap.log" >&2
        exit 1
    }
    rm -rf "$out/var/lib/apt/lists/"* "$out/etc/resolv.conf" "$out/usr/sbin/policy-rc.d"
fi
# Every container image, FC's included, has an /etc/hosts; debootstrap leaves none, and without it
# "localhost" does not resolve inside the chroot.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$out/etc/hosts"
rm -rf "$out/var/cache/apt/archives/"*.deb

# Absolute symlinks (e.g. usr/lib/x86_64-linux-gnu/libm.so -> /lib/x86_64-linux-gnu/libm.so.6) would
# point into the host's / when the tree is used as a sysroot; make each relative to its own directory.
echo "make-sysroot: making absolute symlinks relative"
fixed=0
while IFS= read -r -d '' link; do
    target="$(readlink "$link")"
    rel="$(realpath -s -m --relative-to="$(dirname "$link")" "$out$target")"
    ln -sfn "$rel" "$link"
    fixed=$((fixed + 1))
done < <(find "$out" -xdev -type l -lname '/*' -print0)
echo "make-sysroot: $fixed symlinks rewritten"

glibc="$(chroot "$out" /usr/bin/ldd --version | sed -n 1p)"
echo "make-sysroot: $glibc"
echo "$want_stamp" > "$stamp"
echo "make-sysroot: done: $out"
