import { describe, expect, it } from "vitest";
import { encodeTensor, toHalf } from "../../src/testing/gguf/encode.js";
import { GgmlType } from "../../src/testing/gguf/format.js";

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

describe("GGUF tensor encoding", () => {
  it("converts to IEEE half precision exactly where representable and rounds to nearest otherwise", () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(0.5)).toBe(0x3800);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00); // overflow -> infinity
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(0)).toBe(0);
    for (const x of [0.1, -Math.PI, 0.02, 1e-5, 123.456]) {
      expect(Math.abs(fromHalf(toHalf(x)) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25);
    }
  });

  it("quantises Q8_0 blocks of 32 as scale + int8, within half a quantisation step", () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * (i < 32 ? 0.05 : 3));
    const buf = encodeTensor(values, GgmlType.Q8_0);
    expect(buf.length).toBe(2 * 34);
    for (let b = 0; b < 2; b++) {
      const d = fromHalf(buf.readUInt16LE(b * 34));
      for (let i = 0; i < 32; i++) {
        const x = values[b * 32 + i]!;
        const q = buf.readInt8(b * 34 + 2 + i);
        expect(Math.abs(q)).toBeLessThanOrEqual(127);
        expect(Math.abs(q * d - x)).toBeLessThanOrEqual(d * 0.5 + Math.abs(x) * 2 ** -10);
      }
    }
  });
});
