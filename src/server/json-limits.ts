import { Transform } from "node:stream";

/**
 * Bounds on a JSON body's shape, checked on the bytes as they arrive, before JSON.parse. Within the size
 * limit a body can still cost the parser a tenth of a second of the event loop that every other client
 * waits on: half a megabyte of "[" parses into 500 000 nested arrays (about 120 ms here), 100 000 keys
 * into an object the validators then walk (about 100 ms). The scan costs a few milliseconds per
 * megabyte and refuses those at the first byte past a limit, before the rest is even read.
 */

/** Deepest nesting of a body: a request may nest 32 levels (MAX_REQUEST_DEPTH), plus a batch envelope. */
export const MAX_BODY_DEPTH = 40;
/** Most JSON values (objects, arrays and the items in them) in one body: a full batch has a few thousand. */
export const MAX_BODY_VALUES = 20_000;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface JsonShapeLimits {
  maxDepth: number;
  maxValues: number;
}

/**
 * An incremental scan of JSON bytes: depth and value count outside strings. UTF-8 continuation bytes
 * are all >= 0x80, so a byte-wise scan never mistakes part of a character for a bracket. Malformed JSON
 * is left to the parser, which says so itself.
 */
export class JsonShapeScanner {
  private depth = 0;
  private values = 1;
  private inString = false;
  private escaped = false;

  constructor(
    private readonly limits: JsonShapeLimits = { maxDepth: MAX_BODY_DEPTH, maxValues: MAX_BODY_VALUES },
  ) {}

  /** What is wrong so far, naming the limit; undefined while within both. */
  feed(chunk: Uint8Array): string | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (++this.depth > this.limits.maxDepth)
          return `the body is nested more than ${this.limits.maxDepth} levels deep`;
        this.values++;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) this.depth--;
      else if (c === COMMA && ++this.values > this.limits.maxValues) {
        return `the body has more than ${this.limits.maxValues} JSON values (objects, arrays and their items)`;
      }
    }
    return undefined;
  }
}

/** The whole text's problem, if any (for callers that hold the body already). */
export function jsonShapeProblem(text: string, limits?: JsonShapeLimits): string | undefined {
  return new JsonShapeScanner(limits).feed(Buffer.from(text));
}

/**
 * A pass-through stream for a request body that fails with `toError(problem)` at the first chunk that
 * breaks a limit: the body parser then answers that error and reads no further.
 */
export function shapeCheckedStream(toError: (problem: string) => Error, limits?: JsonShapeLimits): Transform {
  const scanner = new JsonShapeScanner(limits);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const problem = scanner.feed(chunk);
      if (problem) callback(toError(problem));
      else callback(null, chunk);
    },
  });
}
