// The netreach playground: files in an editor, the core's findings at their exact spans, the
// connectivity graph with explanations. All checking happens in a worker running the same
// wasm core the admission hosts load; after the page and module are loaded nothing is fetched.
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import cytoscape from 'cytoscape';
import examples from 'netreach-examples';
import { $, droppedFiles, el, markdown } from './dom.js';
import { firstPort, graphElements, graphLayout, graphStyle, workloadKey } from './graph.js';
import { call } from './rpc.js';
import { decodeShare, encodeShare, indexOf } from './text.js';

// ---------------------------------------------------------------- state
const state = {
  files: [{ name: 'manifests.yaml', text: '' }],
  active: 0,
  view: 'findings',
  report: null, // the last report, parsed
  reportJson: '', // and as the core wrote it
  checkedTexts: [], // the texts that report is about
  graph: null,
  rules: [],
};
const editorStates = new Map(); // file name → EditorState

/** A file holding a `kind: ClusterProfile` document is the cluster profile, not a manifest. */
const isProfile = (f) => /^kind:\s*ClusterProfile\s*$/m.test(f.text);

/** The manifests alone: what `graph` and `explain` read (they take no profile). */
function manifests() {
  return { sources: state.files.filter((f) => !isProfile(f)).map(({ name, text }) => ({ name, text })) };
}

/** A check request: the manifests and, if a file holds one, the cluster profile. */
function request() {
  const profile = state.files.find(isProfile);
  return profile ? { ...manifests(), profileText: profile.text } : manifests();
}

// ---------------------------------------------------------------- editor
const view = new EditorView({ parent: $('editor') });

function makeState(text) {
  return EditorState.create({
    doc: text,
    extensions: [
      basicSetup,
      yaml(),
      lintGutter(),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) {
          state.files[state.active].text = u.state.doc.toString();
          scheduleCheck();
        }
      }),
      EditorView.contentAttributes.of({ 'aria-label': 'Manifest editor' }),
    ],
  });
}

function showFile(i) {
  const old = state.files[state.active];
  if (old && editorStates.has(old.name)) editorStates.set(old.name, view.state);
  state.active = Math.max(0, Math.min(i, state.files.length - 1));
  const f = state.files[state.active];
  if (!editorStates.has(f.name) || editorStates.get(f.name).doc.toString() !== f.text) {
    editorStates.set(f.name, makeState(f.text));
  }
  view.setState(editorStates.get(f.name));
  renderTabs();
  applyDiagnostics();
}

function renderTabs() {
  const tabs = $('tabs');
  tabs.replaceChildren();
  state.files.forEach((f, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(i === state.active));
    const n = state.report?.diagnostics.filter((d) => d.location.file === f.name).length ?? 0;
    b.textContent = n ? `${f.name} (${n})` : f.name;
    b.title = isProfile(f) ? 'cluster profile' : f.name;
    b.onclick = () => showFile(i);
    tabs.append(b);
  });
  const add = document.createElement('button');
  add.type = 'button';
  add.textContent = '+';
  add.setAttribute('aria-label', 'New file');
  add.onclick = () => {
    let n = state.files.length + 1;
    while (state.files.some((f) => f.name === `file-${n}.yaml`)) n++;
    state.files.push({ name: `file-${n}.yaml`, text: '' });
    showFile(state.files.length - 1);
  };
  tabs.append(add);
  if (state.files.length > 1) {
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.setAttribute('aria-label', `Close ${state.files[state.active].name}`);
    close.onclick = () => {
      editorStates.delete(state.files[state.active].name);
      state.files.splice(state.active, 1);
      state.active = Math.min(state.active, state.files.length - 1);
      showFile(state.active);
      scheduleCheck();
    };
    tabs.append(close);
  }
}

/** Replace every file (an example, a drop, a shared link). */
function loadFiles(files, active = 0) {
  state.files = files.length ? files.map(({ name, text }) => ({ name, text })) : [{ name: 'manifests.yaml', text: '' }];
  editorStates.clear();
  state.active = -1;
  state.report = null;
  showFile(active);
  checkNow();
}

// ---------------------------------------------------------------- checking
let timer = 0;
let running = null;
let again = false;

function scheduleCheck() {
  clearTimeout(timer);
  timer = setTimeout(checkNow, 150);
}

async function checkNow() {
  clearTimeout(timer);
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    const texts = state.files.map((f) => f.text);
    const res = await call('check', JSON.stringify(request()));
    const report = JSON.parse(res.result);
    if (report.error) {
      $('status').textContent = report.error;
      state.report = { diagnostics: [], summary: null };
    } else {
      state.report = report;
      state.reportJson = res.result;
      const s = report.summary;
      $('status').textContent = `checked ${s.objects} objects in ${res.ms.toFixed(1)} ms`;
    }
    state.checkedTexts = texts;
    state.checkMs = res.ms;
    state.graph = null;
    renderTabs();
    applyDiagnostics();
    renderFindings();
    if (state.view === 'graph') await renderGraph();
    document.body.dataset.checked = String(Number(document.body.dataset.checked ?? 0) + 1);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
  if (again) {
    again = false;
    await checkNow();
  }
}

function fresh() {
  return state.files.length === state.checkedTexts.length && state.files.every((f, i) => f.text === state.checkedTexts[i]);
}

/** Apply a fix's text edits (positions from the current report) to every file they touch. */
async function applyFix(d) {
  if (!fresh()) await checkNow();
  const byFile = new Map();
  for (const e of d.fix.edits) {
    if (!byFile.has(e.file)) byFile.set(e.file, []);
    byFile.get(e.file).push(e);
  }
  for (const [name, edits] of byFile) {
    const i = state.files.findIndex((f) => f.name === name);
    if (i < 0) continue;
    const text = state.files[i].text;
    const changes = edits.map((e) => ({ from: indexOf(text, e.start), to: indexOf(text, e.end), insert: e.text }));
    if (i === state.active) {
      view.dispatch({ changes });
    } else {
      let t = text;
      for (const c of [...changes].sort((a, b) => b.from - a.from)) t = t.slice(0, c.from) + c.insert + t.slice(c.to);
      state.files[i].text = t;
    }
  }
  await checkNow();
}


function details(d) {
  const box = el('div', { className: 'nr-tip' }, el('strong', {}, `${d.rule} ${d.name}: `), d.message);
  if (d.explanation?.length) box.append(el('ul', { className: 'why' }, ...d.explanation.map((x) => el('li', {}, x))));
  if (d.help) box.append(el('p', {}, el('em', {}, 'Fix: '), d.help));
  if (d.fix) box.append(el('p', {}, d.fix.description), el('pre', {}, d.fix.patch));
  return box;
}

function applyDiagnostics() {
  const f = state.files[state.active];
  if (!f || !state.report || f.text !== state.checkedTexts[state.active]) {
    view.dispatch(setDiagnostics(view.state, []));
    return;
  }
  const text = view.state.doc.toString();
  const diags = state.report.diagnostics
    .filter((d) => d.location.file === f.name)
    .map((d) => ({
      from: indexOf(text, d.location.start),
      to: indexOf(text, d.location.end),
      severity: d.severity,
      source: d.rule,
      message: d.message,
      renderMessage: () => details(d),
      actions: d.fix?.edits?.length ? [{ name: 'Apply fix', apply: () => applyFix(d) }] : [],
    }));
  view.dispatch(setDiagnostics(view.state, diags));
}

function jumpTo(loc) {
  const i = state.files.findIndex((f) => f.name === loc.file);
  if (i < 0) return;
  if (i !== state.active) showFile(i);
  const text = view.state.doc.toString();
  const from = indexOf(text, loc.start);
  const to = indexOf(text, loc.end);
  view.dispatch({ selection: { anchor: from, head: to }, effects: EditorView.scrollIntoView(from, { y: 'center' }) });
  view.focus();
}

// ---------------------------------------------------------------- findings panel
function objectName(d) {
  const o = d.object;
  return o ? `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}` : '';
}

function renderFindings() {
  const diags = state.report?.diagnostics ?? [];
  const rules = [...new Set(diags.map((d) => d.rule))].sort();
  const ruleSel = $('filter-rule');
  const keep = ruleSel.value;
  ruleSel.replaceChildren(el('option', { value: '' }, 'all'), ...rules.map((r) => el('option', { value: r }, r)));
  ruleSel.value = rules.includes(keep) ? keep : '';
  const sev = $('filter-severity').value;
  const obj = $('filter-object').value.trim().toLowerCase();
  const shown = diags.filter((d) => (!sev || d.severity === sev) && (!ruleSel.value || d.rule === ruleSel.value) && (!obj || objectName(d).toLowerCase().includes(obj)));
  const s = state.report?.summary;
  $('summary').textContent = s
    ? `${s.findings.error} error(s), ${s.findings.warning} warning(s), ${s.findings.info} info in ${s.objects} object(s)` + (shown.length !== diags.length ? ` · ${shown.length} shown` : '')
    : '';
  const list = $('findings');
  list.replaceChildren(
    ...shown.map((d) => {
      const jump = el(
        'button',
        { className: 'jump', type: 'button' },
        el('span', { className: `sev ${d.severity}` }, d.severity),
        ' ',
        el('strong', {}, d.rule),
        ' ',
        d.message,
        el('br'),
        el('span', { className: 'where' }, `${d.location.file}:${d.location.start.line}:${d.location.start.column} · ${objectName(d)} · ${d.location.path}`),
      );
      jump.dataset.rule = d.rule;
      jump.dataset.line = String(d.location.start.line);
      jump.onclick = () => jumpTo(d.location);
      const more = el('details', { className: 'more' }, el('summary', {}, 'why and how to fix'), details(d));
      if (d.fix?.edits?.length) {
        const apply = el('button', { type: 'button', className: 'apply' }, `Apply fix: ${d.fix.description}`);
        apply.onclick = () => applyFix(d);
        more.append(apply);
      }
      for (const r of d.related ?? []) {
        const b = el('button', { type: 'button', className: 'related' }, `${r.message} (${r.location.file}:${r.location.start.line})`);
        b.onclick = () => jumpTo(r.location);
        more.append(el('div', {}, b));
      }
      return el('li', { className: d.severity }, jump, more);
    }),
  );
}

// Arrow keys move between findings; Home/End to the first and last.
$('findings').addEventListener('keydown', (e) => {
  const items = [...$('findings').querySelectorAll('button.jump')];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return;
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  items[Math.max(0, Math.min(to, items.length - 1))].focus();
});
for (const id of ['filter-severity', 'filter-rule', 'filter-object']) $(id).addEventListener('input', renderFindings);

// ---------------------------------------------------------------- connectivity view
let cy = null;

async function renderGraph() {
  if (!state.graph) {
    const t0 = performance.now();
    const res = await call('graph', JSON.stringify(manifests()));
    state.graph = JSON.parse(res.result);
    state.graphMs = res.ms;
    state.graphCallMs = performance.now() - t0;
  }
  const g = state.graph;
  if (g.error) {
    $('graph-note').textContent = g.error;
    return;
  }
  const t0 = performance.now();
  const blocked = new Set((state.report?.diagnostics ?? []).filter((d) => /^NR2\d\d$/.test(d.rule) && d.severity === 'error' && d.object).map((d) => `${d.object.namespace}/${d.object.name}`));
  $('workload-names').replaceChildren(...g.workloads.map((w) => el('option', { value: workloadKey(w.name) })));
  const drawn = graphElements(g, blocked);
  $('graph-note').textContent = drawn.note;
  if (cy) cy.destroy();
  cy = cytoscape({
    container: $('graph'),
    elements: drawn.elements,
    hideEdgesOnViewport: drawn.big,
    textureOnViewport: drawn.big,
    layout: graphLayout(drawn),
    style: graphStyle(drawn.big),
  });
  cy.on('tap', 'edge', (e) => {
    const conn = e.target.data('conn');
    if (!conn) return;
    const src = e.target.source();
    const dst = e.target.target();
    const name = (n) => (n.hasClass('external') ? n.data('label').split('-')[0] : workloadKey(n.id()));
    const { protocol, port } = firstPort(conn);
    $('explain-from').value = name(src);
    $('explain-to').value = name(dst);
    $('explain-port').value = String(port);
    $('explain-protocol').value = protocol;
    explainNow(`Edge ${src.id()} → ${dst.id()}: ${conn}`);
  });
  cy.on('tap', 'node', (e) => {
    const w = g.workloads.find((x) => x.name === e.target.data('workload'));
    if (w) jumpTo(w.location);
  });
  state.drawMs = performance.now() - t0;
  document.body.dataset.graphDrawn = String(Number(document.body.dataset.graphDrawn ?? 0) + 1);
}

async function explainNow(heading) {
  const req = { ...manifests(), from: $('explain-from').value.trim(), to: $('explain-to').value.trim(), port: Number($('explain-port').value), protocol: $('explain-protocol').value };
  const res = await call('explain', JSON.stringify(req));
  const v = JSON.parse(res.result);
  const out = $('explain-result');
  if (v.error) {
    out.replaceChildren(el('p', {}, v.error));
    return;
  }
  const side = (title, s) =>
    el(
      'div',
      {},
      el('h4', {}, `${title}: ${s.allowed ? 'allowed' : 'denied'}`),
      s.isolated_by.length ? el('p', {}, `isolated by ${s.isolated_by.join(', ')}`) : el('p', {}, 'not isolated'),
      s.allowed_by.length ? el('p', {}, `allowed by ${s.allowed_by.join(', ')}`) : null,
      el('ul', {}, ...s.reasons.map((r) => el('li', {}, r))),
    );
  out.replaceChildren(
    heading ? el('p', {}, heading) : '',
    el('p', { className: `verdict ${v.allowed ? 'allowed' : 'denied'}` }, `${v.allowed ? 'ALLOWED' : 'DENIED'} ${req.from} → ${req.to} : ${req.protocol} ${req.port}`),
    side('egress of the source', v.egress),
    side('ingress of the destination', v.ingress),
  );
}
$('explain-form').addEventListener('submit', (e) => {
  e.preventDefault();
  explainNow('');
});

// ---------------------------------------------------------------- rule reference
function renderRules() {
  $('rules').replaceChildren(
    ...state.rules.map((r) => {
      const d = el('details', { className: 'rule', id: `rule-${r.id}` }, el('summary', {}, el('strong', {}, r.id), ` ${r.name} — ${r.title} `, el('span', { className: `sev ${r.severity}` }, r.severity)));
      d.addEventListener('toggle', () => {
        if (d.open && d.children.length === 1) d.append(markdown(r.docs));
      });
      return d;
    }),
  );
}

// ---------------------------------------------------------------- views
async function setView(v) {
  state.view = v;
  for (const b of document.querySelectorAll('#views [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.view === v));
  for (const name of ['findings', 'graph', 'rules']) $(`view-${name}`).hidden = name !== v;
  if (v === 'graph') await renderGraph();
}
for (const b of document.querySelectorAll('#views [role=tab]')) b.onclick = () => setView(b.dataset.view);

// ---------------------------------------------------------------- share and export
async function shareLink() {
  const hash = `#s=${await encodeShare({ files: state.files, active: state.active, view: state.view })}`;
  return `${location.origin}${location.pathname}${hash}`;
}
async function restoreFromHash() {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return false;
  try {
    const s = await decodeShare(m[1]);
    loadFiles(s.files ?? [], s.active ?? 0);
    await setView(s.view ?? 'findings');
    return true;
  } catch (e) {
    $('status').textContent = `the shared link does not read: ${e.message}`;
    return false;
  }
}
$('share').onclick = async () => {
  const link = await shareLink();
  history.replaceState(null, '', link);
  const input = $('share-link');
  input.hidden = false;
  input.value = link;
  input.select();
  try {
    await navigator.clipboard.writeText(link);
    $('status').textContent = 'link copied';
  } catch {
    $('status').textContent = 'link ready to copy';
  }
};

function download(name, text, type) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}
$('export-json').onclick = async () => {
  if (!fresh()) await checkNow();
  download('netreach-report.json', `${state.reportJson}\n`, 'application/json');
};
$('export-sarif').onclick = async () => {
  if (!fresh()) await checkNow();
  const res = await call('sarif', state.reportJson);
  download('netreach-report.sarif', `${res.result}\n`, 'application/sarif+json');
};

// ---------------------------------------------------------------- drag and drop
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', async (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const out = await droppedFiles(e.dataTransfer);
  if (out.length) loadFiles(out);
});

// ---------------------------------------------------------------- examples and start
const select = $('examples');
for (const ex of examples) select.append(el('option', { value: ex.id }, ex.title));
select.onchange = () => {
  const ex = examples.find((x) => x.id === select.value);
  if (ex) loadFiles(ex.files);
};

// For the browser tests: the state, and a way to replace a file's text as a paste would.
window.netreach = {
  state,
  checkNow,
  paste(text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  },
  applyFixOf(rule) {
    const d = state.report.diagnostics.find((x) => x.rule === rule && x.fix?.edits?.length);
    return d ? applyFix(d) : Promise.reject(new Error(`no ${rule} finding with a fix`));
  },
  shareLink,
  cy: () => cy,
};

(async () => {
  state.rules = JSON.parse((await call('rules')).result);
  renderRules();
  await setView('findings');
  if (!(await restoreFromHash())) {
    const first = examples.find((x) => x.id.endsWith('/broken')) ?? examples[0];
    select.value = first.id;
    loadFiles(first.files);
  }
  document.body.dataset.ready = 'true';
})();
