#!/usr/bin/env bash
# Installs what lnsd's build, demo and tests need on a fresh Debian 12 machine: Debian packages via
# apt-get (root) and the npm workspace. Idempotent: a second run only checks.
#
# The reference software among them (l2tpns, freeradius, ...) is installed without its services
# enabled or running on this host: the tests start their own copies in network namespaces. While
# apt-get installs, a policy-rc.d denies every service start (exit 101, Debian's policy-rc.d
# interface); afterwards the services of the packages this run installed are disabled (systemd
# and sysvinit links), and any process that this run's installation started anyway (one whose
# program comes from a package this run installed, and that was not running before) is stopped
# by its PID. Nothing that was installed or running before is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(
  # the data plane's native addon (node-gyp): a C++ compiler, make, python3
  g++ make python3
  # namespaces, sysctl, ping (busybox ping where iputils-ping is absent), nstat, ss; nft (the cluster
  # test cuts multicast between nodes and takes RADIUS to FreeRADIUS's loopback with it)
  iproute2 procps busybox-static nftables
  # packet decoding cross-checks (tshark, dumpcap)
  tshark
  # RADIUS: the FreeRADIUS server and radclient the tests run; l2tpns for its nsctl and as the reference
  freeradius freeradius-utils l2tpns
  # the CLI tests and the demo (a real telnet client driven by expect), traffic, password hashes
  telnet expect iperf3 openssl perl whois
  # scripts/generateload.sh: apt-get source (dpkg-source) and gcc
  dpkg-dev gcc libc6-dev
  # ../shared/tools/vm-lac (the Linux LAC in a VM): what its run.sh would otherwise install itself
  qemu-system-x86 kmod cpio xz-utils libpcap0.8 libssl3 libpam0g libcrypt1 libsystemd0 libfl2
)
# Installed as programs for the tests, never as services of this host.
REFERENCE=(freeradius l2tpns iperf3)
# busybox-static conflicts with busybox: where busybox is installed already, it is the ping.
if dpkg-query -W -f='${Status}' busybox 2>/dev/null | grep -q "install ok installed"; then
  DEBS=("${DEBS[@]/busybox-static/busybox}")
fi
export LC_ALL=C
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# PIDs and their programs, one "PID PROGRAM" a line.
processes() {
  local d exe
  for d in /proc/[0-9]*; do
    exe=$(readlink "$d/exe" 2>/dev/null) || continue
    echo "${d#/proc/} $exe"
  done
}

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  before_pkgs=$(dpkg-query -W -f='${Package} ${Status}\n' | awk '/install ok installed/ { print $1 }' | sort)
  before_procs=$(processes)
  # Deny service starts during the install, unless a policy-rc.d is there already (then it decides).
  policy=/usr/sbin/policy-rc.d
  ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# lnsd scripts/deps.sh: no service starts while it installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=$policy
  fi
  trap '[ -z "$ours" ] || rm -f "$ours"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$ours" ] || rm -f "$ours"
  ours=""

  # What this run installed (the packages asked for and their dependencies). The services of the
  # reference software among them are disabled; other packages' (procps's sysctl at boot, ...) are
  # left as Debian sets them up.
  installed=$(comm -13 <(echo "$before_pkgs") <(dpkg-query -W -f='${Package} ${Status}\n' | awk '/install ok installed/ { print $1 }' | sort))
  files=$(for p in $installed; do dpkg-query -L "$p" 2>/dev/null; done | sort -u)
  service_files=$(for p in $installed; do case " ${REFERENCE[*]} " in *" $p "*) dpkg-query -L "$p" 2>/dev/null;; esac; done | sort -u)
  for init in $(grep -E '^/etc/init\.d/[^/]+$' <<<"$service_files" || true); do
    name=$(basename "$init")
    echo "deps: service $name (installed now) disabled"
    update-rc.d "$name" disable >/dev/null 2>&1 || true
  done
  if command -v systemctl >/dev/null; then
    for unit in $(grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket|timer)$' <<<"$service_files" | xargs -r -n1 basename | sort -u); do
      systemctl disable --quiet "$unit" >/dev/null 2>&1 || true
      if [ -d /run/systemd/system ]; then systemctl stop --quiet "$unit" >/dev/null 2>&1 || true; fi
    done
  fi
  # Anything the installation started anyway: a process new since before, running a program
  # from a package installed now. Stopped by its PID.
  programs=$(grep -E '^/(usr/)?s?bin/' <<<"$files" || true)
  while read -r pid exe; do
    [ -n "$pid" ] || continue
    grep -qx -- "$pid $exe" <<<"$before_procs" && continue
    exe=${exe% (deleted)}
    if grep -qx -- "$exe" <<<"$programs" || grep -qx -- "${exe#/usr}" <<<"$programs"; then
      echo "deps: stopping $exe (PID $pid), started by its installation"
      kill "$pid" 2>/dev/null || true
    fi
  done < <(processes)
fi

# node-gyp builds the data plane's addon against this Node's own headers where they are installed
# (/usr/include/node, as Debian's and NodeSource's packages have them) rather than downloading them.
if [ -z "${npm_config_nodedir:-}" ] && [ ! -d "$(npm config get nodedir 2>/dev/null)" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi

stamp=node_modules/.lnsd-deps-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  echo "deps: npm install"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch "$stamp"
fi
