import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ModelServer {
  url: string;
  /** Chat requests received so far. */
  requests: number;
  /** Milliseconds each answer waits; change it between tests. */
  delayMs: number;
  close(): Promise<void>;
}

const ADVICE = {
  decision: "allow",
  classification: "routine_read_access",
  riskLevel: "low",
  reasoning: {
    roleCheck: "The member role permits reading.",
    trustCheck: "Trust is sufficient for a low-risk read.",
    environment: "Public documentation, a low-risk environment.",
    context: "Nothing in the context calls for verification.",
  },
  policyReferences: ["role.member: member may read"],
};

/**
 * A real OpenAI-compatible chat-completions server on 127.0.0.1 that answers a fixed, valid advice
 * after `delayMs`: a slow model, for the deadline, the queue and shutdown under load.
 */
export async function startModelServer(delayMs: number): Promise<ModelServer> {
  const open = new Set<ServerResponse>();
  const state = { requests: 0, delayMs };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "GET" && req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "slow-model", object: "model" }] }));
        return;
      }
      state.requests++;
      open.add(res);
      res.on("close", () => open.delete(res));
      const timer = setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: "chatcmpl-1",
            object: "chat.completion",
            created: 1,
            model: "slow-model",
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: JSON.stringify(ADVICE) },
                finish_reason: "stop",
              },
            ],
            usage: {
              prompt_tokens: 500,
              completion_tokens: 80,
              total_tokens: 580,
              prompt_tokens_details: { cached_tokens: 400 },
            },
          }),
        );
      }, state.delayMs);
      res.on("close", () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: async () => {
      for (const res of open) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
