import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MASKED, Masker } from "../../src/store/index.js";
import { type ChatServer, completion, sendJson, startChatServer } from "../llm/openai/chat-server.js";
import { loose, post } from "./helpers.js";
import { serveChild } from "./serve-child.js";

/**
 * Masking that holds: a distinct secret in every field of both request shapes, masked by a list that
 * names half the fields in snake_case (situation) and half in camelCase (R6Request), sent through the real
 * service (rules engine, then a model that echoes the request into its answer or its error). No secret may
 * be found afterwards in the database file and its WAL, in the service's log, or by the log's search.
 */
const dir = mkdtempSync(join(tmpdir(), "pa-mask-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secret = (field: string): string => `s3cr3t-${field}-${randomBytes(6).toString("hex")}`;

/** Trust scores the rules quote (as 0.81 for 0.8137): distinct per request, none a round number. */
const numbers = {
  situation: { competence: 0.8137, reliability: 0.7919, integrity: 0.9173, d9: 0.6271, rate: 0.1733 },
  r6: { competence: 0.8261, reliability: 0.7843, integrity: 0.9352, d9: 0.6384, rate: 0.1622 },
};

/**
 * `known`: a real role and action, so that the rules are not decisive and the model is asked (an unknown
 * role is denied by the rules alone); those two are then masked but not secret.
 */
function situation(known = false) {
  const n = numbers.situation;
  const s = {
    request_id: secret("request_id"),
    actor_id: `user:${secret("actor_id")}`,
    actor_role: known ? "developer" : secret("actor_role"),
    action_type: known ? "commit" : secret("action_type"),
    resource: `prod/${secret("resource")}`,
    parameters: { password: secret("parameters.password") },
    session_id: secret("session_id"),
    previous_actions: [secret("previous_actions")],
    intent: `ship ${secret("intent")} today`,
    t3_tensor: { competence: n.competence, reliability: n.reliability, integrity: n.integrity },
    coherence_state: { d9_score: n.d9, self_reference_rate: n.rate },
    timestamp: "2026-03-03T15:07:41.123Z",
    details: `the password is ${secret("details")} for now`,
    team_context: `Team note: ${secret("team_context")}`,
    recent_history: [`deployed ${secret("recent_history")}`],
    identity_metrics: { level: secret("identity_metrics.level") },
    ticket_note: secret("ticket_note"),
  };
  return s;
}

function r6(known = false) {
  const n = numbers.r6;
  return {
    requestId: secret("requestId"),
    actorId: `user:${secret("actorId")}`,
    actorRole: known ? "developer" : secret("actorRole"),
    action: {
      type: known ? "commit" : secret("action.type"),
      target: `prod/${secret("action.target")}`,
      parameters: { password: secret("action.parameters.password") },
      description: `rotate ${secret("action.description")} keys`,
    },
    context: {
      sessionId: secret("context.sessionId"),
      previousActions: [secret("context.previousActions")],
      intent: `because ${secret("context.intent")}`,
    },
    trustState: { competence: n.competence, reliability: n.reliability, integrity: n.integrity },
    coherenceState: { d9Score: n.d9, selfReferenceRate: n.rate },
    timestamp: "2026-03-04T09:11:52.987Z",
    extensions: {
      team_context: `Team note: ${secret("extensions.team_context")}`,
      recent_history: [`deployed ${secret("extensions.recent_history")}`],
      identity_metrics: { level: secret("extensions.identity_metrics.level") },
    },
    ticketNote: secret("ticketNote"),
  };
}

/** Every field: half by its situation name, half by its R6Request name; each covers both shapes. */
const MASK = [
  "request_id",
  "actor_id",
  "action_type",
  "parameters.password",
  "previous_actions",
  "t3_tensor",
  "coherence_state",
  "details",
  "team_context",
  "ticket_note",
  "actorRole",
  "action.target",
  "context.sessionId",
  "context.intent",
  "timestamp",
  "extensions.recent_history",
  "extensions.identity_metrics",
  "ticketNote",
];

/** Every string and number planted in a request. */
function plantedValues(
  v: unknown,
  out: { strings: string[]; numbers: number[] } = { strings: [], numbers: [] },
) {
  if (typeof v === "string") {
    const planted =
      v.match(/s3cr3t-[\w.-]+-[0-9a-f]{12}/)?.[0] ?? (/^\d{4}-\d\d-\d\dT/.test(v) ? v : undefined);
    if (planted) out.strings.push(planted);
  } else if (typeof v === "number") out.numbers.push(v);
  else if (Array.isArray(v)) for (const x of v) plantedValues(x, out);
  else if (typeof v === "object" && v !== null) for (const x of Object.values(v)) plantedValues(x, out);
  return out;
}

/** Finds each planted value in a text: strings as they are, numbers as written or rounded to 2+ decimals. */
function leaks(text: string, planted: { strings: string[]; numbers: number[] }): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const s of planted.strings) if (lower.includes(s.toLowerCase())) found.push(s);
  for (const n of planted.numbers) {
    for (const form of [String(n), n.toFixed(2), n.toFixed(3)]) {
      const re = new RegExp(`(?<![\\w.])${form.replace(".", "\\.")}(?![\\w]|\\.\\d)`);
      if (re.test(text)) found.push(`${n} as ${form}`);
    }
  }
  return found;
}

const fileText = (path: string): string => (existsSync(path) ? readFileSync(path).toString("latin1") : "");

/** A model server that quotes the whole prompt in its answer; with `fail`, in an error instead. */
async function echoModel(): Promise<ChatServer & { fail: boolean }> {
  const state = { fail: false };
  const server = await startChatServer((req, _n, res) => {
    const messages = (req.body.messages ?? []) as { content?: string }[];
    const prompt = messages.map((m) => m.content ?? "").join("\n");
    if (state.fail) {
      // The request part first: the service keeps the first 300 characters of an error answer.
      const request = messages.at(-1)?.content ?? "";
      sendJson(res, 500, { error: { message: `cannot handle ${request.slice(request.indexOf("{"))}` } });
      return;
    }
    const echo = `You asked: ${prompt}`;
    sendJson(
      res,
      200,
      completion(
        JSON.stringify({
          classification: "echoed_request",
          riskLevel: "high",
          decision: "require_attestation",
          context: echo,
          reasoning: { roleCheck: echo, trustCheck: echo, environment: echo, context: echo },
          policyReferences: [echo.slice(0, 400)],
        }),
      ),
    );
  });
  // Accessors, not a copied value: the test switches the behaviour while the server runs.
  Object.defineProperty(server, "fail", { get: () => state.fail, set: (v: boolean) => (state.fail = v) });
  return server as ChatServer & { fail: boolean };
}

describe("masking holds across the whole record and the log", () => {
  let rollout: string;
  beforeAll(() => {
    rollout = join(dir, "rollout.yaml");
    writeFileSync(rollout, `mask:\n${MASK.map((m) => `  - ${JSON.stringify(m)}`).join("\n")}\n`);
  });

  /** `during` sends more requests and returns them. */
  const run = async (
    name: string,
    engineArgs: string[],
    known: boolean,
    during?: (url: string) => Promise<unknown[]>,
  ) => {
    const db = join(dir, `${name}.db`);
    const svc = await serveChild([
      "--db",
      db,
      "--rollout",
      rollout,
      "--mode",
      "enforce",
      "--log-level",
      "debug",
      "--retain",
      "off",
      ...engineArgs,
    ]);
    const sent: unknown[] = [situation(known), r6(known), situation(known), r6(known)];
    const planted = plantedValues(sent);
    try {
      for (const body of sent) {
        const r = await post(`${svc.url}/v1/advisory`, body);
        expect(r.status, await r.clone().text()).toBe(200);
      }
      const more = (await during?.(svc.url)) ?? [];
      sent.push(...more);
      const extra = plantedValues(more);
      planted.strings.push(...extra.strings);
      planted.numbers.push(...extra.numbers);
      // The log's own search finds nothing by any secret.
      for (const s of planted.strings.slice(0, 40)) {
        const found = loose(await (await fetch(`${svc.url}/v1/decisions?q=${encodeURIComponent(s)}`)).json());
        expect({ s, found: found.total }).toEqual({ s, found: 0 });
      }
      const records = loose(await (await fetch(`${svc.url}/v1/decisions?limit=100`)).json()).items;
      expect(records.length).toBe(sent.length);
      // While it runs: the database file and its WAL.
      expect({ db: leaks(fileText(db) + fileText(`${db}-wal`), planted) }).toEqual({ db: [] });
      expect({ records: leaks(JSON.stringify(records), planted) }).toEqual({ records: [] });
      // The masked fields read as masked in both shapes.
      const inputs = records.map((r: { input: unknown }) => r.input);
      const sit = inputs.find((i: Record<string, unknown>) => "t3_tensor" in i);
      const req = inputs.find((i: Record<string, unknown>) => "trustState" in i);
      expect(sit.t3_tensor).toBe(MASKED);
      expect(req.trustState).toBe(MASKED);
      expect(sit.actor_id).toBe(MASKED);
      expect(req.actorId).toBe(MASKED);
    } finally {
      await svc.stop();
    }
    // After shutdown: the file the WAL was checkpointed into, and every line the service logged.
    expect({ dbAfter: leaks(fileText(db) + fileText(`${db}-wal`), planted) }).toEqual({ dbAfter: [] });
    expect(svc.lines().length).toBeGreaterThan(4);
    expect({ log: leaks(svc.stdout(), planted) }).toEqual({ log: [] });
    return svc;
  };

  it("with the rules engine", async () => {
    const svc = await run("rules", ["--engine", "rules"], false);
    expect(svc.lines().filter((l) => l.msg === "decision").length).toBe(4);
  }, 60_000);

  it("with a model that echoes the request in its answer and in its errors", async () => {
    const model = await echoModel();
    try {
      const svc = await run("llm", ["--engine", "llm", "--llm-url", `${model.url}/v1`], true, async (url) => {
        // Now the model fails, quoting the request in its error: a fallback whose detail is that error.
        model.fail = true;
        const failing = [situation(true), r6(true)];
        for (const body of failing) {
          const r = await post(`${url}/v1/advisory`, body);
          expect(r.status).toBe(200);
          const answer = loose(await r.json());
          expect(answer.source).toBe("fallback");
          // The failure's detail quotes the request as the model echoed it: that is what must not be stored.
          expect(answer.fallbackCause).toContain("s3cr3t-");
        }
        model.fail = false;
        return failing;
      });
      expect(model.received.length).toBeGreaterThanOrEqual(4);
      // The model did see the secrets (so the log could have had them).
      expect(JSON.stringify(model.received[0]?.body)).toContain("s3cr3t-");
      expect(svc.stdout()).toContain('"msg":"decision"');
    } finally {
      await model.close();
    }
  }, 90_000);
});

describe("Masker", () => {
  it("scrubs masked values from free text: case, whitespace runs, JSON escapes, cut-off quotes, rounded numbers", () => {
    const m = new Masker(["t3_tensor", "parameters.token"]);
    const input = {
      t3_tensor: { competence: 0.8137, reliability: 0.5, integrity: 0.9 },
      parameters: { token: 'Tok "en" value   here' },
    };
    const s = m.secretsOf(input);
    expect(
      m.scrubText("competence 0.81, reliability 0.50, integrity 0.9; threshold 0.7, 10.81, 0.814", s),
    ).toBe(
      `competence ${MASKED}, reliability ${MASKED}, integrity ${MASKED}; threshold 0.7, 10.81, ${MASKED}`,
    );
    expect(m.scrubText('quoted: tok "EN" value here', s)).toBe(`quoted: ${MASKED}`);
    expect(m.scrubText('as JSON: {"token":"Tok \\"en\\" value   here"}', s)).toBe(
      `as JSON: {"token":"${MASKED}"}`,
    );
    expect(m.scrubText('answered 500: ... Tok "en" va', s)).toBe(`answered 500: ... ${MASKED}`);
  });

  it("a mask on either shape's name covers the other shape", () => {
    const bySituation = new Masker(["t3_tensor", "details", "team_context"]);
    expect(
      bySituation.maskFields({
        trustState: { competence: 1 },
        action: { type: "read", description: "x" },
        extensions: { team_context: "y" },
      }),
    ).toEqual({
      trustState: MASKED,
      action: { type: "read", description: MASKED },
      extensions: { team_context: MASKED },
    });
    const byR6 = new Masker(["trustState", "action.parameters.password", "context"]);
    expect(
      byR6.maskFields({
        t3_tensor: { competence: 1 },
        parameters: { password: "p", keep: 1 },
        intent: "i",
        session_id: "s",
        action_type: "read",
      }),
    ).toEqual({
      t3_tensor: MASKED,
      parameters: { password: MASKED, keep: 1 },
      intent: MASKED,
      session_id: MASKED,
      action_type: "read",
    });
  });
});
