import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

/** What the server does with the n-th request (0-based): write a reply, or never answer. */
export type Behaviour = (req: ReceivedRequest, n: number, res: ServerResponse) => void | Promise<void>;

export interface ChatServer {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A chat-completions response carrying `content`, as OpenAI, llama.cpp server and vLLM shape it. */
export function completion(
  content: string,
  usage = { prompt_tokens: 900, completion_tokens: 120, cached: 800 },
) {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1,
    model: "test-model",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
      prompt_tokens_details: { cached_tokens: usage.cached },
    },
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A real HTTP server on 127.0.0.1 speaking POST /v1/chat/completions (and GET /v1/models). */
export async function startChatServer(behaviour: Behaviour): Promise<ChatServer> {
  const received: ReceivedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        sendJson(res, 200, { object: "list", data: [{ id: "served-model", object: "model" }] });
        return;
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        sendJson(res, 400, { error: { message: "body is not JSON" } });
        return;
      }
      const r: ReceivedRequest = { path: req.url ?? "", headers: req.headers, body };
      received.push(r);
      open.add(res);
      res.on("close", () => open.delete(res));
      void behaviour(r, received.length - 1, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
