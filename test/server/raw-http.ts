import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a plain socket: the request target goes out exactly as
 * given (absolute form, `#fragment`, `%xx`, `//`), which fetch and inject() would normalise first.
 */
export function rawRequest(
  port: number,
  req: { method: string; target: string; headers?: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`${req.method} ${req.target}: no answer in 10 s`)),
    );
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m?.[1])
        return reject(new Error(`${req.method} ${req.target}: not an HTTP answer: ${text.slice(0, 200)}`));
      const split = text.indexOf("\r\n\r\n");
      resolve({ status: Number(m[1]), body: split < 0 ? "" : text.slice(split + 4) });
    });
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      connection: "close",
      ...req.headers,
    };
    if (req.body !== undefined) {
      headers["content-type"] ??= "application/json";
      headers["content-length"] = String(Buffer.byteLength(req.body));
    }
    const head = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    // Written, not ended: the server closes the connection after its answer (connection: close).
    socket.write(`${req.method} ${req.target} HTTP/1.1\r\n${head}\r\n${req.body ?? ""}`);
  });
}
