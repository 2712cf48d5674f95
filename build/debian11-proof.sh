#!/usr/bin/env bash
# Proof that the packaged zips run on Debian 11 the way FC's custom.debian11 runtime starts them.
#
# For each of dist/FcHandler-linux-x64-aot.zip and dist/FcHandler-linux-x64-jit.zip:
#   - unpack it to /code inside the Debian 11 rootfs made by build/make-sysroot.sh;
#   - start /code/bootstrap from /code via chroot, with FC_FUNCTION_NAME set so the app listens on
#     0.0.0.0 (FC cannot reach a 127.0.0.1 listener: "Ping CA failed ... connection refused",
#     docs/fc-platform.md section 2) and FC_CUSTOM_LISTEN_PORT=9000 (FC's default CA port);
#   - proxy a plain and a streaming chat completion to a fake upstream outside the chroot (the chroot
#     shares the network namespace), over plain HTTP and over TLS with a throwaway CA trusted through
#     SSL_CERT_FILE;
#   - over TLS once more with the throwaway CA added to the rootfs's own bundle and no SSL_CERT_FILE: the trust
#     bootstrap sets up (Debian's bundle as UPSTREAM_CA_FILE, .NET's own store empty) verifies the upstream, and
#     without the CA it refuses it;
#   - once more with the rootfs's libssl hidden, which proves the OpenSSL copy packaged in the zip
#     works, and (AOT) once with that copy removed too, which must fail: the TLS check is real.
# Also: no ELF file in the zips needs a glibc symbol version above 2.31 (objdump -T), and the cold
# start (spawn to first proxied 200) of both build kinds is printed.
#
# Usage: sudo build/debian11-proof.sh [rootfs]
# Env:   PROOF_PORT (default 9000), PROOF_KINDS ("aot jit"), PROOF_COLDSTART_RUNS (5, median reported).
# Needs root (chroot, mount), python3, openssl, objdump, unzip, curl. Exits non-zero on any failure and stops
# every process it started and unmounts what it mounted.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rootfs="${1:-$repo_root/.cache/sysroot-bullseye}"
kinds="${PROOF_KINDS:-aot jit}"
coldstart_runs="${PROOF_COLDSTART_RUNS:-5}"
max_glibc=2.31
fake="$repo_root/build/fake_upstream.py"

fail() { echo "PROOF FAILED: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || fail "needs root (chroot and mount /proc)"
for tool in python3 openssl objdump unzip ss curl; do
    command -v "$tool" >/dev/null || fail "$tool not found (apt-get install python3 openssl binutils unzip iproute2 curl)"
done
[[ -f "$rootfs/.sysroot-complete" ]] || fail "no Debian 11 rootfs at $rootfs: run build/make-sysroot.sh"
for kind in $kinds; do
    [[ -f "$repo_root/dist/FcHandler-linux-x64-$kind.zip" ]] ||
        fail "dist/FcHandler-linux-x64-$kind.zip missing: run deploy.ps1 -PackageOnly -Build ${kind^}"
done

work="$(mktemp -d /tmp/fchandler-proof.XXXXXX)"
pids=()
mounted_proc=0
hidden_libs=()
system_bundle="$rootfs/etc/ssl/certs/ca-certificates.crt"
bundle_extended=0
app_pid=""

cleanup() {
    local rc=$?
    set +e
    [[ -n "$app_pid" ]] && stop_app
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    for lib in "${hidden_libs[@]}"; do mv -f "$lib.proof-hidden" "$lib"; done
    [[ $bundle_extended == 1 ]] && mv -f "$system_bundle.proof-saved" "$system_bundle"
    [[ $mounted_proc == 1 ]] && umount "$rootfs/proc"
    rm -rf "$rootfs/code" "$rootfs/tmp/fchandler-proof" "$rootfs"/tmp/dotnet-diagnostic-* "$work"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_busy() { ss -Hltn "sport = :$1" | grep -q .; }

port="${PROOF_PORT:-9000}"
if port_busy "$port"; then
    port="$(free_port)"
    echo "port ${PROOF_PORT:-9000} is in use here; using $port (FC_CUSTOM_LISTEN_PORT tells the app)"
fi

# .NET reads /proc (its own executable path, cgroup limits, memory maps).
if ! mountpoint -q "$rootfs/proc"; then
    mount -t proc proc "$rootfs/proc"
    mounted_proc=1
fi

echo "== Test CA and fake upstreams"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=FcHandler proof CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/ext.cnf" -out "$work/server.pem" >/dev/null 2>&1
mkdir -p "$rootfs/tmp/fchandler-proof"
cp "$work/ca.pem" "$rootfs/tmp/fchandler-proof/ca.pem"

http_port="$(free_port)"
python3 "$fake" serve --port "$http_port" > "$work/upstream-http.log" 2>&1 &
pids+=($!)
tls_port="$(free_port)"
python3 "$fake" serve --port "$tls_port" --cert "$work/server.pem" --key "$work/server.key" > "$work/upstream-tls.log" 2>&1 &
pids+=($!)
for p in "$http_port" "$tls_port"; do
    for _ in $(seq 100); do port_busy "$p" && break; sleep 0.05; done
    port_busy "$p" || fail "fake upstream on port $p did not start"
done
echo "   http://127.0.0.1:$http_port and https://localhost:$tls_port (CA: /tmp/fchandler-proof/ca.pem in the chroot)"

# start_app UPSTREAM_URL [extra env...]: spawns /code/bootstrap like FC does; sets app_pid and t0 (ns).
start_app() {
    local upstream="$1"; shift
    t0="$(date +%s%N)"
    chroot "$rootfs" /usr/bin/env -i \
        PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        FC_FUNCTION_NAME=fchandler-proof FC_REGION=ap-southeast-1 FC_FUNCTION_MEMORY_SIZE=128 \
        FC_CUSTOM_LISTEN_PORT="$port" FC_FUNC_CODE_PATH=/code \
        UPSTREAM_BASE_URL="$upstream" "$@" \
        /bin/sh -c 'cd /code && exec ./bootstrap' > "$work/app.log" 2>&1 &
    app_pid=$!
}
stop_app() {
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
}
# wait_first_200 SECONDS: polls a plain chat completion through the proxy until it answers 200 and prints
# the ms since t0. curl, not python, polls: an interpreter's own start-up would count as the app's.
wait_first_200() {
    local deadline=$(( $(date +%s) + $1 ))
    while (( $(date +%s) < deadline )); do
        if curl -sf -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
            -d '{"model":"gpt-fake","messages":[{"role":"user","content":"ping"}]}' \
            "http://127.0.0.1:$port/v1/chat/completions"; then
            echo $(( ($(date +%s%N) - t0) / 1000000 ))
            return 0
        fi
        kill -0 "$app_pid" 2>/dev/null || return 1
        sleep 0.005
    done
    return 1
}
show_app_log() { echo "--- app output:" >&2; tail -n 40 "$work/app.log" >&2; }

# run_case LABEL UPSTREAM_URL [extra env...]: start, wait for the first 200, check, stop. Prints cold start.
run_case() {
    local label="$1" upstream="$2"; shift 2
    echo "-- $label"
    start_app "$upstream" "$@"
    local ms
    if ! ms="$(wait_first_200 60)"; then
        show_app_log; fail "$label: no proxied 200 within 60 s"
    fi
    echo "    cold start (spawn to first proxied 200): $ms ms"
    last_ms="$ms"
    ss -Hltn "sport = :$port" | grep -qE '(0\.0\.0\.0|\*):'"$port" || { show_app_log; fail "$label: not listening on 0.0.0.0:$port"; }
    echo "    listening on 0.0.0.0:$port"
    if ! python3 "$fake" check --url "http://127.0.0.1:$port/v1/chat/completions"; then
        show_app_log; fail "$label: proxy check failed"
    fi
    stop_app
}

declare -A cold
for kind in $kinds; do
    zip="$repo_root/dist/FcHandler-linux-x64-$kind.zip"
    echo "== $kind: $(basename "$zip") ($(stat -c %s "$zip") bytes)"
    rm -rf "$rootfs/code"
    mkdir -p "$rootfs/code"
    unzip -q "$zip" -d "$rootfs/code"
    [[ -x "$rootfs/code/bootstrap" ]] || fail "$kind: /code/bootstrap is not executable"

    # Highest glibc symbol version any ELF file in the zip asks for.
    highest="0"
    while IFS= read -r -d '' f; do
        head -c 4 "$f" | grep -q 'ELF' || continue
        v="$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
        [[ -n "$v" ]] || continue
        highest="$(printf '%s\n%s\n' "$highest" "$v" | sort -V | tail -n1)"
        if [[ "$(printf '%s\n%s\n' "$v" "$max_glibc" | sort -V | tail -n1)" != "$max_glibc" ]]; then
            fail "$kind: ${f#"$rootfs"} needs GLIBC_$v (> $max_glibc)"
        fi
    done < <(find "$rootfs/code" -type f -print0)
    echo "-- objdump -T: highest glibc symbol version $highest (<= $max_glibc)"

    run_case "$kind, plain HTTP upstream" "http://127.0.0.1:$http_port"
    # A single start is noisy on a busy machine: report the median of a few more.
    samples=("$last_ms")
    for _ in $(seq 2 "$coldstart_runs"); do
        start_app "http://127.0.0.1:$http_port"
        ms="$(wait_first_200 60)" || { show_app_log; fail "$kind: no proxied 200 on a repeated start"; }
        samples+=("$ms")
        stop_app
    done
    cold[$kind]="$(printf '%s\n' "${samples[@]}" | sort -n | sed -n "$(( (${#samples[@]} + 1) / 2 ))p")"
    echo "    cold starts of $kind (ms): ${samples[*]}; median ${cold[$kind]}"
    run_case "$kind, TLS upstream, Debian 11's libssl1.1" "https://localhost:$tls_port" \
        SSL_CERT_FILE=/tmp/fchandler-proof/ca.pem

    # The trust bootstrap sets up itself: the system bundle as UPSTREAM_CA_FILE, roots parsed as chains name them. With
    # the throwaway CA in it the upstream is trusted; without it, refused (so the case does not pass for another reason).
    cp -p "$system_bundle" "$system_bundle.proof-saved"
    bundle_extended=1
    cat "$work/ca.pem" >> "$system_bundle"
    run_case "$kind, TLS upstream, CA in the system bundle, trust store chosen by bootstrap" "https://localhost:$tls_port"
    mv -f "$system_bundle.proof-saved" "$system_bundle"
    bundle_extended=0
    echo "-- $kind, TLS upstream, CA not in the system bundle (must be refused)"
    start_app "https://localhost:$tls_port"
    if wait_first_200 5 >/dev/null; then
        stop_app; fail "$kind: an upstream signed by an unknown CA was trusted"
    fi
    stop_app
    grep -q 'upstream_\|Forwarding failed' "$work/app.log" || { show_app_log; fail "$kind: refused, but not as a failed forward"; }
    echo "    refused, as expected"

    # Hide the rootfs's OpenSSL: bootstrap must fall back to the copy in the zip.
    if [[ -f "$rootfs/code/lib/libssl.so.1.1" ]]; then
        for lib in "$rootfs"/usr/lib/x86_64-linux-gnu/libssl.so.1.1 "$rootfs"/usr/lib/x86_64-linux-gnu/libcrypto.so.1.1; do
            mv "$lib" "$lib.proof-hidden"
            hidden_libs+=("$lib")
        done
        run_case "$kind, TLS upstream, no system libssl (OpenSSL from the zip)" "https://localhost:$tls_port" \
            SSL_CERT_FILE=/tmp/fchandler-proof/ca.pem
        if [[ $kind == aot ]]; then
            # Negative control: without any OpenSSL the TLS request must not succeed.
            echo "-- $kind, TLS upstream, no OpenSSL at all (must fail; bash reports the abort)"
            mv "$rootfs/code/lib" "$rootfs/code/lib.off"
            start_app "https://localhost:$tls_port" SSL_CERT_FILE=/tmp/fchandler-proof/ca.pem
            if wait_first_200 5 >/dev/null; then
                stop_app; fail "$kind: TLS worked without OpenSSL, so the TLS checks prove nothing"
            fi
            stop_app
            mv "$rootfs/code/lib.off" "$rootfs/code/lib"
            reason="$(grep -m1 -i 'openssl\|libssl' "$work/app.log" || true)"
            [[ -n "$reason" ]] || { show_app_log; fail "$kind: failed without OpenSSL, but not for want of OpenSSL"; }
            echo "    no 200 without OpenSSL, as expected (the app stops: ${reason:0:120})"
        fi
        for lib in "${hidden_libs[@]}"; do mv -f "$lib.proof-hidden" "$lib"; done
        hidden_libs=()
    else
        echo "-- $kind: the zip carries no OpenSSL fallback (built without the Debian 11 sysroot); skipped"
    fi
done

echo "== Debian 11 proof passed"
for kind in $kinds; do
    echo "cold start $kind (median): ${cold[$kind]} ms; zip $(stat -c %s "$repo_root/dist/FcHandler-linux-x64-$kind.zip") bytes"
done
