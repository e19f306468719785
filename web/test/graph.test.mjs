// The graph's elements without a browser: graphElements is a pure function of the core's
// `graph` result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EDGES, firstPort, graphElements, graphLayout } from '../src/graph.js';
import { indexOf } from '../src/text.js';

const workload = (ns, name, extra = {}) => ({ name: `${ns}/${name}[Deployment]`, namespace: ns, ingressIsolated: false, egressIsolated: false, ...extra });
const to = (src, dst, connections = 'TCP 80') => ({ src: { type: 'workload', name: src }, dst: { type: 'workload', name: dst }, connections });

test('a small graph: namespaces hold their workloads, one edge per connection, blocked marked', () => {
  const g = {
    workloads: [workload('shop', 'api', { ingressIsolated: true }), workload('shop', 'db'), workload('web', 'front')],
    connections: [to('web/front[Deployment]', 'shop/api[Deployment]'), { src: { type: 'workload', name: 'shop/api[Deployment]' }, dst: { type: 'external', first: '0.0.0.0', last: '9.255.255.255' }, connections: 'UDP 53' }],
  };
  const out = graphElements(g, new Set(['shop/db']));
  assert.equal(out.aggregate, false);
  assert.equal(out.big, false);
  const ids = out.elements.map((e) => e.data.id);
  assert.deepEqual(ids, ['ns:shop', 'ns:web', 'shop/api[Deployment]', 'shop/db[Deployment]', 'web/front[Deployment]', 'e0', 'ext:0.0.0.0-9.255.255.255', 'e1']);
  const byId = new Map(out.elements.map((e) => [e.data.id, e]));
  assert.equal(byId.get('shop/api[Deployment]').data.parent, 'ns:shop');
  assert.match(byId.get('shop/api[Deployment]').classes, /in-iso/);
  assert.match(byId.get('shop/db[Deployment]').classes, /blocked/);
  assert.doesNotMatch(byId.get('web/front[Deployment]').classes, /blocked/);
  assert.deepEqual([byId.get('e1').data.source, byId.get('e1').data.target], ['shop/api[Deployment]', 'ext:0.0.0.0-9.255.255.255']);
  assert.equal(graphLayout(out).name, 'cose');
  assert.match(out.note, /^3 workloads, 2 allowed connections/);
});

test('past MAX_EDGES connections the graph is drawn per namespace pair, with counts', () => {
  const workloads = [workload('a', 'x'), workload('b', 'y')];
  const connections = [];
  for (let i = 0; i <= MAX_EDGES; i++) connections.push(to(i % 2 ? 'a/x[Deployment]' : 'b/y[Deployment]', 'a/x[Deployment]'));
  const out = graphElements({ workloads, connections });
  assert.equal(out.aggregate, true);
  const edges = out.elements.filter((e) => e.data.source);
  assert.deepEqual(edges.map((e) => [e.data.source, e.data.target, e.data.label]), [
    ['ns:b', 'ns:a', `${MAX_EDGES / 2 + 1} connections`],
    ['ns:a', 'ns:a', `${MAX_EDGES / 2} connections`],
  ]);
  assert.ok(out.elements.some((e) => e.data.id === 'ns:(external)'));
  assert.ok(!out.elements.some((e) => e.data.workload), 'no workload nodes when aggregated');
});

test('a big per-workload graph gets fixed positions inside its namespace slot', () => {
  const workloads = [];
  for (let i = 0; i < 400; i++) workloads.push(workload(`ns${i % 4}`, `w${i}`));
  const out = graphElements({ workloads, connections: [] });
  assert.equal(out.big, true);
  assert.equal(graphLayout(out).name, 'preset');
  const nodes = out.elements.filter((e) => e.data.workload);
  assert.ok(nodes.every((e) => e.position && Number.isFinite(e.position.x) && Number.isFinite(e.position.y)));
  const first = nodes.filter((e) => e.data.parent === 'ns:ns0').slice(0, 4).map((e) => e.position);
  assert.deepEqual(first, [{ x: 0, y: 0 }, { x: 90, y: 0 }, { x: 180, y: 0 }, { x: 0, y: 90 }]);
});

test('firstPort reads the first protocol and port of a connection text', () => {
  assert.deepEqual(firstPort('UDP 53,TCP 53'), { protocol: 'UDP', port: 53 });
  assert.deepEqual(firstPort('TCP 8000-8080'), { protocol: 'TCP', port: 8000 });
  assert.deepEqual(firstPort('All Connections'), { protocol: 'TCP', port: 80 });
});

test('indexOf turns 1-based code-point positions into UTF-16 offsets', () => {
  const text = 'a: 1\nb: "😀x"\n';
  assert.equal(indexOf(text, { line: 1, column: 1 }), 0);
  assert.equal(indexOf(text, { line: 2, column: 1 }), 5);
  assert.equal(text.slice(indexOf(text, { line: 2, column: 6 })), 'x"\n');
  assert.equal(indexOf(text, { line: 9, column: 1 }), text.length);
});
