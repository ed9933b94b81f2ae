import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isRefused, type LoadedSuite } from "../eval/suite.js";
import { safeJson, situationForPrompt } from "../prompts/render.js";
import type { DecisionValue } from "../schemas/common.js";

/**
 * Interpreter test servers: OpenAI-compatible chat-completions servers that stand in for a model whose
 * answers are known, so that hybrid routing and guard rails can be measured without weights.
 *
 * - `oracle`: answers each scenario's expected decision (a perfect interpreter). It recognises the
 *   scenario by the request JSON the prompt carries; a prompt it cannot place gets require_attestation.
 * - `always-allow`: answers allow to everything (the worst interpreter a guard rail must survive).
 *
 * Neither says anything about a real model's quality: they measure what the pipeline does with answers.
 */
export type InterpreterAnswer = "oracle" | "always-allow";
export const INTERPRETER_ANSWERS: readonly InterpreterAnswer[] = ["oracle", "always-allow"];

export interface InterpreterServer {
  url: string;
  answer: InterpreterAnswer;
  stats: { requests: number; matched: number; unmatched: number };
  close(): Promise<void>;
}

interface Expected {
  decision: DecisionValue;
  riskLevel: string;
  classification: string;
}

const CONTEXT: Record<DecisionValue, string> = {
  allow: "Routine for this actor: the request fits the role, the trust and the stated purpose.",
  require_attestation: "A person should attest to this request before it proceeds.",
  deny: "This request should not proceed.",
};

/** The scenarios' requests as the prompt renders them, each with its expected answer. */
function index(suite: LoadedSuite | undefined): Map<string, Expected> {
  const out = new Map<string, Expected>();
  if (!suite) return out;
  suite.suite.scenarios.forEach((sc, i) => {
    const req = suite.requests[i]!;
    if (isRefused(req)) return;
    out.set(safeJson(situationForPrompt(req.situation)), {
      decision: sc.expected.decision,
      riskLevel: sc.expected.riskLevel ?? "medium",
      classification: sc.expected.classification ?? `expected_${sc.expected.decision}`,
    });
  });
  return out;
}

function promptText(body: unknown): string {
  const messages = (body as { messages?: Array<{ content?: unknown }> } | null)?.messages;
  if (!Array.isArray(messages)) return "";
  return messages.map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startInterpreterServer(opts: {
  answer: InterpreterAnswer;
  suite?: LoadedSuite;
  port?: number;
}): Promise<InterpreterServer> {
  if (opts.answer === "oracle" && !opts.suite)
    throw new Error("the oracle interpreter needs a scenario suite");
  const known = index(opts.suite);
  const stats = { requests: 0, matched: 0, unmatched: 0 };
  const answerFor = (prompt: string): Expected => {
    if (opts.answer === "always-allow")
      return { decision: "allow", riskLevel: "low", classification: "routine_request" };
    for (const [key, expected] of known) {
      if (prompt.includes(key)) {
        stats.matched++;
        return expected;
      }
    }
    stats.unmatched++;
    return { decision: "require_attestation", riskLevel: "medium", classification: "unrecognised_request" };
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 4 * 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        reply(res, 200, { object: "list", data: [{ id: `interpreter-${opts.answer}`, object: "model" }] });
        return;
      }
      if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) {
        reply(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        reply(res, 400, { error: { message: "body is not JSON" } });
        return;
      }
      stats.requests++;
      const e = answerFor(promptText(body));
      const content = JSON.stringify({
        classification: e.classification,
        riskLevel: e.riskLevel,
        decision: e.decision,
        context: CONTEXT[e.decision],
      });
      reply(res, 200, {
        id: `chatcmpl-${stats.requests}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: `interpreter-${opts.answer}`,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answer: opts.answer,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
