// Text helpers without a DOM: positions and the share-link encoding.

/**
 * The UTF-16 offset in `text` of a report position: the report gives 1-based lines and
 * columns in Unicode code points, CodeMirror counts UTF-16 code units from the start.
 */
export function indexOf(text, pos) {
  let i = 0;
  for (let line = 1; line < pos.line; line++) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return text.length;
    i = nl + 1;
  }
  for (let c = 1; c < pos.column && i < text.length; c++) {
    if (text[i] === '\n') break;
    i += text.codePointAt(i) > 0xffff ? 2 : 1;
  }
  return i;
}

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

/** `value` as JSON, deflated and base64url-encoded: the `#s=` part of a share link. */
export async function encodeShare(value) {
  const packed = await pipe(new TextEncoder().encode(JSON.stringify(value)), new CompressionStream('deflate-raw'));
  let s = '';
  for (let i = 0; i < packed.length; i += 0x8000) s += String.fromCharCode(...packed.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The value `encodeShare` encoded; throws when `s` does not decode. */
export async function decodeShare(s) {
  const bytes = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(await pipe(bytes, new DecompressionStream('deflate-raw'))));
}
