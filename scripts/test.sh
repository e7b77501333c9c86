#!/usr/bin/env bash
# The whole test suite: unit tests, golden tests, byte vectors, and the live tests against
# real Linux TCP stacks in network namespaces (these need root; under CI=true they fail
# rather than skip when they cannot run). Installs what it needs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --all-targets --locked 2>/dev/null || cargo build --all-targets
# Namespace tests share the host's nftables and netns lists: run them one at a time.
cargo test --lib --bins --tests --no-fail-fast -- --test-threads="${TCPCRAFT_TEST_THREADS:-2}"
