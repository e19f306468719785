// The packaged extension (`npm run package` runs first in tests/run.sh): a zip whose manifest
// names the bundled entry point, with that bundle inside and nothing from node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const vsix = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'netreach.vsix');

/** The entries of a zip file: name → content, from its central directory. */
function unzip(buf) {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + size);
    out.set(name, method === 8 ? inflateRawSync(raw) : raw);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

test('the .vsix holds the manifest and the bundled client, not node_modules', () => {
  const files = unzip(readFileSync(vsix));
  const manifest = JSON.parse(files.get('extension/package.json').toString('utf8'));
  assert.equal(manifest.name, 'netreach');
  assert.equal(manifest.main, './dist/extension.js');
  const bundle = files.get('extension/dist/extension.js')?.toString('utf8') ?? '';
  assert.match(bundle, /"lsp"/, 'the bundle starts `netreach lsp`');
  assert.ok(bundle.length > 10000, 'vscode-languageclient is bundled in');
  assert.ok(files.has('extension.vsixmanifest'));
  assert.deepEqual([...files.keys()].filter((n) => n.includes('node_modules') || n.includes('/src/') || n.includes('/test/')), []);
});
