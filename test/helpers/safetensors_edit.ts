// Rewrites the JSON header of a safetensors file and keeps its data: how the tests make broken checkpoints.

export type Header = Record<string, any>;

export function readHeader(bytes: Uint8Array): { header: Header; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** A file from a header (any JSON, or raw header text) and data bytes; `pad` pads the header to 8 bytes. */
export function buildFile(header: Header | string, data: Uint8Array, pad = true): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while (text.length % 8 !== 0) text += ' ';
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

export function editHeader(bytes: Uint8Array, edit: (h: Header) => void): Uint8Array {
  const { header, data } = readHeader(bytes);
  edit(header);
  return buildFile(header, data);
}
