// The connectivity graph as cytoscape elements: pure functions of the core's `graph` result,
// so they run (and are tested) without a browser; main.js only draws what they return.

/** Above this many connections the graph is drawn per namespace, not per workload. */
export const MAX_EDGES = 2000;

/** Above this many elements the graph gets fixed positions and no edge labels. */
const BIG = 300;

/** The label of an external address range. */
export function externalLabel(p) {
  return `${p.first}-${p.last}`;
}

/** The element id of a connection end (a workload, or an external range). */
export function peerId(p) {
  return p.type === 'workload' ? p.name : `ext:${externalLabel(p)}`;
}

/** The first port a connection text allows (`TCP 80,UDP 53`, `TCP 1-100`, `All Connections`). */
export function firstPort(conn) {
  const m = /(TCP|UDP|SCTP) (\d+)/.exec(conn);
  return m ? { protocol: m[1], port: Number(m[2]) } : { protocol: 'TCP', port: 80 };
}

/** A workload's name without its replica suffix (`shop/api[Deployment]` → `shop/api`). */
export const workloadKey = (name) => name.replace(/\[.*\]$/, '');

/**
 * The elements to draw for graph `g` (`{workloads, connections}`): namespaces as compound
 * nodes, workloads inside them (class `blocked` when `blocked` holds its `namespace/name`),
 * external ranges, and one edge per connection — or, past MAX_EDGES connections, one edge per
 * namespace pair with a count. Returns the elements, whether they were aggregated, whether the
 * graph is big (fixed positions, see `placeOnGrid`), and the note to show under it.
 */
export function graphElements(g, blocked = new Set()) {
  const elements = [];
  const namespaces = [...new Set(g.workloads.map((w) => w.namespace))].sort();
  const aggregate = g.connections.length > MAX_EDGES;
  for (const ns of namespaces) elements.push({ data: { id: `ns:${ns}`, label: ns }, classes: 'namespace' });
  let note;
  if (aggregate) {
    const counts = new Map();
    const nsOf = (p) => (p.type === 'workload' ? `ns:${p.name.split('/')[0]}` : 'ns:(external)');
    for (const c of g.connections) {
      const k = `${nsOf(c.src)}→${nsOf(c.dst)}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    if (!namespaces.includes('(external)')) elements.push({ data: { id: 'ns:(external)', label: 'external' }, classes: 'namespace' });
    let i = 0;
    for (const [k, n] of counts) {
      const [source, target] = k.split('→');
      elements.push({ data: { id: `e${i++}`, source, target, label: `${n} connections` } });
    }
    note = `${g.connections.length} allowed connections among ${g.workloads.length} workloads: drawn per namespace. Use Explain for one connection.`;
  } else {
    for (const w of g.workloads) {
      const cls = [w.ingressIsolated ? 'in-iso' : '', w.egressIsolated ? 'out-iso' : '', blocked.has(workloadKey(w.name)) ? 'blocked' : ''].join(' ');
      elements.push({ data: { id: w.name, label: w.name.split('/')[1], parent: `ns:${w.namespace}`, workload: w.name }, classes: cls });
    }
    const ext = new Set();
    g.connections.forEach((c, i) => {
      for (const p of [c.src, c.dst]) {
        if (p.type === 'external' && !ext.has(peerId(p))) {
          ext.add(peerId(p));
          elements.push({ data: { id: peerId(p), label: externalLabel(p) }, classes: 'external' });
        }
      }
      elements.push({ data: { id: `e${i}`, source: peerId(c.src), target: peerId(c.dst), label: c.connections, conn: c.connections } });
    });
    note = `${g.workloads.length} workloads, ${g.connections.length} allowed connections. Red: a workload whose declared or required connection is blocked. Click an edge to explain it.`;
  }
  const big = elements.length > BIG;
  if (big && !aggregate) placeOnGrid(elements, namespaces);
  return { elements, aggregate, big, note };
}

/**
 * Fixed positions for a large per-workload graph: namespaces on a grid, their workloads three
 * to a row inside, external ranges in a row above. A force layout of hundreds of nodes would
 * hold the main thread for seconds.
 */
function placeOnGrid(elements, namespaces) {
  const perRow = Math.ceil(Math.sqrt(namespaces.length || 1));
  const slot = new Map(namespaces.map((ns, i) => [ns, { x: (i % perRow) * 320, y: Math.floor(i / perRow) * 320, n: 0 }]));
  let ext = 0;
  for (const e of elements) {
    if (e.data.source || e.classes === 'namespace') continue;
    if (e.classes === 'external') {
      e.position = { x: ext++ * 160, y: -200 };
    } else {
      const s = slot.get(e.data.parent.slice(3));
      e.position = { x: s.x + (s.n % 3) * 90, y: s.y + Math.floor(s.n / 3) * 90 };
      s.n++;
    }
  }
}

/** The cytoscape layout for what `graphElements` returned. */
export function graphLayout({ aggregate, big }) {
  if (!big) return { name: 'cose', animate: false, randomize: false, nodeDimensionsIncludeLabels: true };
  return aggregate ? { name: 'grid', avoidOverlap: true } : { name: 'preset' };
}

/** The cytoscape style; edge labels only on graphs small enough to read them. */
export function graphStyle(big) {
  return [
    { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'background-color': '#5b7083', color: '#1b1f24', 'text-valign': 'bottom' } },
    { selector: '.namespace', style: { 'background-color': '#eef2f6', 'border-color': '#8a96a3', 'border-width': 1, 'text-valign': 'top', 'font-weight': 'bold' } },
    { selector: '.external', style: { shape: 'round-rectangle', 'background-color': '#a26900' } },
    { selector: '.in-iso', style: { 'border-width': 3, 'border-color': '#0b57d0' } },
    { selector: '.blocked', style: { 'background-color': '#b3261e' } },
    { selector: 'edge', style: { width: 1.5, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#8a96a3', 'target-arrow-color': '#8a96a3', label: big ? '' : 'data(label)', 'font-size': 8, 'text-rotation': 'autorotate' } },
    { selector: 'edge:selected', style: { 'line-color': '#0b57d0', 'target-arrow-color': '#0b57d0', width: 3 } },
  ];
}
