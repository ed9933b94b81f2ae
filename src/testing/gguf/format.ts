/**
 * The bits of the GGUF v3 container format the synthetic model writer needs.
 * Spec: ggml/docs/gguf.md (magic "GGUF", version, counts, metadata key/values, tensor infos, aligned data).
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** Tensor element types (ggml_type) the writer can produce. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q8_0: 8,
} as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** Q8_0: blocks of 32 values, each an f16 scale and 32 int8 quants (34 bytes). */
export const Q8_0_BLOCK = 32;

/** Bytes a tensor of `count` elements takes on disk. */
export function tensorBytes(t: GgmlTypeId, count: number): number {
  if (t === GgmlType.F32) return count * 4;
  if (t === GgmlType.F16) return count * 2;
  return (count / Q8_0_BLOCK) * 34;
}

/** A metadata value with its GGUF type made explicit (JS numbers alone cannot say u32 vs f32). */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "f32[]"; value: readonly number[] }
  | { type: "i32[]"; value: readonly number[] };

export const u32 = (value: number): GgufValue => ({ type: "u32", value });
export const f32 = (value: number): GgufValue => ({ type: "f32", value });
export const str = (value: string): GgufValue => ({ type: "string", value });
export const bool = (value: boolean): GgufValue => ({ type: "bool", value });

export interface TensorSpec {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: readonly number[];
  type: GgmlTypeId;
  /** Fills `out` (length = element count) with the tensor's values. */
  fill(out: Float32Array): void;
}

export const elementCount = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
