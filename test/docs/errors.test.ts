import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CodedError, ERROR_CODES, type ErrorCode } from "../../src/schemas/error-codes.js";
import { errorAnswer, HTTP_STATUS, isAnswered } from "../../src/server/errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");

/** The table rows of docs/errors.md: code → status and whether a caller sees it. */
const rows = new Map(
  [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (answered|internal) \|/gm)].map((m) => [
    m[1]!,
    { status: Number(m[2]), answered: m[3] === "answered" },
  ]),
);

describe("docs/errors.md lists every error code", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it.each(codes)("%s is documented with its status and visibility", (code) => {
    expect(rows.get(code), `docs/errors.md has no row for ${code}`).toEqual({
      status: HTTP_STATUS[code],
      answered: isAnswered(new CodedError(code, "x")),
    });
  });

  it("documents no code that does not exist", () => {
    expect([...rows.keys()].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it("answers an error of ours with its code and status, anything else as internal without detail", () => {
    const ours = errorAnswer(new CodedError("unknown_tier", 'unknown tier "x"'));
    expect(ours).toMatchObject({ status: 404, body: { error: { code: "unknown_tier" } } });
    const model = errorAnswer(new CodedError("network", "connect ECONNREFUSED 10.0.0.7:8080"));
    expect(model).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: "internal", message: "internal error; see the service log" } },
    });
    expect(errorAnswer(new TypeError("x is undefined")).status).toBe(500);
  });
});
