#!/usr/bin/env bash
# Seed every fuzz target's corpus from the rule corpus and the admission fixtures.
set -euo pipefail
cd "$(dirname "$0")"
root=../..
mkdir -p corpus/loader corpus/core_request corpus/kubewarden_validate corpus/opa_violations corpus/lsp_frames
i=0
for f in $(find "$root/tests/corpus" -name input.yaml | sort); do
  i=$((i + 1))
  cp "$f" "corpus/loader/case-$i.yaml"
  python3 - "$f" "corpus/core_request/case-$i.json" "corpus/lsp_frames/case-$i" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
json.dump({"sources": [{"name": "input.yaml", "text": text}]}, open(sys.argv[2], "w"))
body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///w/input.yaml", "languageId": "yaml", "version": 1, "text": text}}})
open(sys.argv[3], "wb").write(f"Content-Length: {len(body.encode())}\r\n\r\n{body}".encode())
PY
done
for d in "$root"/tests/admission/*/; do
  n=$(basename "$d")
  python3 - "$d" "corpus/kubewarden_validate/$n.json" "corpus/opa_violations/$n.json" <<'PY'
import json, os, sys
d = sys.argv[1]
review = json.load(open(os.path.join(d, "review.json")))
settings = json.load(open(os.path.join(d, "settings.json")))
json.dump({"request": review["request"], "settings": settings}, open(sys.argv[2], "w"))
cluster = json.load(open(os.path.join(d, "cluster.json"))) if os.path.exists(os.path.join(d, "cluster.json")) else []
inv = {"cluster": {}, "namespace": {}}
for o in cluster:
    o = dict(o); gv = o.pop("apiVersion"); kind = o.pop("kind")
    ns = o.get("metadata", {}).get("namespace")
    slot = inv["cluster"] if ns is None else inv["namespace"].setdefault(ns, {})
    slot.setdefault(gv, {}).setdefault(kind, {})[o["metadata"]["name"]] = o
json.dump({"input": {"review": review["request"], "parameters": settings}, "data": {"inventory": inv}}, open(sys.argv[3], "w"))
PY
done
echo "seeded: $(ls corpus/loader | wc -l) manifests, $(ls corpus/kubewarden_validate | wc -l) admission requests"
