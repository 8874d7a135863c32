#!/usr/bin/env bash
# Installs the Debian packages bmpwatch's test suites need (real route servers, peers and reference decoders).
# Usage: scripts/install-deps.sh          install what is missing (needs root: apt-get)
#        scripts/install-deps.sh --check  exit 1 and list what is missing, install nothing
set -euo pipefail

# package:command-that-proves-it-is-installed
# (the check also looks in /usr/lib/frr and /usr/sbin, where bgpd and friends live)
REQUIRED=(
  "iproute2:ip"            # ip netns / ip addr: GoBGP runs in a network namespace of its own
  "frr:bgpd"               # /usr/lib/frr/bgpd, the FRR route server (bgpd -M bmp)
  "frr:vtysh"              # reads and changes bgpd's state (vtysh --vty_socket DIR)
  "gobgpd:gobgpd"          # GoBGP route server
  "gobgpd:gobgp"           # its CLI (same package)
  "exabgp:exabgp"          # appliances and core routers that peer with the route servers
  "python3:python3"        # exabgp's interpreter, and the API helper test/helpers/daemons/exabgp.ts runs
  "socat:socat"            # relays GoBGP's BMP session out of its namespace to the collector on 127.0.0.1
  "influxdb:influxd"       # InfluxDB 1.x server: the history writer's integration tests and benchmark
  "docker-compose:docker-compose"  # validates docker-compose.yml (`docker-compose config`, no Docker engine needed)
  "clang:clang"            # rebuilds the decoder's WebAssembly fast path (scripts/build-wasm.sh) to check the committed one
  "lld:wasm-ld"            # its WebAssembly linker
)

missing=()
for entry in "${REQUIRED[@]}"; do
  package=${entry%%:*}
  command=${entry#*:}
  if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "/usr/lib/frr/$command" ] && [ ! -x "/usr/sbin/$command" ]; then
    case " ${missing[*]} " in *" $package "*) ;; *) missing+=("$package") ;; esac
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bmpwatch tests need these Debian packages: ${missing[*]}" >&2
  echo "install them as root with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
