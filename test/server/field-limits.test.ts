import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ID_CHARS, MAX_TEXT_CHARS } from "../../src/schemas/limits.js";
import { post, readR6, readSituation, startTestServer, type TestServer } from "./helpers.js";

/** Field length caps (docs/server.md, "Field lengths"), through the HTTP API with the default body limit. */

interface ErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

const TEXT = MAX_TEXT_CHARS; // 16,384
const ID = MAX_ID_CHARS; // 256

describe("free-text and identifier length caps over HTTP", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: "enforce" });
  });
  afterAll(async () => {
    await s.close();
  });

  async function refused(body: unknown): Promise<ErrorBody["error"]> {
    const res = await post(`${s.url}/v1/advisory`, body);
    expect(res.status).toBe(400);
    return ((await res.json()) as ErrorBody).error;
  }

  const accepted = async (body: unknown) =>
    expect((await post(`${s.url}/v1/advisory`, body)).status).toBe(200);

  it("the caps are the documented ones", () => {
    expect([TEXT, ID]).toEqual([16 * 1024, 256]);
  });

  it.each(["team_context", "recent_history", "details", "intent"])(
    "situation %s: 16 KiB passes, one more character is a 400 naming the field and the limit",
    async (field) => {
      await accepted({ ...readSituation, [field]: "a ".repeat(TEXT / 2) });
      const error = await refused({ ...readSituation, [field]: "a".repeat(TEXT + 1) });
      expect(error.code).toBe("invalid_request");
      expect(error.issues).toEqual([
        { path: field, message: `expected at most 16384 characters, got ${TEXT + 1}` },
      ]);
      expect(error.message).toContain(`${field}: expected at most 16384 characters`);
    },
  );

  it.each(["actor_id", "action_type", "resource", "actor_role", "request_id", "session_id"])(
    "situation %s: 256 characters pass, 257 are a 400 naming the field and the limit",
    async (field) => {
      const base = { ...readSituation, [field]: "a".repeat(ID) };
      const res = await post(`${s.url}/v1/advisory`, base);
      expect(res.status).toBe(200);
      const error = await refused({ ...readSituation, [field]: "a".repeat(ID + 1) });
      expect(error.issues).toEqual([
        { path: field, message: `expected at most 256 characters, got ${ID + 1}` },
      ]);
    },
  );

  it("a history sent as a list counts all its entries together", async () => {
    await accepted({ ...readSituation, recent_history: ["a".repeat(TEXT / 2), "b".repeat(TEXT / 2)] });
    const error = await refused({
      ...readSituation,
      recent_history: ["a".repeat(TEXT / 2), "b".repeat(TEXT / 2 + 1)],
    });
    expect(error.issues).toEqual([
      {
        path: "recent_history",
        message: `expected at most 16384 characters in all entries together, got ${TEXT + 1}`,
      },
    ]);
  });

  it("unknown extra fields and free-form records get the free-text cap at any depth", async () => {
    await accepted({
      ...readSituation,
      approval_pending: "a".repeat(TEXT),
      details: { note: "b".repeat(TEXT) },
    });
    const error = await refused({
      ...readSituation,
      approval_pending: "a".repeat(TEXT + 1),
      details: { notes: ["ok", "b".repeat(TEXT + 1)] },
      parameters: { deep: { deeper: "c".repeat(TEXT + 1) } },
      identity_metrics: { trend: "declining", comment: "d".repeat(TEXT + 1) },
    });
    expect(error.issues?.map((i) => i.path).sort()).toEqual([
      "approval_pending",
      "details.notes[1]",
      "identity_metrics.comment",
      "parameters.deep.deeper",
    ]);
    for (const i of error.issues ?? [])
      expect(i.message).toBe(`expected at most 16384 characters, got ${TEXT + 1}`);
  });

  it("R6Request fields have the same caps, named by their paths", async () => {
    await accepted({
      ...readR6,
      action: { ...readR6.action, description: "a".repeat(TEXT) },
      context: { intent: "b".repeat(TEXT) },
    });
    const error = await refused({
      ...readR6,
      actorId: "u".repeat(ID + 1),
      action: { ...readR6.action, target: "t".repeat(ID + 1), description: "a".repeat(TEXT + 1) },
      context: {
        intent: "b".repeat(TEXT + 1),
        previousActions: ["c".repeat(TEXT + 1)],
        ticket: "d".repeat(TEXT + 1),
      },
      extra: { note: "e".repeat(TEXT + 1) },
    });
    expect(error.issues?.map((i) => i.path).sort()).toEqual([
      "action.description",
      "action.target",
      "actorId",
      "context.intent",
      "context.previousActions",
      "context.ticket",
      "extra.note",
    ]);
    expect(error.issues?.find((i) => i.path === "actorId")?.message).toBe(
      `expected at most 256 characters, got ${ID + 1}`,
    );
  });

  it("inside an envelope and a batch the path starts at the request", async () => {
    const one = await refused({ request: { ...readSituation, team_context: "a".repeat(TEXT + 1) } });
    expect(one.issues?.[0]?.path).toBe("request.team_context");
    const res = await post(`${s.url}/v1/advisory/batch`, {
      requests: [readSituation, { ...readSituation, intent: "a".repeat(TEXT + 1) }],
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Array<{ decision?: string } & Partial<ErrorBody>> };
    expect(results[0]?.decision).toBe("allow");
    expect(results[1]?.error?.issues?.[0]).toMatchObject({ path: "requests[1].intent" });
  });

  it("the whole body keeps its limit: many fields under their caps still get 413 past it", async () => {
    const fields = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`note_${i}`, "a".repeat(TEXT)]));
    const res = await post(`${s.url}/v1/advisory`, { ...readSituation, ...fields });
    expect(res.status).toBe(413);
  });
});
