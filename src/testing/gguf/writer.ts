import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { ByteWriter, encodeTensor, writeValue } from "./encode.js";
import {
  elementCount,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  type GgufValue,
  type TensorSpec,
  tensorBytes,
} from "./format.js";

export interface GgufContent {
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly TensorSpec[];
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor's data at an aligned offset.
 * Tensors are generated and written one at a time so a few hundred MB never sit in memory at once.
 * The file appears under its final name only when complete (written to FILE.partial, then renamed).
 * Returns the file size in bytes.
 */
export function writeGguf(path: string, content: GgufContent): number {
  const alignment = GGUF_DEFAULT_ALIGNMENT;
  const head = new ByteWriter();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(content.tensors.length);
  head.u64(content.metadata.length);
  for (const [key, value] of content.metadata) {
    head.string(key);
    writeValue(head, value);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of content.tensors) {
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offsets.push(offset);
    offset = align(offset + tensorBytes(t.type, elementCount(t.dims)), alignment);
  }
  head.padTo(alignment);

  const partial = `${path}.partial`;
  const fd = openSync(partial, "w");
  try {
    let pos = 0;
    const put = (b: Buffer): void => {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done, pos + done);
      pos += b.length;
    };
    put(head.bytes());
    const dataStart = pos;
    content.tensors.forEach((t, i) => {
      const target = dataStart + offsets[i]!;
      if (pos < target) put(Buffer.alloc(target - pos));
      const values = new Float32Array(elementCount(t.dims));
      t.fill(values);
      put(encodeTensor(values, t.type));
    });
    const end = dataStart + offset;
    if (pos < end) put(Buffer.alloc(end - pos));
    closeSync(fd);
    renameSync(partial, path);
    return end;
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(partial);
    } catch {
      // nothing to clean up
    }
    throw err;
  }
}
