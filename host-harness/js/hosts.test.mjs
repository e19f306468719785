// The netreach artifacts under third-party JavaScript hosts, held to the admission fixtures
// (tests/admission/*/expected.json): the Kubewarden artifact under @wapc/host, the OPA artifact
// under @open-policy-agent/opa-wasm; and the wasm-bindgen artifact under Node, held to the native
// CLI's reports. The artifacts come from `netreach artifacts --out DIR`; NETREACH_ARTIFACTS names
// DIR (default: target/artifacts at the repository root), NETREACH_BIN the native CLI (default:
// target/debug/netreach).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { instantiate } from "@wapc/host";
import { loadPolicy } from "@open-policy-agent/opa-wasm";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = process.env.NETREACH_ARTIFACTS ?? join(root, "target", "artifacts");
const fixtures = join(root, "tests", "admission");

const json = (path) => JSON.parse(readFileSync(path, "utf8"));
const cases = readdirSync(fixtures)
  .filter((name) => statSync(join(fixtures, name)).isDirectory())
  .sort()
  .map((name) => ({
    name,
    review: json(join(fixtures, name, "review.json")),
    settings: json(join(fixtures, name, "settings.json")),
    expected: json(join(fixtures, name, "expected.json")),
    cluster: existsSync(join(fixtures, name, "cluster.json")) ? json(join(fixtures, name, "cluster.json")) : null,
  }));

const enc = new TextEncoder();
const dec = new TextDecoder();

test("fixtures are present", () => {
  assert.ok(cases.length >= 5, `found ${cases.length} admission fixtures`);
});

// The fixture's cluster answers Kubewarden's `kubernetes` host capabilities (as
// host-harness/src/fixtures.rs does): List items without apiVersion/kind, as the API server
// sends them; no cluster.json means the operator granted no context, so every read is refused.
function serveCluster(objects, calls, binding, namespace, operation, payload) {
  const p = JSON.parse(dec.decode(payload));
  calls.push(`${binding}/${namespace}/${operation} ${JSON.stringify(p)}`);
  const scoped = { list_resources_all: false, list_resources_by_namespace: true }[operation];
  if (binding !== "kubewarden" || namespace !== "kubernetes" || scoped === undefined) {
    throw new Error(`host capability ${binding}/${namespace}/${operation} is not implemented`);
  }
  // A string, not an Error: @wapc/host hands the guest `"" + thrown`, and policy-server's
  // message has no "Error: " prefix.
  if (!objects) throw `Policy has not been granted access to Kubernetes ${p.api_version}/${p.kind} resources`;
  const items = objects
    .filter((o) => o.apiVersion === p.api_version && o.kind === p.kind && (!scoped || o.metadata?.namespace === p.namespace))
    .map(({ apiVersion, kind, ...rest }) => rest);
  return enc.encode(JSON.stringify({ apiVersion: p.api_version, kind: `${p.kind}List`, items }));
}

// The same cluster in Gatekeeper's data.inventory layout; items as the API server lists them
// (no apiVersion/kind: the policy takes both from the keys).
function inventory(objects) {
  const inv = { cluster: {}, namespace: {} };
  for (const o of objects ?? []) {
    const ns = o.metadata?.namespace;
    const slot = ns === undefined ? inv.cluster : (inv.namespace[ns] ??= {});
    const { apiVersion, kind, ...listed } = o;
    ((slot[apiVersion] ??= {})[kind] ??= {})[o.metadata.name] = listed;
  }
  return inv;
}

test("Kubewarden artifact under @wapc/host", async () => {
  let cluster = null;
  let hostCalls = [];
  const host = await instantiate(readFileSync(join(artifacts, "netreach-kubewarden.wasm")), (...call) =>
    serveCluster(cluster, hostCalls, ...call),
  );
  const call = async (op, payload) => dec.decode(await host.invoke(op, enc.encode(payload)));

  assert.equal(await call("protocol_version", ""), '"v1"');
  for (const c of cases) {
    const settings = JSON.parse(await call("validate_settings", JSON.stringify(c.settings)));
    assert.deepEqual(settings, c.expected.validate_settings, `${c.name}: validate_settings`);
    if (!settings.valid) continue;
    cluster = c.cluster;
    hostCalls = [];
    const raw = await call("validate", JSON.stringify({ request: c.review.request, settings: c.settings }));
    assert.deepEqual(JSON.parse(raw), c.expected.validate, `${c.name}: validate`);
    assert.deepEqual(hostCalls, c.expected.host_calls, `${c.name}: host calls`);
    // Sorted keys, no whitespace: the bytes are deterministic.
    assert.equal(raw, JSON.stringify(sortKeys(JSON.parse(raw))), `${c.name}: key order`);
  }
  // An unknown operation is a waPC error, not a crash; the instance stays usable.
  await assert.rejects(call("mutate", "{}"), /unknown operation/);
  await assert.rejects(call("validate", "not json"), /not JSON/);
  assert.equal(await call("protocol_version", ""), '"v1"');
});

test("OPA artifact under @open-policy-agent/opa-wasm", async () => {
  const policy = await loadPolicy(readFileSync(join(artifacts, "netreach-opa.wasm")));
  assert.equal(policy.minorVersion, 2, "ABI 1.2 globals are read");
  assert.deepEqual(policy.entrypoints, { "netreach/main": 0, "netreach/violations": 1, "netreach/response": 2, "netreach/report": 3 });

  for (const c of cases) {
    const gk = { review: c.review.request, parameters: c.settings };
    // Gatekeeper's inventory only when the case has a cluster (as the Rust fixture harness does).
    const inv = c.cluster ? { inventory: inventory(c.cluster) } : {};
    policy.setData(inv);
    assert.deepEqual(policy.evaluate(gk, "netreach/violations"), [{ result: c.expected.violations }], `${c.name}: violations`);
    // Entrypoint 0 recognises the Gatekeeper input by its shape.
    assert.deepEqual(policy.evaluate(gk), [{ result: c.expected.violations }], `${c.name}: main (gatekeeper)`);
    if (!c.expected.validate_settings.valid) continue;
    policy.setData({ ...c.settings, ...inv });
    const rs = policy.evaluate({ request: c.review.request }, "netreach/response");
    assert.deepEqual(rs, [{ result: { response: c.expected.response } }], `${c.name}: response`);
    policy.setData({});
  }

  // The whole report, as the core ABI gives it.
  const report = policy.evaluate({ sources: [{ name: "a.yaml", text: "kind: [" }] }, "netreach/report")[0].result;
  assert.equal(report.version, 1);
  assert.equal(report.diagnostics[0].rule, "NR001");

  // Memory stays bounded: every evaluation's allocations go at the next heap reset.
  const deny = cases.find((c) => c.name === "deny-invalid-policy");
  const input = { review: deny.review.request, parameters: {} };
  for (let i = 0; i < 50; i++) policy.evaluate(input);
  const after50 = policy.mem.buffer.byteLength;
  for (let i = 0; i < 500; i++) policy.evaluate(input);
  assert.equal(policy.mem.buffer.byteLength, after50, "memory grew between 50 and 550 evaluations");
});

test("wasm-bindgen artifact under Node matches the native CLI", async () => {
  const glue = await import(join(artifacts, "bindgen", "netreach.js"));
  glue.initSync({ module: readFileSync(join(artifacts, "bindgen", "netreach_bg.wasm")) });
  assert.equal(glue.abiVersion(), 1);
  const rules = JSON.parse(glue.rules());
  const nr001 = rules.find((r) => r.id === "NR001");
  assert.equal(nr001?.name, "invalid-yaml", "rule metadata lists NR001");
  assert.match(nr001.docs, /^Document is not readable YAML or JSON\n/m, "docs are plain Markdown");

  const bin = process.env.NETREACH_BIN ?? join(root, "target", "debug", "netreach");
  const inputs = walk(join(root, "tests", "corpus")).filter((p) => /\.(ya?ml|json)$/.test(p) && !p.includes("/snapshots/"));
  inputs.push(...walk(join(root, "examples")).filter((p) => p.endsWith(".yaml")));
  assert.ok(inputs.length >= 20, `found ${inputs.length} corpus inputs`);
  let findings = 0;
  for (const path of inputs) {
    const name = relative(root, path);
    const native = spawnSync(bin, ["check", "-o", "json", name], { cwd: root, encoding: "utf8" });
    assert.ok(native.status === 0 || native.status === 1, `${name}: native CLI exited ${native.status}: ${native.stderr}`);
    const raw = glue.check(JSON.stringify({ sources: [{ name, text: readFileSync(path, "utf8") }] }));
    assert.equal(raw.trimEnd(), native.stdout.trimEnd(), `${name}: bindgen report differs from the native one`);
    findings += JSON.parse(raw).diagnostics.length;
  }
  assert.ok(findings > 0, "the corpus inputs produce findings");
  // A bad request is an error answer, not an exception.
  assert.match(JSON.parse(glue.check("not json")).error, /^invalid request/);
});

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
