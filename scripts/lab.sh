#!/usr/bin/env bash
# The main job on a ready default: build tcpcraft and open the built-in lab (a client and a
# server network namespace with a real Linux server; 198.18.0.0/15 only). Everything the
# lab creates is removed when you leave it. Extra arguments go to `tcpcraft lab`
# (e.g. `scripts/lab.sh -c 's = session(target, 80); s.send("S"); s.expect("SA")'`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --release --quiet
if [ "$(id -u)" -ne 0 ]; then
  exec sudo target/release/tcpcraft lab "$@"
fi
exec target/release/tcpcraft lab "$@"
