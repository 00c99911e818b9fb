/** The test-model writer against node-llama-cpp's own GGUF reader. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { encodeGguf, gguf, toFloat16Bits, writeGguf } from "../../helpers/gguf/gguf-writer.js";

describe("GGUF writer", () => {
  it("writes metadata of every type and aligned tensors that a real reader reads back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiservice-gguf-writer-"));
    try {
      const path = join(dir, "all-types.gguf");
      await writeGguf(path, {
        metadata: {
          "general.architecture": gguf.str("llama"),
          "t.u8": { type: "uint8", value: 200 },
          "t.i8": { type: "int8", value: -100 },
          "t.u16": { type: "uint16", value: 60_000 },
          "t.i16": { type: "int16", value: -30_000 },
          "t.u32": gguf.u32(4_000_000_000),
          "t.i32": gguf.i32(-2_000_000_000),
          "t.f32": gguf.f32(0.5),
          "t.f64": { type: "float64", value: 1e-300 },
          "t.bool": gguf.bool(true),
          "t.u64": gguf.u64(2n ** 40n),
          "t.i64": { type: "int64", value: -(2n ** 40n) },
          "t.strings": gguf.strings(["a", "ü", ""]),
          "t.i32s": gguf.i32s([1, -2, 3]),
        },
        tensors: [
          { name: "a", dims: [3], type: "f32", data: new Float32Array([1, 2, 3]) },
          { name: "b", dims: [2, 2], type: "f16", data: new Float32Array([1, -2, 0.5, 0]) },
        ],
      });
      const info = await readGgufFileInfo(path, { logWarnings: false });
      const t = (info.metadata as unknown as { t: Record<string, unknown> }).t;
      expect(t).toMatchObject({
        u8: 200,
        i8: -100,
        u16: 60_000,
        i16: -30_000,
        u32: 4_000_000_000,
        i32: -2_000_000_000,
      });
      expect(t).toMatchObject({
        f32: 0.5,
        f64: 1e-300,
        bool: true,
        strings: ["a", "ü", ""],
        i32s: [1, -2, 3],
      });
      expect(BigInt(t.u64 as bigint)).toBe(2n ** 40n);
      expect(BigInt(t.i64 as bigint)).toBe(-(2n ** 40n));
      expect(info.tensorInfo?.map((x) => [x.name, x.dimensions.map(Number), Number(x.offset)])).toEqual([
        ["a", [3], 0],
        ["b", [2, 2], 32], // 12 bytes of "a", padded to the 32-byte alignment
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("converts float32 to float16 bits", () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00); // overflow → infinity
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toFloat16Bits(0)).toBe(0);
  });

  it("quantizes q4_0 blocks exactly as ggml's reference quantizer", async () => {
    // One block of 32 values -8, -7.5, …, 7.5: the largest magnitude is -8, so the scale is
    // -8 / -8 = 1 and each value v becomes trunc(v + 8.5), clamped to 15.
    const values = Float32Array.from({ length: 32 }, (_, j) => (j - 16) / 2);
    const file = encodeGguf({
      metadata: {},
      tensors: [{ name: "q", dims: [32], type: "q4_0", data: values }],
    });
    const quant = (j: number) => Math.min(15, Math.trunc((j - 16) / 2 + 8.5));
    const expected = Buffer.alloc(18);
    expected.writeUInt16LE(toFloat16Bits(1), 0);
    for (let j = 0; j < 16; j++) expected[2 + j] = quant(j) | (quant(j + 16) << 4);
    // The tensor data is the file's last 32-byte-aligned section.
    const data = file.subarray(file.length - 32, file.length - 32 + 18);
    expect([...data]).toEqual([...expected]);
    expect(data[2]).toBe(0x80); // value 0 (-8) → 0 in the low nibble, value 16 (0) → 8 in the high one

    const dir = await mkdtemp(join(tmpdir(), "aiservice-gguf-writer-"));
    try {
      const path = join(dir, "q4.gguf");
      await writeGguf(path, {
        metadata: { "general.architecture": gguf.str("llama") },
        tensors: [{ name: "q", dims: [64, 2], type: "q4_0", data: new Float32Array(128).fill(0.25) }],
      });
      const info = await readGgufFileInfo(path, { logWarnings: false });
      expect(info.tensorInfo?.map((x) => [x.name, x.ggmlType])).toEqual([["q", 2]]); // GGML_TYPE_Q4_0
      expect(() =>
        encodeGguf({
          metadata: {},
          tensors: [{ name: "odd", dims: [40], type: "q4_0", data: new Float32Array(40) }],
        }),
      ).toThrow(/multiple of 32/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
