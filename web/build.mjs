// Builds the playground into dist/, a plain static folder: the wasm-bindgen artifact of the
// policy core, the bundled app and worker, and the corpus scenarios as the Examples menu.
//
// The artifact comes from NETREACH_ARTIFACTS (a folder `netreach artifacts --out` wrote), or is
// made by `cargo run -p netreach-host-harness -- artifacts` when that is not set.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = join(here, 'dist');
const gen = join(here, '.build');

let artifacts = process.env.NETREACH_ARTIFACTS && resolve(process.env.NETREACH_ARTIFACTS);
if (!artifacts) {
  artifacts = join(root, 'target', 'artifacts');
  console.log('building the wasm artifacts (cargo run -p netreach-host-harness -- artifacts)');
  execFileSync('cargo', ['run', '--quiet', '--locked', '-p', 'netreach-host-harness', '--', 'artifacts', '--out', artifacts], { cwd: root, stdio: 'inherit' });
}
const bindgen = join(artifacts, 'bindgen');
if (!existsSync(join(bindgen, 'netreach.js'))) {
  throw new Error(`no wasm-bindgen artifact in ${bindgen}`);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
rmSync(gen, { recursive: true, force: true });
mkdirSync(gen, { recursive: true });
cpSync(join(bindgen, 'netreach.js'), join(gen, 'netreach.js'));
cpSync(join(bindgen, 'netreach_bg.wasm'), join(dist, 'netreach_bg.wasm'));

// Examples: every source-document scenario of the corpus, broken and fixed, plus the bundled
// platform example of the README.
const examples = [];
const scenarios = join(root, 'tests', 'corpus', 'scenarios');
for (const name of readdirSync(scenarios).sort()) {
  for (const variant of ['broken', 'fixed']) {
    const dir = join(scenarios, name, variant);
    if (!existsSync(join(dir, 'input.yaml'))) continue;
    const files = [{ name: 'input.yaml', text: readFileSync(join(dir, 'input.yaml'), 'utf8') }];
    if (existsSync(join(dir, 'profile.yaml'))) {
      files.push({ name: 'profile.yaml', text: readFileSync(join(dir, 'profile.yaml'), 'utf8') });
    }
    const expect = existsSync(join(dir, 'expect.txt'))
      ? readFileSync(join(dir, 'expect.txt'), 'utf8').split('\n').map((l) => l.split('#')[0].trim()).filter(Boolean)
      : [];
    examples.push({ id: `${name}/${variant}`, title: `${name} (${variant})`, files, expect });
  }
}
const platform = join(root, 'examples', 'platform');
examples.unshift({
  id: 'platform',
  title: 'platform (README example)',
  files: readdirSync(platform).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => ({ name: f, text: readFileSync(join(platform, f), 'utf8') })),
  expect: [],
});
writeFileSync(join(gen, 'examples.json'), JSON.stringify(examples));

await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js'), worker: join(here, 'src', 'worker.js') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: dist,
  logLevel: 'warning',
  alias: { 'netreach-wasm': join(gen, 'netreach.js'), 'netreach-examples': join(gen, 'examples.json') },
});
cpSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
cpSync(join(here, 'src', 'style.css'), join(dist, 'style.css'));
console.log(`built ${dist} (${examples.length} examples)`);
