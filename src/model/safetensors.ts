// The safetensors container (https://github.com/huggingface/safetensors), float32 only, with no dependency:
// an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces so that the data
// starts on an 8-byte boundary), then the raw little-endian tensor data. Each header entry is
// {dtype, shape, data_offsets: [begin, end)} with offsets relative to the start of the data; the optional
// `__metadata__` maps strings to strings.

export class SafetensorsError extends Error {}

export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, F32Tensor>;
  metadata: Record<string, string>;
}

const HEADER_ALIGN = 8;
// The reference implementation refuses headers over 100 MB; a larger length is a corrupt file.
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Tensors are written in the order given, each right after the previous one. */
export function encodeSafetensors(tensors: Array<[string, F32Tensor]>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] does not hold ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(json);
  json = headerBytes;

  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of tensors) {
    writeF32(out, at, t.data);
    at += 4 * t.data.length;
  }
  return out;
}

/** Parses and checks the container: every problem is one SafetensorsError line. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(`the file is truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(`the header length (${headerLength} bytes) is not plausible: the file is corrupt`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    throw new SafetensorsError(`the file is truncated: the header length is ${n} bytes but only ${bytes.length - 8} bytes follow it`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new SafetensorsError('the header is not valid JSON');
  }
  if (!isPlainObject(header)) throw new SafetensorsError('the header is not a JSON object');

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata = parseMetadata(header.__metadata__);
  const ranges: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isPlainObject(entry)) throw new SafetensorsError(`tensor ${name}: the header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw new SafetensorsError(`tensor ${name}: dtype is missing`);
    if (dtype !== 'F32') throw new SafetensorsError(`tensor ${name} has dtype ${dtype}; only F32 is supported`);
    if (!Array.isArray(shape) || !shape.every(isCount))
      throw new SafetensorsError(`tensor ${name}: shape is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new SafetensorsError(`tensor ${name}: data_offsets is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== 4 * numel) {
      throw new SafetensorsError(`tensor ${name}: data_offsets [${begin}, ${end}) do not hold ${numel} float32 values of shape [${shape}]`);
    }
    if (end > dataLength) {
      throw new SafetensorsError(
        `tensor ${name}: data_offsets [${begin}, ${end}) are out of range: the data is ${dataLength} bytes (is the file truncated?)`,
      );
    }
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  // Overlaps are refused before anything is read, so that together the tensors are never larger than the
  // file (a header naming one range many times would otherwise multiply it).
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin < covered) throw new SafetensorsError(`tensor ${name} overlaps another tensor in the data`);
    covered = end;
  }
  const tensors = new Map<string, F32Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { shape, data_offsets: offsets } = entry as { shape: number[]; data_offsets: [number, number] };
    tensors.set(name, { shape, data: readF32(bytes, dataStart + offsets[0], (offsets[1] - offsets[0]) / 4) });
  }
  return { tensors, metadata };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw new SafetensorsError('__metadata__ is not an object');
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
  }
  return raw as Record<string, string>;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function writeF32(out: Uint8Array, at: number, data: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const dv = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < data.length; i++) dv.setFloat32(at + 4 * i, data[i], true);
}

function readF32(bytes: Uint8Array, at: number, numel: number): Float32Array {
  // Copied into a fresh, aligned buffer: the data need not be 4-byte aligned in the file. (A Node Buffer's
  // slice() is a view, not a copy, hence the explicit copy.)
  if (LITTLE_ENDIAN_HOST) {
    const copy = new Uint8Array(4 * numel);
    copy.set(bytes.subarray(at, at + 4 * numel));
    return new Float32Array(copy.buffer);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const out = new Float32Array(numel);
  for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(at + 4 * i, true);
  return out;
}

/** The index of the first NaN or infinity in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Refuses a file with a NaN or an infinity in any tensor (a model that diverged, or a corrupt file), naming
 * the tensor, the first bad index (flat, and per dimension) and the value. Returns the file.
 */
export function checkFinite(file: SafetensorsFile): SafetensorsFile {
  for (const [name, t] of file.tensors) {
    const i = firstNonFinite(t.data);
    if (i < 0) continue;
    const at = t.shape.length > 1 ? ` [${unflatten(i, t.shape).join(', ')}]` : '';
    throw new SafetensorsError(`tensor ${name} holds ${t.data[i]} at index ${i}${at}: every value must be finite`);
  }
  return file;
}

function unflatten(i: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}
