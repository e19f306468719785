// Calls into the wasm core, which runs in a worker so that a long check never blocks typing.

const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map();
worker.onmessage = (e) => {
  const p = pending.get(e.data.id);
  pending.delete(e.data.id);
  if (!p) return;
  if (e.data.error) p.reject(new Error(e.data.error));
  else p.resolve(e.data);
};

/** Call the core's `fn` with `arg` (a JSON string); resolves to `{result, ms}`. */
export function call(fn, arg) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, fn, arg });
  });
}
