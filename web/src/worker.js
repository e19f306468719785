// Runs the policy core off the main thread, so a large paste never freezes the page.
// Messages: { id, fn: 'check' | 'graph' | 'explain' | 'sarif' | 'rules', arg } → { id, result, ms }.
import init, * as core from 'netreach-wasm';

const ready = init({ module_or_path: new URL('netreach_bg.wasm', import.meta.url) });

self.onmessage = async (e) => {
  const { id, fn, arg } = e.data;
  try {
    await ready;
    const t0 = performance.now();
    const result = fn === 'rules' ? core.rules() : core[fn](arg);
    self.postMessage({ id, result, ms: performance.now() - t0 });
  } catch (err) {
    self.postMessage({ id, error: String(err) });
  }
};
