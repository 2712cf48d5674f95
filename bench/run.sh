#!/usr/bin/env bash
# One command for the benchmarks: installs the tools, builds, then runs one scenario of bench/scenarios.py through
# bench/bench.py (which reports it with bench/report.py). bench/README.md says which to run for what.
#   bench/run.sh                     the whole-core scenario ("wholecore"): bench/latest/
#   bench/run.sh --fc                "fc": the seed's instance size (0.1 vCPU, 128 MB) on FC's Debian 11 software
#   bench/run.sh --memcap | --slow | --soak [--minutes N] | --store      those scenarios, on the same
#   bench/run.sh --scenario NAME     any scenario by name (bench/bench.py --list)
#   --quick  a smoke run, reported beside its raw results (bench/results/, git-ignored); bench/latest is left alone
#   --host   this machine's software instead of FC's (never committed)
#   -- ...   the rest goes to the scenario's procedure (bench/lib/), e.g. -- --phases cold --cold-reps 11
# Every scenario but the whole-core one needs root (cgroups, chroot, mount) and, the first time, Debian's apt mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scenario=wholecore
host=0
opts=()
extra=()
usage="usage: bench/run.sh [--fc | --memcap | --slow | --soak [--minutes N] | --store | --scenario NAME] [--host] [--quick] [-- procedure options]"
while (($#)); do
  case "$1" in
    --quick | --host) opts+=("$1"); [ "$1" != --host ] || host=1 ;;
    --fc | --memcap | --slow | --soak | --store) scenario=${1#--} ;;
    --scenario) shift; scenario=${1:?$usage} ;;
    --minutes) shift; extra+=(--minutes "${1:?$usage}") ;;
    --) shift; extra+=("$@"); break ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
fc=0
[ "$scenario" = wholecore ] || fc=1
store=0
[ "$scenario" != store ] || store=1
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
  [ "$(id -u)" -eq 0 ] || { echo "bench/run.sh --scenario $scenario needs root: it creates cgroups, chroots and mounts /proc" >&2; exit 1; }
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

# 3. Measure, then report (bench/bench.py stops what it started on any exit).
((${#extra[@]})) && extra=(-- "${extra[@]}")
exec "$py" bench/bench.py "$scenario" "${opts[@]}" "${extra[@]}"
