// The playground in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no downloaded browser). Needs `npm run build` first (the `test` script does
// it) and the native CLI for the parity test (NETREACH_BIN, default ../target/debug/netreach).
// Screenshots go to test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const shots = resolve(here, '..', 'test-artifacts');
mkdirSync(shots, { recursive: true });
const cli = resolve(process.env.NETREACH_BIN ?? join(root, 'target', 'debug', 'netreach'));
const scenario = (name, variant, file = 'input.yaml') => readFileSync(join(root, 'tests', 'corpus', 'scenarios', name, variant, file), 'utf8');

let server;
let base;
let context;
let profileDir;
const requests = [];

before(async () => {
  ({ server, url: base } = await serve(0));
  profileDir = mkdtempSync(join(tmpdir(), 'netreach-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  context.on('request', (r) => requests.push(r.url()));
});

after(async () => {
  await context?.close();
  server?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** A page with the playground loaded and its first check done. */
async function open(hash = '') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + hash);
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForFunction(() => Number(document.body.dataset.checked ?? 0) > 0);
  page.errors = errors;
  return page;
}

/** Load an example from the menu and wait for its check. */
async function loadExample(page, id) {
  const n = await page.evaluate(() => Number(document.body.dataset.checked ?? 0));
  await page.selectOption('#examples', id);
  await page.waitForFunction((n) => Number(document.body.dataset.checked ?? 0) > n, n);
}

const report = (page) => page.evaluate(() => window.netreach.state.report);

describe('playground', () => {
  test('every example shows its expected findings at their lines, inline and in the panel', async () => {
    const page = await open();
    const examples = JSON.parse(readFileSync(resolve(here, '..', '.build', 'examples.json'), 'utf8'));
    assert.ok(examples.length >= 19, `expected the scenarios as examples, got ${examples.length}`);
    for (const ex of examples) {
      await loadExample(page, ex.id);
      const r = await report(page);
      for (const rule of ex.expect) {
        const d = r.diagnostics.find((x) => x.rule === rule);
        assert.ok(d, `${ex.id}: expected a ${rule} finding`);
        // The panel lists it with its line.
        const items = await page.$$eval(`#findings button.jump[data-rule=${rule}]`, (bs) => bs.map((b) => Number(b.dataset.line)));
        assert.ok(items.includes(d.location.start.line), `${ex.id}: ${rule} at line ${d.location.start.line} not in the panel (${items})`);
      }
      if (ex.id.endsWith('/fixed')) {
        assert.equal(r.summary.findings.error, 0, `${ex.id}: the fixed variant has errors`);
      }
    }
    // Inline: the DNS-01 scenario underlines the Deployment's name on the reported line.
    await loadExample(page, 'cert-manager-dns01/broken');
    const r = await report(page);
    const d = r.diagnostics.find((x) => x.rule === 'NR210');
    await page.click(`#findings button.jump[data-rule=NR210]`);
    const line = await page.evaluate(() => {
      const v = document.querySelector('.cm-editor');
      const sel = window.getSelection();
      return { text: sel.toString(), editor: !!v };
    });
    assert.equal(line.text, 'cert-manager', 'clicking the finding selects its span');
    assert.ok(await page.locator('.cm-lintRange-error').count() > 0, 'error spans are underlined');
    assert.ok(await page.locator('.cm-lint-marker-error').count() > 0, 'the gutter marks the error lines');
    assert.equal(d.location.start.line, 40);
    // Hover shows the message, the explanation and the fix.
    await page.locator('.cm-lintRange-error').first().hover();
    await page.waitForSelector('.cm-tooltip-lint .nr-tip');
    const tip = await page.textContent('.cm-tooltip-lint');
    assert.match(tip, /cannot reach UDP 53/);
    assert.match(tip, /Fix:/);
    await page.screenshot({ path: join(shots, 'findings.png') });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('keyboard: findings are reachable with Tab and arrow keys, controls are labelled', async () => {
    const page = await open();
    await loadExample(page, 'compliant-platform-ingress/broken');
    await page.focus('#findings button.jump');
    const first = await page.evaluate(() => document.activeElement.dataset.rule);
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate(() => document.activeElement.className);
    assert.equal(second, 'jump');
    await page.keyboard.press('Enter');
    assert.ok(await page.evaluate(() => document.activeElement.closest('.cm-editor') !== null), 'Enter jumps into the editor');
    assert.ok(first);
    const unlabelled = await page.$$eval('select, input:not([type=hidden]):not([hidden])', (els) =>
      els.filter((e) => !e.getAttribute('aria-label') && !e.closest('label')).map((e) => e.id),
    );
    assert.deepEqual(unlabelled, [], 'every control has a label');
    await page.close();
  });

  test('dropped files become tabs and are checked together', async () => {
    const page = await open();
    const n = await page.evaluate(() => Number(document.body.dataset.checked));
    const policy = scenario('cert-manager-dns01', 'broken');
    const profile = scenario('cert-manager-http01', 'broken', 'profile.yaml');
    const dt = await page.evaluateHandle(([a, b]) => {
      const t = new DataTransfer();
      t.items.add(new File([a], 'b-manifests.yaml'));
      t.items.add(new File([b], 'a-profile.yaml'));
      return t;
    }, [policy, profile]);
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
    await page.waitForFunction((n) => Number(document.body.dataset.checked) > n, n);
    const tabs = await page.$$eval('#tabs [role=tab]', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(tabs.map((t) => t.replace(/ \(\d+\)$/, '')), ['a-profile.yaml', 'b-manifests.yaml']);
    const r = await report(page);
    assert.equal(r.summary.files, 1, 'the ClusterProfile file is the profile, not a manifest');
    assert.ok(r.diagnostics.some((d) => d.rule === 'NR210' && d.location.file === 'b-manifests.yaml'));
    await page.close();
  });

  test('severity colours and text have enough contrast (WCAG AA, 4.5:1)', async () => {
    const page = await open();
    await loadExample(page, 'compliant-platform-ingress/broken');
    const ratios = await page.evaluate(() => {
      const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
      const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const ratio = (a, b) => {
        const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05);
      };
      const bg = getComputedStyle(document.body).backgroundColor;
      const out = {};
      for (const sel of ['.sev.error', '.sev.warning', '.sev.info', '#findings .where', '#status', 'body', '.filters label']) {
        const e = document.querySelector(sel);
        if (e) out[sel] = ratio(getComputedStyle(e).color, bg);
      }
      return out;
    });
    for (const [sel, r] of Object.entries(ratios)) assert.ok(r >= 4.5, `${sel}: contrast ${r.toFixed(2)}`);
    assert.ok(Object.keys(ratios).length >= 5, `measured ${Object.keys(ratios)}`);
    await page.close();
  });

  test('a quick fix removes its finding', async () => {
    const page = await open();
    await loadExample(page, 'compliant-platform-ingress/broken');
    let r = await report(page);
    const d = r.diagnostics.find((x) => x.rule === 'NR302' && x.fix?.edits?.length);
    assert.ok(d, 'the Ingress scenario has an NR302 finding with a fix');
    const n = await page.evaluate(() => Number(document.body.dataset.checked));
    // Through the UI: open the finding's details and press its Apply button.
    const item = page.locator('#findings li', { has: page.locator('button.jump[data-rule=NR302]') }).first();
    await item.locator('summary').click();
    await item.locator('button.apply').click();
    await page.waitForFunction((n) => Number(document.body.dataset.checked) > n, n);
    r = await report(page);
    assert.ok(!r.diagnostics.some((x) => x.rule === 'NR302' && x.message === d.message), 'the NR302 finding is gone after the fix');
    const text = await page.evaluate(() => window.netreach.state.files[0].text);
    assert.match(text, /hosts: \[demo\.exmaple\.com, demo\.example\.com\]/);
    // A fix that adds a whole object: NR210 in the DNS-01 scenario.
    await loadExample(page, 'cert-manager-dns01/broken');
    const before = (await report(page)).diagnostics.filter((x) => x.rule === 'NR210').length;
    await page.evaluate(() => window.netreach.applyFixOf('NR210'));
    const afterFix = (await report(page)).diagnostics.filter((x) => x.rule === 'NR210').length;
    assert.ok(afterFix < before, `NR210 findings ${before} → ${afterFix}`);
    await page.close();
  });

  test('connectivity view: namespaces, workloads, an edge explanation, a denied explanation', async () => {
    const page = await open();
    await loadExample(page, 'cert-manager-dns01/broken');
    await page.click('#views [data-view=graph]');
    await page.waitForFunction(() => Number(document.body.dataset.graphDrawn ?? 0) > 0);
    const nodes = await page.evaluate(() => window.netreach.state.graph.workloads.map((w) => w.name));
    assert.ok(nodes.includes('cert-manager/cert-manager[Deployment]'), `nodes: ${nodes}`);
    const note = await page.textContent('#graph-note');
    assert.match(note, /workloads, \d+ allowed connections/);
    // The edge explanation, as a click on an edge asks it.
    const g = await page.evaluate(() => window.netreach.state.graph);
    assert.ok(g.connections.length > 0, 'the scenario allows some connections');
    const drawn = await page.evaluate(() => window.netreach.cy().edges().length);
    assert.equal(drawn, g.connections.length, 'every allowed connection is drawn as an edge');
    await page.evaluate(() => window.netreach.cy().edges()[0].emit('tap'));
    await page.waitForSelector('#explain-result .verdict');
    assert.match(await page.textContent('#explain-result'), /ALLOWED/);
    // A denied connection names the isolating policy and the rule that does not match.
    await page.fill('#explain-from', 'cert-manager/cert-manager');
    await page.fill('#explain-to', '8.8.8.8');
    await page.fill('#explain-port', '53');
    await page.selectOption('#explain-protocol', 'UDP');
    await page.click('#explain-form button[type=submit]');
    await page.waitForFunction(() => /DENIED/.test(document.querySelector('#explain-result').textContent));
    const text = await page.textContent('#explain-result');
    assert.match(text, /isolated by cert-manager\/default-deny/);
    assert.match(text, /spec\.egress\[0\] does not match: UDP 53 is not among the allowed ports/);
    // The workload whose declared needs are blocked is marked.
    const blocked = await page.evaluate(() => window.netreach.cy().nodes('.blocked').map((n) => n.id()));
    assert.ok(blocked.includes('cert-manager/cert-manager[Deployment]'), `blocked: ${blocked}`);
    await page.screenshot({ path: join(shots, 'connectivity.png') });
    // An example with a cluster profile file draws too (the profile is not a manifest).
    const drawn0 = await page.evaluate(() => Number(document.body.dataset.graphDrawn));
    await loadExample(page, 'cert-manager-http01/broken');
    await page.waitForFunction((n) => Number(document.body.dataset.graphDrawn) > n, drawn0);
    assert.ok((await page.evaluate(() => window.netreach.state.graph.workloads.length)) > 0);
    assert.match(await page.textContent('#graph-note'), /workloads, \d+ allowed connections/);
    await page.close();
  });

  test('share link restores files and view', async () => {
    const page = await open();
    await loadExample(page, 'istio-external-samples/broken');
    await page.click('#views [data-view=rules]');
    await page.evaluate(() => window.netreach.paste(window.netreach.state.files[0].text + '\n# edited in the playground\n'));
    await page.click('#share');
    await page.waitForFunction(() => document.querySelector('#share-link').value !== '');
    const link = await page.inputValue('#share-link');
    assert.match(link, /#s=[A-Za-z0-9_-]+$/);
    const files = await page.evaluate(() => window.netreach.state.files);
    const other = await open(link.slice(link.indexOf('#')));
    await other.waitForFunction(() => !document.querySelector('#view-rules').hidden);
    assert.deepEqual(await other.evaluate(() => window.netreach.state.files), files);
    assert.equal(await other.evaluate(() => window.netreach.state.view), 'rules');
    await other.locator('#rules details').first().click();
    assert.match(await other.textContent('#rules'), /NR001/);
    await other.screenshot({ path: join(shots, 'rules.png') });
    await other.close();
    await page.close();
  });

  test('parity: the browser report equals the native CLI report, JSON and SARIF', async () => {
    const page = await open();
    for (const id of ['cert-manager-http01/broken', 'compliant-platform-ingress/broken', 'platform']) {
      await loadExample(page, id);
      const { files, json } = await page.evaluate(() => ({ files: window.netreach.state.files, json: window.netreach.state.reportJson }));
      const dir = mkdtempSync(join(tmpdir(), 'netreach-parity-'));
      const args = ['check', '-o', 'json'];
      for (const f of files) {
        writeFileSync(join(dir, f.name), f.text);
        if (/^kind:\s*ClusterProfile\s*$/m.test(f.text)) args.push('--profile', f.name);
      }
      args.push(...files.filter((f) => !/^kind:\s*ClusterProfile\s*$/m.test(f.text)).map((f) => f.name));
      const native = run(cli, args, dir);
      assert.equal(`${json}\n`, native, `${id}: browser and CLI reports differ`);
      const sarif = await page.evaluate(async () => {
        const a = new Promise((ok) => {
          const orig = URL.createObjectURL;
          URL.createObjectURL = (blob) => {
            blob.text().then(ok);
            URL.createObjectURL = orig;
            return orig(blob);
          };
        });
        document.querySelector('#export-sarif').click();
        return a;
      });
      const nativeSarif = run(cli, args.map((a) => (a === 'json' ? 'sarif' : a)), dir);
      assert.equal(sarif, nativeSarif, `${id}: SARIF differs`);
      rmSync(dir, { recursive: true, force: true });
    }
    await page.close();
  });

  test('a 1,000-object paste is checked and drawn without freezing the page', async () => {
    const page = await open();
    const text = bigInput(1000);
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
    });
    const n = await page.evaluate(() => Number(document.body.dataset.checked));
    const t0 = Date.now();
    await page.evaluate((t) => window.netreach.paste(t), text);
    await page.waitForFunction((n) => Number(document.body.dataset.checked) > n, n, { timeout: 120000 });
    const checkedIn = Date.now() - t0;
    const g0 = Date.now();
    await page.click('#views [data-view=graph]');
    await page.waitForFunction(() => Number(document.body.dataset.graphDrawn ?? 0) > 0, null, { timeout: 120000 });
    const drawnIn = Date.now() - g0;
    const s = await page.evaluate(() => ({ objects: window.netreach.state.report.summary.objects, checkMs: window.netreach.state.checkMs, graphMs: window.netreach.state.graphMs, drawMs: window.netreach.state.drawMs, longest: Math.max(0, ...window.longTasks), connections: window.netreach.state.graph.connections.length }));
    assert.equal(s.objects, 1000);
    // Typing still works right after: the main thread is free.
    const typed = Date.now();
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
    const frame = Date.now() - typed;
    console.log(
      `1000-object paste: check ${s.checkMs.toFixed(0)} ms in the worker (paste to findings ${checkedIn} ms); graph ${s.graphMs.toFixed(0)} ms in the worker, ` +
        `${s.connections} connections, drawn in ${s.drawMs.toFixed(0)} ms (click to drawn ${drawnIn} ms); longest main-thread task ${s.longest.toFixed(0)} ms; next frame after ${frame} ms`,
    );
    await page.screenshot({ path: join(shots, 'large.png') });
    await page.close();
  });

  test('no request leaves the page\'s own server', () => {
    const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, []);
  });
});

function run(bin, args, cwd) {
  try {
    return execFileSync(bin, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (e) {
    // Exit code 1 means "errors found"; the report is still on stdout.
    if (e.status === 1) return e.stdout;
    throw e;
  }
}

/** `n` objects: namespaces with a default-deny, an allow-same-namespace policy, DNS egress,
 * three Deployments and three Services each (10 objects per namespace). */
export function bigInput(n) {
  const docs = [];
  for (let i = 0; docs.length < n; i++) {
    const ns = `team-${i}`;
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`);
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: ${ns}}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}`);
    docs.push(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: same-namespace, namespace: ${ns}}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress: [{from: [{podSelector: {}}]}]\n  egress:\n    - to: [{podSelector: {}}]\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`,
    );
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web-from-team-${i + 1}, namespace: ${ns}}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-${i + 1}}}}], ports: [{port: 8080}]}]`);
    for (const app of ['web', 'api', 'db']) {
      docs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${app}, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: ${app}}}\n  template:\n    metadata: {labels: {app: ${app}}}\n    spec: {containers: [{name: ${app}, image: example/${app}, ports: [{containerPort: 8080}]}]}`);
    }
    for (const app of ['web', 'api']) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: ${app}, namespace: ${ns}}\nspec: {selector: {app: ${app}}, ports: [{port: 80, targetPort: 8080}]}`);
    }
  }
  return docs.slice(0, n).join('\n---\n') + '\n';
}
