// `netreach lsp` driven by a real LSP client library (vscode-languageserver-protocol, the one
// VS Code's client is built on) over stdio: initialize, didOpen, didChange, codeAction, hover,
// shutdown. The native CLI's JSON report of the same files is the oracle for ranges, codes and
// fix edits; ranges are converted to UTF-16 here, from the report's byte offsets.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionRequest, createProtocolConnection, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification,
  ExitNotification, HoverRequest, InitializedNotification, InitializeRequest, PublishDiagnosticsNotification,
  ShutdownRequest, StreamMessageReader, StreamMessageWriter,
} from 'vscode-languageserver-protocol/node.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const cli = resolve(process.env.NETREACH_BIN ?? join(repo, 'target', 'debug', 'netreach'));
const scenarios = join(repo, 'tests', 'corpus', 'scenarios');
const temps = [];
const servers = [];
// A failed test leaves its server running; stop them all so the run ends.
after(() => {
  servers.forEach((c) => c.kill());
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A workspace folder with `files` (name → text). */
function workspace(files) {
  const dir = mkdtempSync(join(tmpdir(), 'netreach-lsp-'));
  temps.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A scenario's input split one document per file (so cross-object rules cross files), with its profile. */
function scenarioFiles(name, variant) {
  const dir = join(scenarios, name, variant);
  const docs = readFileSync(join(dir, 'input.yaml'), 'utf8').split(/^---[ \t]*\n/m).filter((d) => d.trim());
  const files = Object.fromEntries(docs.map((d, i) => [`m${String(i).padStart(2, '0')}.yaml`, d]));
  if (existsSync(join(dir, 'profile.yaml'))) {
    files['cluster/profile.yaml'] = readFileSync(join(dir, 'profile.yaml'), 'utf8');
    files['.netreach.yaml'] = 'profile: cluster/profile.yaml\n';
  }
  return files;
}

const uri = (dir, name) => pathToFileURL(join(dir, name)).href;

/** The CLI's report of a workspace, as the oracle. */
function report(dir) {
  let out;
  try {
    out = execFileSync(cli, ['check', '-o', 'json', dir], { cwd: dir, encoding: 'utf8' });
  } catch (e) {
    out = e.stdout; // exit 1: errors found
  }
  return JSON.parse(out);
}

/** LSP position of a report position: line - 1, UTF-16 units from the line start to the byte offset. */
function lspPosition(text, p) {
  const bytes = Buffer.from(text, 'utf8');
  let lineStart = p.offset;
  while (lineStart > 0 && bytes[lineStart - 1] !== 0x0a) lineStart--;
  return { line: p.line - 1, character: bytes.subarray(lineStart, p.offset).toString('utf8').length };
}
const lspRange = (text, start, end) => ({ start: lspPosition(text, start), end: lspPosition(text, end) });

/** Start `netreach lsp` on `dir` and collect what it publishes. */
async function start(dir, initializationOptions = {}) {
  const child = spawn(cli, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  servers.push(child);
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published = new Map();
  const waiters = [];
  const messages = [];
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.set(p.uri, p);
    for (const w of [...waiters]) w();
  });
  conn.onNotification('window/showMessage', (p) => messages.push(p.message));
  conn.listen();
  const exited = new Promise((res) => child.on('exit', (code) => res(code)));
  const init = await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {}, initializationOptions,
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'ws' }],
  });
  await conn.sendNotification(InitializedNotification.type, {});
  /** Wait until the diagnostics of `u` satisfy `ok`. */
  const until = (u, ok, what = u) => new Promise((res, rej) => {
    const check = () => {
      const p = published.get(u);
      if (p && ok(p.diagnostics, p)) {
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        res(p.diagnostics);
      }
    };
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}: ${JSON.stringify(published.get(u)?.diagnostics?.map((d) => d.code))}`)), 10000);
    waiters.push(check);
    check();
  });
  const stop = async () => {
    await conn.sendRequest(ShutdownRequest.type);
    await conn.sendNotification(ExitNotification.type);
    const code = await exited;
    conn.dispose();
    return code;
  };
  return { conn, init, published, until, stop, messages };
}

const settle = () => new Promise((r) => setTimeout(r, 400));

describe('netreach lsp', { timeout: 60000 }, () => {
  test('initialize announces full sync, hover and quick fixes', async () => {
    const dir = workspace({ 'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' });
    const s = await start(dir);
    assert.equal(s.init.serverInfo.name, 'netreach');
    assert.equal(s.init.capabilities.textDocumentSync, 1);
    assert.equal(s.init.capabilities.hoverProvider, true);
    assert.deepEqual(s.init.capabilities.codeActionProvider.codeActionKinds, ['quickfix']);
    assert.equal(await s.stop(), 0, 'exit code after shutdown + exit');
  });

  // Every broken scenario, one document per file: the diagnostics equal the CLI's findings
  // (range, code, severity, message, docs link, related places), and every fix with edits comes
  // back as a quick fix whose edit equals the report's.
  for (const name of readdirSync(scenarios).sort()) {
    test(`scenario ${name}: diagnostics and quick fixes match the CLI report`, async () => {
      const files = scenarioFiles(name, 'broken');
      const dir = workspace(files);
      const expected = report(dir);
      const byFile = new Map();
      for (const d of expected.diagnostics) byFile.set(d.location.file, [...(byFile.get(d.location.file) ?? []), d]);
      assert.ok(expected.diagnostics.length > 0, 'a broken scenario has findings');
      const s = await start(dir);
      const text = (file) => files[file.slice(dir.length + 1)];
      let fixes = 0;
      for (const [file, diags] of byFile) {
        const u = pathToFileURL(file).href;
        const got = await s.until(u, (d) => d.length === diags.length, file);
        const key = (d) => `${d.range.start.line}:${d.range.start.character}:${d.code}:${d.message.split('\n')[0]}`;
        const want = diags.map((d) => ({
          range: lspRange(text(file), d.location.start, d.location.end), code: d.rule,
          severity: { error: 1, warning: 2, info: 3 }[d.severity], message: d.message, d,
        }));
        const sortedGot = [...got].sort((a, b) => key(a).localeCompare(key(b)));
        const sortedWant = [...want].sort((a, b) => key(a).localeCompare(key(b)));
        for (let i = 0; i < sortedWant.length; i++) {
          const g = sortedGot[i];
          const w = sortedWant[i];
          assert.deepEqual(g.range, w.range, `${file}: range of ${w.code}`);
          assert.equal(g.code, w.code);
          assert.equal(g.severity, w.severity);
          assert.equal(g.source, 'netreach');
          assert.equal(g.message.split('\n')[0], w.message);
          for (const why of w.d.explanation ?? []) assert.ok(g.message.includes(`why: ${why}`), `${w.code}: explanation in the message`);
          assert.match(g.codeDescription.href, new RegExp(`/${w.d.name}\\.md$`));
          const page = fileURLToPath(g.codeDescription.href);
          assert.ok(readFileSync(page, 'utf8').startsWith(`# ${w.code} ${w.d.name}`), `${page} is the rule's page`);
          const related = (w.d.related ?? []).map((r) => ({
            location: { uri: pathToFileURL(r.location.file).href, range: lspRange(text(r.location.file), r.location.start, r.location.end) },
            message: r.message,
          }));
          assert.deepEqual(g.relatedInformation ?? [], related, `${w.code}: related places`);
          if (!w.d.fix?.edits?.length) continue;
          const actions = await s.conn.sendRequest(CodeActionRequest.type, {
            textDocument: { uri: u }, range: g.range, context: { diagnostics: [g] },
          });
          const action = actions.find((a) => a.title === w.d.fix.description);
          assert.ok(action, `${w.code}: a quick fix titled "${w.d.fix.description}"`);
          assert.equal(action.kind, 'quickfix');
          assert.equal(action.isPreferred, true);
          const editsWant = {};
          for (const e of w.d.fix.edits) {
            const eu = pathToFileURL(e.file).href;
            (editsWant[eu] ??= []).push({ range: lspRange(text(e.file), e.start, e.end), newText: e.text });
          }
          assert.deepEqual(action.edit.changes, editsWant, `${w.code}: the quick fix's edit`);
          fixes++;
        }
      }
      // Files without findings publish nothing, or an empty list.
      for (const [u, p] of s.published) {
        if (![...byFile.keys()].some((f) => pathToFileURL(f).href === u)) assert.deepEqual(p.diagnostics, [], u);
      }
      assert.equal(await s.stop(), 0);
      console.log(`${name}: ${expected.diagnostics.length} diagnostics, ${fixes} quick fixes match`);
    });
  }

  test('edits in open buffers are checked across files; the quick fix and "disable for this object" remove the finding', async () => {
    const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: batch\n  namespace: jobs\nspec:\n  selector: {matchLabels: {app: batch}}\n  template:\n    metadata: {labels: {app: batch}}\n    spec:\n      containers: [{name: batch, image: batch:1}]\n';
    const policy = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-egress, namespace: jobs}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n';
    const dir = workspace({ 'deploy.yaml': deploy, 'policy.yaml': policy });
    const s = await start(dir);
    const du = uri(dir, 'deploy.yaml');
    const pu = uri(dir, 'policy.yaml');
    const has = (code) => (d) => d.some((x) => x.code === code);
    const [dns] = (await s.until(du, has('NR201'))).filter((d) => d.code === 'NR201');
    // The blocking policy, in the other file, is the related place: its `podSelector`.
    assert.equal(dns.relatedInformation[0].location.uri, pu);
    assert.deepEqual(dns.relatedInformation[0].location.range.start, { line: 4, character: 15 });

    // Hover on the Deployment's name: the policies per direction and the reach summary.
    const hover = await s.conn.sendRequest(HoverRequest.type, { textDocument: { uri: du }, position: { line: 3, character: 9 } });
    assert.equal(hover.contents.kind, 'markdown');
    assert.match(hover.contents.value, /\*\*Deployment jobs\/batch\*\*/);
    assert.match(hover.contents.value, /\*\*Egress\*\*: isolated by `jobs\/deny-egress`/);
    assert.match(hover.contents.value, /\*\*Ingress\*\*: not isolated/);
    assert.match(hover.contents.value, /\*\*Reach\*\*: may open no connection/);
    assert.deepEqual(hover.range, { start: { line: 3, character: 8 }, end: { line: 3, character: 13 } });
    const policyHover = await s.conn.sendRequest(HoverRequest.type, { textDocument: { uri: pu }, position: { line: 2, character: 20 } });
    assert.match(policyHover.contents.value, /\*\*Selects\*\*: `jobs\/batch\[Deployment\]`/);
    assert.equal(await s.conn.sendRequest(HoverRequest.type, { textDocument: { uri: du }, position: { line: 0, character: 2 } }), null);

    // An unsaved edit of the policy file (allow DNS) clears the Deployment's finding.
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: pu, languageId: 'yaml', version: 1, text: policy } });
    const allowDns = `${policy}  egress:\n  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n`;
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: pu, version: 2 }, contentChanges: [{ text: allowDns }] });
    await s.until(du, (d) => !has('NR201')(d), 'NR201 gone after the policy buffer allows DNS');

    // Back to the blocking text; apply the quick fix to the open Deployment buffer.
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: pu, version: 3 }, contentChanges: [{ text: policy }] });
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: du, languageId: 'yaml', version: 1, text: deploy } });
    const [again] = (await s.until(du, (d, p) => has('NR201')(d) && p.version === 1)).filter((d) => d.code === 'NR201');
    const actions = await s.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri: du }, range: again.range, context: { diagnostics: [again] } });
    const fix = actions.find((a) => a.isPreferred && a.diagnostics[0].code === 'NR201');
    const disable = actions.find((a) => a.title === 'Disable NR201 (dns-udp-blocked) for Deployment jobs/batch');
    assert.ok(fix && disable, JSON.stringify(actions.map((a) => a.title)));
    const apply = (text, edits) => {
      const lines = text.split('\n');
      const off = (p) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
      return [...edits].sort((a, b) => off(b.range.start) - off(a.range.start))
        .reduce((t, e) => t.slice(0, off(e.range.start)) + e.newText + t.slice(off(e.range.end)), text);
    };
    const fixed = apply(deploy, fix.edit.changes[du]);
    assert.match(fixed, /kind: NetworkPolicy\nmetadata:\n  name: allow-dns-batch/);
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: du, version: 2 }, contentChanges: [{ text: fixed }] });
    await s.until(du, (d, p) => p.version === 2 && !has('NR201')(d), 'NR201 gone after the quick fix');

    const suppressed = apply(deploy, disable.edit.changes[du]);
    assert.match(suppressed, /metadata:\n  annotations: \{netreach\.dev\/skip: "NR201"\}\n  name: batch\n/);
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: du, version: 3 }, contentChanges: [{ text: suppressed }] });
    await s.until(du, (d, p) => p.version === 3 && !has('NR201')(d), 'NR201 gone after "disable for this object"');
    assert.equal(await s.stop(), 0);
  });

  test('UTF-16 columns after astral characters', async () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {note: "\u{1F600} é", netreach.dev/skip: "NR9999"}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n';
    const dir = workspace({ 'svc.yaml': text });
    const s = await start(dir);
    const [d] = await s.until(uri(dir, 'svc.yaml'), (d) => d.some((x) => x.code === 'NR005'));
    const line = text.split('\n')[5];
    assert.deepEqual(d.range, { start: { line: 5, character: line.indexOf('"NR9999"') }, end: { line: 5, character: line.indexOf('"NR9999"') + 8 } });
    assert.equal(await s.stop(), 0);
  });

  test('Helm templates and other YAML are skipped silently; .netreach.yaml and editor settings apply', async () => {
    const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: api:1}]}\n';
    const dir = workspace({
      'app.yaml': deploy,
      'chart/templates/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n',
      'chart/Chart.yaml': 'apiVersion: v2\nname: chart\nversion: 0.1.0\n',
      '.github/workflows/ci.yaml': 'on: push\njobs: {build: {runs-on: x}}\n',
      'broken.json': '{"apiVersion": "v1", "kind": ',
      '.netreach.yaml': 'rules:\n  skip: [NR116]\n  severity: {workload-not-isolated: error}\n',
    });
    const s = await start(dir, { netreach: { rules: { skip: ['NR001'] } } });
    const app = await s.until(uri(dir, 'app.yaml'), (d) => d.length > 0);
    assert.deepEqual(app.map((d) => [d.code, d.severity]).sort(), [['NR115', 1], ['NR115', 1]], 'NR116 skipped by .netreach.yaml, NR115 raised to error');
    await settle();
    for (const f of ['chart/templates/deploy.yaml', 'chart/Chart.yaml', '.github/workflows/ci.yaml', 'broken.json']) {
      assert.equal(s.published.get(uri(dir, f))?.diagnostics?.length ?? 0, 0, `${f}: no diagnostics`);
    }
    // Opening a template buffer stays silent too.
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: uri(dir, 'chart/templates/deploy.yaml'), languageId: 'yaml', version: 1, text: 'kind: Service\napiVersion: v1\nmetadata: {name: "{{ .Values.x }}"}\n' },
    });
    await settle();
    assert.equal(s.published.get(uri(dir, 'chart/templates/deploy.yaml'))?.diagnostics?.length ?? 0, 0);
    // An unknown rule in the editor settings is reported, not fatal.
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { netreach: { rules: { skip: ['NR9999'] } } } });
    await settle();
    assert.ok(s.messages.some((m) => m.includes('unknown rule "NR9999"')), JSON.stringify(s.messages));
    assert.equal(await s.stop(), 0);
  });
});
