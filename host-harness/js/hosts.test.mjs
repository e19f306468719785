// The netreach artifacts under third-party JavaScript hosts, held to the admission fixtures
// (tests/admission/*/expected.json): the Kubewarden artifact under @wapc/host, the OPA artifact
// under @open-policy-agent/opa-wasm. The artifacts come from `netreach artifacts --out DIR`;
// NETREACH_ARTIFACTS names DIR (default: target/artifacts at the repository root).

import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
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
  }));

const enc = new TextEncoder();
const dec = new TextDecoder();

test("fixtures are present", () => {
  assert.ok(cases.length >= 5, `found ${cases.length} admission fixtures`);
});

test("Kubewarden artifact under @wapc/host", async () => {
  const hostCalls = [];
  const host = await instantiate(readFileSync(join(artifacts, "netreach-kubewarden.wasm")), (binding, namespace, operation) => {
    hostCalls.push(`${binding}/${namespace}/${operation}`);
    throw new Error("no host capabilities in this test");
  });
  const call = async (op, payload) => dec.decode(await host.invoke(op, enc.encode(payload)));

  assert.equal(await call("protocol_version", ""), '"v1"');
  for (const c of cases) {
    const settings = JSON.parse(await call("validate_settings", JSON.stringify(c.settings)));
    assert.deepEqual(settings, c.expected.validate_settings, `${c.name}: validate_settings`);
    if (!settings.valid) continue;
    const raw = await call("validate", JSON.stringify({ request: c.review.request, settings: c.settings }));
    assert.deepEqual(JSON.parse(raw), c.expected.validate, `${c.name}: validate`);
    // Sorted keys, no whitespace: the bytes are deterministic.
    assert.equal(raw, JSON.stringify(sortKeys(JSON.parse(raw))), `${c.name}: key order`);
  }
  // An unknown operation is a waPC error, not a crash; the instance stays usable.
  await assert.rejects(call("mutate", "{}"), /unknown operation/);
  await assert.rejects(call("validate", "not json"), /not JSON/);
  assert.equal(await call("protocol_version", ""), '"v1"');
  assert.deepEqual(hostCalls, [], "no rule needs a host capability yet");
});

test("OPA artifact under @open-policy-agent/opa-wasm", async () => {
  const policy = await loadPolicy(readFileSync(join(artifacts, "netreach-opa.wasm")));
  assert.equal(policy.minorVersion, 2, "ABI 1.2 globals are read");
  assert.deepEqual(policy.entrypoints, { "netreach/main": 0, "netreach/violations": 1, "netreach/response": 2, "netreach/report": 3 });

  for (const c of cases) {
    const gk = { review: c.review.request, parameters: c.settings };
    assert.deepEqual(policy.evaluate(gk, "netreach/violations"), [{ result: c.expected.violations }], `${c.name}: violations`);
    // Entrypoint 0 recognises the Gatekeeper input by its shape.
    assert.deepEqual(policy.evaluate(gk), [{ result: c.expected.violations }], `${c.name}: main (gatekeeper)`);
    if (!c.expected.validate_settings.valid) continue;
    policy.setData(c.settings);
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

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
