#!/usr/bin/env bash
# One command for the side-by-side benchmarks: bench/run.sh [--fc [--host] | --memcap | --slow | --soak [--minutes N] |
#                                              --store] [--quick] [-- extra bench/fc.py, fc_limits.py or fc_store.py options]
#   bench/run.sh         whole-core figures: bench/harness.py, then bench/report.py -> bench/latest/
#   bench/run.sh --fc    FC's smallest instance (0.1 vCPU, 128 MB cgroups, TLS upstream) on FC's own software: every
#                        system under test chrooted in a Debian 11 root (.cache/benchroot-bullseye, made by
#                        build/make-sysroot.sh with nginx-light): the proxy from the deploy zip (deploy.ps1 -PackageOnly
#                        -Build Aot) through its bootstrap, nginx 1.18 from Debian 11. bench/fc.py, then
#                        bench/fc_report.py -> bench/latest/fc/. Needs root (cgroups, chroot, mount) and Debian's apt
#                        mirror the first time (the root). About 16 minutes (6 of them the WebSocket level), plus the builds.
#   bench/run.sh --memcap | --slow | --soak [--minutes N]
#                        FcHandler at that instance's limits, on the same software: bench/fc_limits.py (memory cap,
#                        1,000 slow clients, fault-and-soak), then bench/fc_limits_report.py ->
#                        bench/latest/<memcap|slow|soak>/. Needs root. About 4, 6 and N+2 minutes; with --quick, or a
#                        soak shorter than 30 minutes, the report goes beside the raw results and bench/latest is left
#                        alone.
#   bench/run.sh --store What rate limits and budgets cost on that instance, in memory and in a real redis-server, on
#                        the same software: bench/fc_store.py, then bench/fc_store_report.py -> bench/latest/store/.
#                        Needs root. About 25 minutes; installs redis-server from Debian if missing.
#   bench/run.sh --fc --host (or --memcap, --slow, --soak, --store with --host)
#                        the same on this machine's software (its nginx and OpenSSL, the AOT build run directly): not
#                        FC's, so it never replaces bench/latest/; the report goes beside the raw results.
# Installs nginx, wrk and matplotlib from Debian if missing, builds FcHandler (NativeAOT and JIT) and the stream
# tool, runs the harness (which starts and stops every process by PID), then prints the tables and ratios and writes
# results.md and results.png. Raw data goes to bench/results/ (git-ignored). Loopback only. A full run takes about
# 5 minutes on 2 cores (--fc about 16), plus the build; --quick is a smoke run of a few minutes that leaves
# bench/latest alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=()
fc=0
host=0
limits=""
store=0
minutes=30
extra=()
usage="usage: bench/run.sh [--fc | --memcap | --slow | --soak [--minutes N] | --store] [--host] [--quick] [-- extra options]"
while (($#)); do
  case "$1" in
    --quick) quick=(--quick) ;;
    --fc) fc=1 ;;
    --host) host=1 ;;
    --memcap | --slow | --soak) fc=1; limits=${1#--} ;;
    --store) fc=1; store=1 ;;
    --minutes) shift; minutes=${1:?$usage} ;;
    --) shift; extra=("$@"); break ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
# Every FC-shaped run is in the Debian 11 mode unless --host.
debian11=0
((fc && !host)) && debian11=1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
py=/usr/bin/python3 # Debian's python, where python3-matplotlib installs

# 1. Tools. A policy-rc.d that refuses service starts keeps apt from launching a system nginx on port 80.
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
command -v clang-14 >/dev/null || need+=(clang-14)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
"$py" -c "import matplotlib" 2>/dev/null || need+=(python3-matplotlib)
((!store)) || command -v redis-server >/dev/null || need+=(redis-server)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$policy_added" ] || $sudo rm -f /usr/sbin/policy-rc.d
fi

# 2. Builds, into bench/results/bin (git-ignored).
bin="$root/bench/results/bin"
mkdir -p "$bin"
benchroot="$root/.cache/benchroot-bullseye"
zip="$root/dist/FcHandler-linux-x64-aot.zip"
if ((debian11)); then
  # What FC runs: the deploy zip, linked against the Debian 11 sysroot; and a Debian 11 root to run it and nginx in.
  [ "$(id -u)" -eq 0 ] || { echo "bench/run.sh --fc needs root: it creates cgroups, chroots and mounts /proc" >&2; exit 1; }
  echo "== the Debian 11 bench root ($benchroot) and the deploy zip (deploy.ps1 -PackageOnly -Build Aot)"
  SYSROOT_EXTRA_PACKAGES=nginx-light bash build/make-sysroot.sh "$benchroot"
  dotnet tool restore >/dev/null
  dotnet pwsh -NoProfile -File deploy.ps1 -PackageOnly -Build Aot >"$bin/deploy.log" 2>&1 \
    || { tail -20 "$bin/deploy.log"; exit 1; }
else
  echo "== building FcHandler (NativeAOT; JIT too for the whole-core run)"
  dotnet publish FcHandler/FcHandler.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$bin/aot" -v quiet -nologo >"$bin/aot.log" 2>&1 \
    || { tail -20 "$bin/aot.log"; exit 1; }
  cp build/bootstrap "$bin/aot/bootstrap"  # the FC-shaped run starts what FC starts
  if ((!fc)); then
    dotnet publish FcHandler/FcHandler.csproj -c Release -r linux-x64 -p:PublishAot=false --self-contained -o "$bin/jit" -v quiet -nologo >"$bin/jit.log" 2>&1 \
      || { tail -20 "$bin/jit.log"; exit 1; }
  fi
fi
echo "== building the stream tool"
dotnet build bench/StreamBench/StreamBench.csproj -c Release -o "$bin/streambench" -v quiet -nologo >"$bin/streambench.log" 2>&1 \
  || { tail -20 "$bin/streambench.log"; exit 1; }

# 3. Measure (the harness stops what it started on any exit), then report.
results="$root/bench/results/$(date +%Y%m%d-%H%M%S)"
# The system under test: the deploy zip in the Debian 11 root, or this machine's AOT build (--host).
sut=(--aot "$bin/aot/FcHandler")
((!debian11)) || sut=(--root "$benchroot" --zip "$zip")
# The zip leaves FcHandler.dbg out; the limits harnesses read the GC's variables with it.
symbols=()
((!debian11)) || symbols=(--symbols "$root/.cache/publish/aot/FcHandler.dbg")
if [ -n "$limits" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench/run.sh --$limits needs root: it creates cgroups" >&2; exit 1; }
  more=()
  [ "$limits" != soak ] || more=(--minutes "$minutes")
  "$py" bench/fc_limits.py "$limits" "${sut[@]}" "${symbols[@]}" --streambench "$bin/streambench/StreamBench.dll" \
    --results "$results-$limits" "${more[@]}" "${extra[@]}"
  latest="$root/bench/latest/$limits"
  # The committed soak is a full one: a shorter run (or --quick), or one on this machine's software, reports beside
  # its raw results.
  if ((${#quick[@]} || host)) || { [ "$limits" = soak ] && awk -v m="$minutes" 'BEGIN { exit !(m < 30) }'; }; then
    latest="$results-$limits"
  fi
  exec "$py" bench/fc_limits_report.py "$results-$limits" "$latest"
fi
if ((fc)); then
  mode=fc harness=fc.py report=fc_report.py
  ((!store)) || mode=store harness=fc_store.py report=fc_store_report.py sut+=("${symbols[@]}")
  [ "$(id -u)" -eq 0 ] || { echo "bench/run.sh --$mode needs root: it creates cgroups" >&2; exit 1; }
  "$py" "bench/$harness" "${sut[@]}" --streambench "$bin/streambench/StreamBench.dll" \
    --results "$results-$mode" "${quick[@]}" "${extra[@]}"
  latest="$root/bench/latest/$mode"
  # Published FC figures come from FC's software: a host-mode run, like a smoke run, reports beside its raw results.
  if ((${#quick[@]} || host)); then latest="$results-$mode"; fi
  exec "$py" "bench/$report" "$results-$mode" "$latest"
fi
"$py" bench/harness.py --aot "$bin/aot/FcHandler" --jit "$bin/jit/FcHandler" \
  --streambench "$bin/streambench/StreamBench.dll" --results "$results" "${quick[@]}"
latest="$root/bench/latest"
[ ${#quick[@]} -eq 0 ] || latest="$results"  # a smoke run does not overwrite the committed results
"$py" bench/report.py "$results" "$latest"
