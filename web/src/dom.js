// Small DOM helpers and the Markdown subset the rule docs use.

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** A new `tag` element with `props` assigned and `children` appended. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

/** The rule docs' Markdown (headings, code blocks, lists, `code`) as DOM nodes. */
export function markdown(md) {
  const box = el('div', { className: 'docs' });
  const lines = md.split('\n');
  let para = [];
  const flush = () => {
    if (para.length) box.append(inline(el('p'), para.join(' ')));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('```')) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      box.append(el('pre', {}, el('code', {}, code.join('\n'))));
    } else if (/^#+ /.test(l)) {
      flush();
      box.append(inline(el('h4'), l.replace(/^#+ /, '')));
    } else if (/^\s*[-*] /.test(l)) {
      flush();
      box.append(inline(el('p'), `• ${l.replace(/^\s*[-*] /, '')}`));
    } else if (!l.trim()) {
      flush();
    } else {
      para.push(l);
    }
  }
  flush();
  return box;
}
function inline(node, text) {
  text.split(/(`[^`]+`)/).forEach((part) => node.append(part.startsWith('`') && part.endsWith('`') && part.length > 1 ? el('code', {}, part.slice(1, -1)) : part));
  return node;
}

/** The YAML and JSON files of a drop (folders walked), sorted by path. */
export async function droppedFiles(dataTransfer) {
  const out = [];
  const items = [...(dataTransfer?.items ?? [])];
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length) {
    for (const entry of entries) await readEntry(entry, '', out);
  } else {
    for (const f of dataTransfer?.files ?? []) out.push({ name: f.name, text: await f.text() });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function readEntry(entry, prefix, out) {
  if (entry.isFile) {
    if (!/\.(ya?ml|json)$/i.test(entry.name)) return;
    const file = await new Promise((ok, fail) => entry.file(ok, fail));
    out.push({ name: prefix + entry.name, text: await file.text() });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
      if (!batch.length) break;
      for (const e of batch) await readEntry(e, `${prefix}${entry.name}/`, out);
    }
  }
}
