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
cargo test --locked --workspace -- --nocapture
