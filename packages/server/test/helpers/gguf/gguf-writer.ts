/**
 * A minimal GGUF v3 writer (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): header,
 * typed metadata key/values, tensor infos, aligned f32, f16 or q4_0 tensor data. Just enough for
 * tests and benchmarks to build real models that llama.cpp loads; q4_0 is the one quantized type,
 * because CPUs run it on the same repacked 4-bit kernels as the Q4_K_M models users download.
 */
import { writeFile } from "node:fs/promises";

/** GGUF metadata value type ids, as in the spec. */
const VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof VALUE_TYPE, "array">;

type ScalarValue<T extends GgufScalarType> = T extends "string"
  ? string
  : T extends "bool"
    ? boolean
    : T extends "uint64" | "int64"
      ? bigint | number
      : number;

export type GgufValue =
  | { [T in GgufScalarType]: { type: T; value: ScalarValue<T> } }[GgufScalarType]
  | {
      [T in GgufScalarType]: { type: "array"; itemType: T; value: readonly ScalarValue<T>[] };
    }[GgufScalarType];

/** Shorthands so model definitions read like the metadata they produce. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  u64: (value: number | bigint): GgufValue => ({ type: "uint64", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: readonly string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  f32s: (value: readonly number[]): GgufValue => ({ type: "array", itemType: "float32", value }),
  i32s: (value: readonly number[]): GgufValue => ({ type: "array", itemType: "int32", value }),
};

/** ggml tensor types this writer can store. */
const TENSOR_TYPE = { f32: 0, f16: 1, q4_0: 2 } as const;
export type GgufTensorType = keyof typeof TENSOR_TYPE;

export interface GgufTensor {
  name: string;
  /** ggml order: innermost (fastest-varying) dimension first, e.g. [n_embd, n_vocab] for token_embd. */
  dims: readonly number[];
  type: GgufTensorType;
  /** Row-major values in ggml order; length = product of dims. */
  data: Float32Array;
}

export interface GgufFile {
  metadata: Record<string, GgufValue>;
  tensors: readonly GgufTensor[];
  /** Defaults to 32 (the GGUF default); written as `general.alignment` when different. */
  alignment?: number;
}

const encoder = new TextEncoder();

/** Sequential little-endian writer over one pre-sized buffer (sizes are computed up front). */
class ByteSink {
  private offset = 0;
  constructor(readonly buffer: Buffer) {}

  get position(): number {
    return this.offset;
  }
  seek(offset: number): void {
    this.offset = offset;
  }
  u8(v: number): void {
    this.offset = this.buffer.writeUInt8(v, this.offset);
  }
  u32(v: number): void {
    this.offset = this.buffer.writeUInt32LE(v, this.offset);
  }
  u64(v: number | bigint): void {
    this.offset = this.buffer.writeBigUInt64LE(BigInt(v), this.offset);
  }
  string(s: string): void {
    const bytes = encoder.encode(s);
    this.u64(bytes.length);
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }
  scalar(type: GgufScalarType, value: number | bigint | boolean | string): void {
    const b = this.buffer;
    const o = this.offset;
    switch (type) {
      case "uint8":
        this.offset = b.writeUInt8(Number(value), o);
        return;
      case "int8":
        this.offset = b.writeInt8(Number(value), o);
        return;
      case "uint16":
        this.offset = b.writeUInt16LE(Number(value), o);
        return;
      case "int16":
        this.offset = b.writeInt16LE(Number(value), o);
        return;
      case "uint32":
        this.offset = b.writeUInt32LE(Number(value), o);
        return;
      case "int32":
        this.offset = b.writeInt32LE(Number(value), o);
        return;
      case "float32":
        this.offset = b.writeFloatLE(Number(value), o);
        return;
      case "float64":
        this.offset = b.writeDoubleLE(Number(value), o);
        return;
      case "bool":
        this.offset = b.writeUInt8(value ? 1 : 0, o);
        return;
      case "uint64":
        this.offset = b.writeBigUInt64LE(BigInt(value as number | bigint), o);
        return;
      case "int64":
        this.offset = b.writeBigInt64LE(BigInt(value as number | bigint), o);
        return;
      case "string":
        this.string(String(value));
        return;
    }
  }
}

const SCALAR_SIZE: Record<Exclude<GgufScalarType, "string">, number> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

function scalarSize(type: GgufScalarType, value: unknown): number {
  return type === "string" ? 8 + encoder.encode(String(value)).length : SCALAR_SIZE[type];
}

function valueSize(value: GgufValue): number {
  if (value.type !== "array") return scalarSize(value.type, value.value);
  let size = 4 + 8;
  for (const item of value.value) size += scalarSize(value.itemType, item);
  return size;
}

const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;
const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
/** q4_0: blocks of 32 values, an f16 scale and 16 bytes of 4-bit quants each. */
const Q4_0_BLOCK = { values: 32, bytes: 18 } as const;
const tensorBytes = (t: GgufTensor) =>
  t.type === "q4_0"
    ? (elementCount(t.dims) / Q4_0_BLOCK.values) * Q4_0_BLOCK.bytes
    : elementCount(t.dims) * (t.type === "f32" ? 4 : 2);

/** Serializes a GGUF v3 file into one buffer. */
export function encodeGguf(file: GgufFile): Buffer {
  const alignment = file.alignment ?? 32;
  const metadata: Record<string, GgufValue> =
    alignment === 32 ? file.metadata : { ...file.metadata, "general.alignment": gguf.u32(alignment) };
  const entries = Object.entries(metadata);

  let headerSize = 4 + 4 + 8 + 8;
  for (const [key, value] of entries) headerSize += 8 + encoder.encode(key).length + 4 + valueSize(value);
  const offsets: number[] = [];
  let dataSize = 0;
  for (const tensor of file.tensors) {
    if (tensor.data.length !== elementCount(tensor.dims)) {
      throw new Error(
        `tensor ${tensor.name}: ${tensor.data.length} values for dims ${tensor.dims.join("x")}`,
      );
    }
    headerSize += 8 + encoder.encode(tensor.name).length + 4 + 8 * tensor.dims.length + 4 + 8;
    // Every tensor starts aligned relative to the data section (spec: offset % alignment == 0).
    dataSize = alignUp(dataSize, alignment);
    offsets.push(dataSize);
    dataSize += tensorBytes(tensor);
  }
  const dataStart = alignUp(headerSize, alignment);
  const sink = new ByteSink(Buffer.alloc(dataStart + alignUp(dataSize, alignment)));

  sink.u32(0x46554747); // "GGUF" read as a little-endian u32
  sink.u32(3);
  sink.u64(file.tensors.length);
  sink.u64(entries.length);
  for (const [key, value] of entries) {
    sink.string(key);
    sink.u32(VALUE_TYPE[value.type]);
    if (value.type === "array") {
      sink.u32(VALUE_TYPE[value.itemType]);
      sink.u64(value.value.length);
      for (const item of value.value) sink.scalar(value.itemType, item);
    } else {
      sink.scalar(value.type, value.value);
    }
  }
  file.tensors.forEach((tensor, i) => {
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(TENSOR_TYPE[tensor.type]);
    sink.u64(offsets[i] ?? 0);
  });

  file.tensors.forEach((tensor, i) => {
    const start = dataStart + (offsets[i] ?? 0);
    if (tensor.type === "f32") {
      Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).copy(
        sink.buffer,
        start,
      );
    } else if (tensor.type === "f16") {
      const halves = new Uint16Array(tensor.data.length);
      for (let j = 0; j < tensor.data.length; j++) halves[j] = toFloat16Bits(tensor.data[j] ?? 0);
      Buffer.from(halves.buffer).copy(sink.buffer, start);
    } else {
      quantizeQ4_0(tensor.data, sink.buffer, start);
    }
  });
  return sink.buffer;
}

/**
 * ggml's reference q4_0 quantizer (quantize_row_q4_0_ref): per block, the value of largest
 * magnitude, sign kept, maps to -8, so the scale is max / -8 and the quants use all of 0..15.
 */
function quantizeQ4_0(data: Float32Array, out: Buffer, start: number): void {
  const { values, bytes } = Q4_0_BLOCK;
  if (data.length % values !== 0)
    throw new Error(`q4_0 needs a multiple of ${values} values, got ${data.length}`);
  for (let block = 0; block < data.length / values; block++) {
    const x = data.subarray(block * values, (block + 1) * values);
    const at = start + block * bytes;
    let max = 0;
    for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
    const d = max / -8;
    const id = d === 0 ? 0 : 1 / d;
    out.writeUInt16LE(toFloat16Bits(d), at);
    const quant = (v: number) => Math.min(15, Math.trunc(v * id + 8.5));
    // Byte j holds value j in its low nibble and value j + 16 in its high nibble.
    for (let j = 0; j < values / 2; j++)
      out[at + 2 + j] = quant(x[j] ?? 0) | (quant(x[j + values / 2] ?? 0) << 4);
  }
}

export async function writeGguf(path: string, file: GgufFile): Promise<void> {
  await writeFile(path, encodeGguf(file));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE 754 binary32 → binary16 bits with round-to-nearest (Node 20 has no Float16Array). Covers
 * normals, subnormals, overflow to infinity and NaN — random weights are all in normal range, but a
 * silent wrong value would be hard to spot in a test model.
 */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mantissa | 0x800000) >>> (1 - e);
    return sign | ((m + 0x1000) >>> 13);
  }
  // Adding the rounding bit may carry into the exponent, which is exactly the right result.
  return (sign | (e << 10) | (mantissa >>> 13)) + ((mantissa >>> 12) & 1);
}
