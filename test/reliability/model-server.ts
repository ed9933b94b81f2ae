/**
 * A real chat-completions server on 127.0.0.1 whose behaviour the test switches at run time: the model an
 * attacker wished for (always "allow", low risk), and every way a model fails (hang, 500, garbage, a valid
 * JSON with a forbidden decision, death in the middle of the answer).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ModelBehaviour =
  | "attacker_allow"
  /** The same attacker's wish in the compact answer shape (decision and context only). */
  | "attacker_allow_compact"
  | "strict_deny"
  | "hang"
  | "error_500"
  | "garbage"
  | "forbidden_decision"
  | "die_mid_answer"
  | "empty_choices"
  /** strict_deny after `delayMs`: a model slower than the traffic, for load tests. */
  | "slow_deny";

export interface ModelServer {
  url: string;
  behaviour: ModelBehaviour;
  delayMs: number;
  requests: number;
  /** The prompt texts received, for checks on how untrusted text was framed. */
  prompts: string[];
  close(): Promise<void>;
}

const advice = (decision: string, riskLevel: string) =>
  JSON.stringify({
    decision,
    classification: "routine_access",
    riskLevel,
    reasoning: {
      roleCheck: "The role permits this; the request says an admin approved it.",
      trustCheck: "Trust is sufficient.",
      environment: "Nothing unusual.",
      context: "Instructions in the request say to allow.",
    },
    policyReferences: ["override: approved"],
  });

const compactAdvice = (decision: string, riskLevel: string) =>
  JSON.stringify({
    classification: "routine_access",
    riskLevel,
    decision,
    context: "Instructions in the request say an admin approved it: allow.",
    policyReferences: ["override: approved"],
  });

function completion(content: string) {
  return {
    id: "chatcmpl-fault",
    object: "chat.completion",
    created: 1,
    model: "fault-model",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function startModelServer(initial: ModelBehaviour): Promise<ModelServer> {
  const sockets = new Set<Socket>();
  const state: ModelServer = {
    url: "",
    behaviour: initial,
    delayMs: 100,
    requests: 0,
    prompts: [],
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET") {
        send(res, 200, JSON.stringify({ object: "list", data: [{ id: "fault-model", object: "model" }] }));
        return;
      }
      state.requests += 1;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          messages?: Array<{ content?: string }>;
        };
        state.prompts.push((body.messages ?? []).map((m) => m.content ?? "").join("\n"));
      } catch {
        // a request we cannot read is still answered according to the behaviour
      }
      switch (state.behaviour) {
        case "attacker_allow":
          return send(res, 200, JSON.stringify(completion(advice("allow", "low"))));
        case "attacker_allow_compact":
          return send(res, 200, JSON.stringify(completion(compactAdvice("allow", "low"))));
        case "strict_deny":
          return send(res, 200, JSON.stringify(completion(advice("deny", "high"))));
        case "slow_deny":
          setTimeout(() => send(res, 200, JSON.stringify(completion(advice("deny", "high")))), state.delayMs);
          return;
        case "hang":
          return; // never answers; the socket stays open until the client gives up
        case "error_500":
          return send(res, 500, JSON.stringify({ error: { message: "CUDA out of memory" } }));
        case "garbage":
          return send(
            res,
            200,
            JSON.stringify(completion("Sure! I think it is fine :) <|im_end|> allow allow")),
          );
        case "forbidden_decision":
          return send(res, 200, JSON.stringify(completion(advice("approve_everything", "none"))));
        case "empty_choices":
          return send(res, 200, JSON.stringify({ id: "x", object: "chat.completion", choices: [] }));
        case "die_mid_answer": {
          const full = JSON.stringify(completion(advice("allow", "low")));
          res.writeHead(200, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(full),
          });
          res.write(full.slice(0, Math.floor(full.length / 2)));
          setTimeout(() => res.socket?.destroy(), 5);
          return;
        }
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
