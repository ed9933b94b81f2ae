import { type Agent, request } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request on a connection of its own, optionally from another loopback source address
 * (127.0.0.2, ...): on Linux every 127.x address reaches a server bound to 127.0.0.1, so one test
 * process can be several clients by address.
 */
export function rawRequest(
  url: string,
  opts: {
    method?: string;
    path?: string;
    body?: unknown;
    /** Sent as it is, instead of body as JSON. */
    rawBody?: string;
    headers?: Record<string, string>;
    localAddress?: string;
    timeoutMs?: number;
    /** A keep-alive agent to reuse connections; default a connection of its own. */
    agent?: Agent;
  } = {},
): Promise<RawAnswer> {
  const u = new URL(url);
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? (body ? "POST" : "GET"),
        path: opts.path ?? u.pathname,
        agent: opts.agent ?? false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        headers: {
          ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

/** A connection that has sent the headers of a POST declaring a large body and trickles the body. */
export interface SlowUpload {
  socket: Socket;
  /** Everything the server sent back. */
  received(): string;
  /** Resolves with the time (ms since the connection opened) when the server closed it. */
  closed: Promise<number>;
  stop(): void;
}

export function slowUpload(
  url: string,
  opts: { declaredBytes?: number; everyMs?: number; localAddress?: string; headersOnly?: boolean } = {},
): Promise<SlowUpload> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({
      host: u.hostname,
      port: Number(u.port),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    let data = "";
    let timer: NodeJS.Timeout | undefined;
    socket.on("data", (d: Buffer) => {
      data += d.toString();
    });
    const closed = new Promise<number>((res) => socket.once("close", () => res(performance.now() - started)));
    void closed.then(() => clearInterval(timer));
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      const head =
        `POST /v1/advisory HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${opts.declaredBytes ?? 900_000}\r\n`;
      // headersOnly: the headers are never finished either (no blank line).
      socket.write(opts.headersOnly ? head : `${head}\r\n{"team_context": "`);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(opts.headersOnly ? "X-Slow: 1\r\n" : "a");
      }, opts.everyMs ?? 100);
      resolve({
        socket,
        received: () => data,
        closed,
        stop: () => {
          clearInterval(timer);
          socket.destroy();
        },
      });
    });
    socket.once("error", reject);
  });
}

/** Opens a TCP connection and sends nothing; resolves once connected. */
export function idleConnection(
  url: string,
  localAddress?: string,
): Promise<{ socket: Socket; closed: Promise<void> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: u.hostname,
      port: Number(u.port),
      ...(localAddress ? { localAddress } : {}),
    });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((res) => socket.once("close", () => res()));
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}
