#!/usr/bin/env bash
# The test command: lint, prove the core builds for wasm, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f ../shared/peer-suites/netpol-analyzer/index.tsv ]; then
  echo "error: ../shared (with peer-suites/) must sit beside the repository" >&2
  exit 2
fi

echo "== clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "== policy core for wasm32-unknown-unknown and wasm32-wasip1"
cargo build --locked -p netreach-policy --target wasm32-unknown-unknown
cargo check --locked -p netreach-policy --target wasm32-wasip1

echo "== tests"
# --nocapture shows the peer-suite and corpus tallies ("N/M scenarios agree").
mkdir -p target
cargo test --locked --workspace -- --nocapture 2>&1 | tee target/test-output.txt
passed=$(grep -oE '^test result: .* ([0-9]+) passed' target/test-output.txt | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '^test result: .* ([0-9]+) failed' target/test-output.txt | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
