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

echo "== policy core for wasm32-unknown-unknown (every ABI) and wasm32-wasip1"
cargo clippy --locked -p netreach-policy --lib --target wasm32-unknown-unknown --features abi-core,abi-kubewarden,abi-opa,abi-bindgen -- -D warnings
cargo check --locked -p netreach-policy --target wasm32-wasip1

echo "== tests"
# --nocapture shows the peer-suite, corpus and parity tallies ("N/M scenarios agree").
mkdir -p target
set +e
cargo test --locked --workspace -- --nocapture 2>&1 | tee target/test-output.txt
rust_status=${PIPESTATUS[0]}
set -e
passed=$(grep -oE '^test result: .* ([0-9]+) passed' target/test-output.txt | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '^test result: .* ([0-9]+) failed' target/test-output.txt | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')

echo "== scripts/new-rule: the scaffold of a rule compiles, is registered, and the docs test names what is left"
# In a clone of the committed tree, with its own target folder (the scaffold changes the crate).
scaffold_target="$PWD/target/scaffold"
scratch=$(mktemp -d)
git clone -q . "$scratch/repo"
ln -s "$(cd ../shared && pwd)" "$scratch/shared"
set +e
(
  set -e
  cd "$scratch/repo"
  scripts/new-rule netpol scaffold-check
  CARGO_TARGET_DIR="$scaffold_target" cargo clippy --locked -p netreach-policy --all-targets -- -D warnings
  CARGO_TARGET_DIR="$scaffold_target" cargo test --locked -p netreach-policy --test rule_docs > "$scaffold_target.log" 2>&1 || true
  for passing in every_rule_file_is_registered every_rule_has_fail_and_pass_corpus_cases ids_names_and_docs_are_well_formed; do
    grep -q "test $passing ... ok" "$scaffold_target.log" || { echo "scaffold: $passing does not pass"; exit 1; }
  done
  grep -qE "NR1[0-9]{2}: failing example should give exactly one finding" "$scaffold_target.log" \
    || { echo "scaffold: the docs test does not point at the unwritten condition"; exit 1; }
)
scaffold_status=$?
set -e
rm -rf "$scratch"
if [ "$scaffold_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); rust_status=1; fi

echo "== JavaScript hosts (@wapc/host, @open-policy-agent/opa-wasm, wasm-bindgen glue under Node)"
# The binary `cargo test` just built (a `cargo run -p` would rebuild wasmtime with other features).
target/debug/netreach artifacts --out target/artifacts
(cd host-harness/js && npm ci --no-audit --no-fund --loglevel=error)
set +e
(cd host-harness/js && NETREACH_ARTIFACTS=../../target/artifacts node --test --test-reporter=spec) 2>&1 | tee target/js-output.txt
js_status=${PIPESTATUS[0]}
set -e
js_passed=$(grep -oE '^ℹ pass [0-9]+' target/js-output.txt | grep -oE '[0-9]+' || echo 0)
js_failed=$(grep -oE '^ℹ fail [0-9]+' target/js-output.txt | grep -oE '[0-9]+' || echo 0)

echo "== playground in headless Chromium (Debian's chromium, playwright-core)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)
set +e
(cd web && NETREACH_ARTIFACTS=../target/artifacts node build.mjs \
  && NETREACH_BIN=../target/debug/netreach node --test --test-concurrency=1 --test-reporter=spec test/) 2>&1 | tee target/web-output.txt
web_status=${PIPESTATUS[0]}
set -e
web_passed=$(grep -oE '^ℹ pass [0-9]+' target/web-output.txt | grep -oE '[0-9]+' || echo 0)
web_failed=$(grep -oE '^ℹ fail [0-9]+' target/web-output.txt | grep -oE '[0-9]+' || echo 0)
if [ "$web_status" -ne 0 ] && [ "$web_failed" -eq 0 ]; then web_failed=1; fi

echo "== language server through vscode-languageserver-protocol; the VS Code extension type-checked and packaged"
(cd web/vscode && npm ci --no-audit --no-fund --loglevel=error)
set +e
(cd web/vscode && npm run --silent typecheck && npm run --silent package \
  && NETREACH_BIN=../../target/debug/netreach node --test --test-reporter=spec test/) 2>&1 | tee target/lsp-output.txt
lsp_status=${PIPESTATUS[0]}
set -e
lsp_passed=$(grep -oE '^ℹ pass [0-9]+' target/lsp-output.txt | grep -oE '[0-9]+' || echo 0)
lsp_failed=$(grep -oE '^ℹ fail [0-9]+' target/lsp-output.txt | grep -oE '[0-9]+' || echo 0)
if [ "$lsp_status" -ne 0 ] && [ "$lsp_failed" -eq 0 ]; then lsp_failed=1; fi
if [ "$lsp_status" -eq 0 ] && [ ! -s web/vscode/dist/netreach.vsix ]; then lsp_status=1; lsp_failed=$((lsp_failed + 1)); fi

echo "tests: $((passed + js_passed + web_passed + lsp_passed)) passed, $((failed + js_failed + web_failed + lsp_failed)) failed (rust ${passed}/${failed}, js ${js_passed}/${js_failed}, browser ${web_passed}/${web_failed}, lsp ${lsp_passed}/${lsp_failed})"
if [ "$rust_status" -ne 0 ] || [ "$js_status" -ne 0 ] || [ "$web_status" -ne 0 ] || [ "$lsp_status" -ne 0 ]; then
  exit 1
fi
