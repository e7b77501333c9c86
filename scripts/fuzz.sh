#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 10; CI runs them briefly,
# campaigns run them for 30 minutes or 10 million executions). Seeds are in fuzz/seeds/;
# a crash stops the run with the input saved under fuzz/artifacts/ (commit it as a
# regression test). Uses the machine's stable toolchain with RUSTC_BOOTSTRAP=1 for the
# sanitizer flags; installs cargo-fuzz from crates.io when missing.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dissect pcap filter lang_parse lang_eval oracle)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
export RUSTC_BOOTSTRAP=1
# The language's evaluator keeps closures' scopes alive (a known, bounded leak): no leak checks.
export ASAN_OPTIONS=detect_leaks=0
for t in "${targets[@]}"; do
  case "$t" in
    lang_parse | lang_eval) seeds=seeds/lang ;;
    oracle) seeds=seeds/dissect ;;
    *) seeds=seeds/$t ;;
  esac
  mkdir -p "corpus/$t"
  cargo fuzz build -O "$t" >/dev/null 2>&1 || cargo fuzz build -O "$t"
  echo "fuzz: $t for ${secs}s"
  cargo fuzz run -O "$t" "corpus/$t" "$seeds" -- -max_total_time="$secs" -detect_leaks=0 \
    -print_final_stats=1 2>&1 | grep -E "stat::number_of_executed_units|ERROR|panicked|crash" || true
  if [ -n "$(ls -A artifacts/$t 2>/dev/null)" ]; then
    echo "fuzz: $t found a crash: fuzz/artifacts/$t" >&2
    exit 1
  fi
done
