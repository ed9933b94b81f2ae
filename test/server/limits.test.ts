import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenSet } from "../../src/server/auth.js";
import { resolveServeConfig } from "../../src/server/config.js";
import { effectiveCaps, openFileLimit } from "../../src/server/limits.js";
import { loose, readSituation, startTestServer, type TestServer } from "./helpers.js";
import { idleConnection, rawRequest, slowUpload } from "./raw-http-limits.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when the connection is closed within ms, false when it is still open then. */
const closedWithin = (closed: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([closed.then(() => true), sleep(ms).then(() => false)]);

describe("connection bounds", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      limits: {
        requestTimeoutMs: 1500,
        headersTimeoutMs: 1000,
        keepAliveTimeoutMs: 500,
        maxConnectionsPerClient: 5,
        maxConnections: 40,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a body trickled a byte at a time is cut off after the request timeout with 408 request_timeout", async () => {
    const slow = await slowUpload(server.url, { declaredBytes: 900_000, everyMs: 50 });
    const closedAfter = await Promise.race([slow.closed, sleep(6000).then(() => -1)]);
    slow.stop();
    // Cut off after 1.5 s (Node checks once a second): not held for the minutes the body would take.
    expect(closedAfter).toBeGreaterThan(1400);
    expect(closedAfter).toBeLessThan(3500);
    const answer = slow.received();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body.error.code).toBe("request_timeout");
    expect(body.error.message).toContain("--request-timeout-ms");
  });

  it("headers that never end are cut off after the headers timeout", async () => {
    const slow = await slowUpload(server.url, { headersOnly: true, everyMs: 50 });
    const closedAfter = await Promise.race([slow.closed, sleep(6000).then(() => -1)]);
    slow.stop();
    expect(closedAfter).toBeGreaterThan(900);
    expect(closedAfter).toBeLessThan(3000);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    const { socket, closed } = await idleConnection(server.url);
    let answer = "";
    socket.on("data", (d: Buffer) => {
      answer += d.toString();
    });
    socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    expect(await closedWithin(closed, 300)).toBe(false);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    // Node adds a second to the keep-alive timeout (so that a client reusing the connection does not race it).
    expect(await closedWithin(closed, 3000)).toBe(true);
  });

  it("connections beyond the per-client cap are closed at once; other clients are still served", async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => idleConnection(server.url, "127.0.0.2")));
    const closed = await Promise.all(held.map((c) => closedWithin(c.closed, 300)));
    expect(closed.filter(Boolean).length).toBe(3);
    // Another address, and the metrics say what happened.
    const other = await rawRequest(`${server.url}/v1/advisory`, {
      body: readSituation,
      localAddress: "127.0.0.3",
    });
    expect(other.status).toBe(200);
    const metrics = await rawRequest(`${server.url}/metrics`);
    expect(metrics.body).toMatch(/policy_advisor_connections_refused_total\{reason="per_client"\} 3/);
    for (const c of held) c.socket.destroy();
  });

  it("connections beyond the total cap are closed at once", async () => {
    const held = await Promise.all(
      Array.from({ length: 50 }, (_, i) => idleConnection(server.url, `127.0.1.${(i % 25) + 1}`)),
    );
    const closed = await Promise.all(held.map((c) => closedWithin(c.closed, 300)));
    expect(closed.filter((c) => !c).length).toBe(40);
    for (const c of held) c.socket.destroy();
    await sleep(100);
    expect((await rawRequest(`${server.url}/health`)).status).toBe(200);
  });
});

describe("pathological bodies within the size limit", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("half a megabyte of nested arrays or 60 000 keys is refused before parsing, naming the limit", async () => {
    const half = 500_000;
    const send = (text: string) =>
      rawRequest(`${server.url}/v1/advisory`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
        rawBody: text,
      });
    const deep = await send("[".repeat(half) + "]".repeat(half));
    expect(deep.status).toBe(400);
    expect(loose(JSON.parse(deep.body)).error.message).toBe(
      "the body is nested more than 40 levels deep: refused before parsing",
    );
    const keys = `{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`;
    const wide = await send(keys);
    expect(wide.status).toBe(400);
    expect(loose(JSON.parse(wide.body)).error.message).toContain("more than 20000 JSON values");
    // Brackets inside strings are text, not nesting.
    const text = await send(JSON.stringify({ ...readSituation, team_context: "[".repeat(1000) }));
    expect(text.status).toBe(200);
  });
});

describe("connection caps fit the open-file limit", () => {
  it("reads the soft limit from /proc/self/limits", () => {
    const text =
      "Limit                     Soft Limit           Hard Limit           Units     \n" +
      "Max open files            300                  4096                 files     \n";
    expect(openFileLimit(text)).toBe(300);
    expect(openFileLimit("Max open files            unlimited            unlimited            files\n")).toBe(
      null,
    );
  });

  it("lowers the caps below the limit, and one client to half of them", () => {
    const limits = { ...resolveServeConfig({}, { env: {} }) };
    const caps = effectiveCaps(limits, 300);
    expect(caps.maxConnections).toBe(236);
    expect(caps.maxConnectionsPerClient).toBe(118);
    expect(caps.lowered.join("\n")).toContain("--max-connections 1024 lowered to 236");
    expect(effectiveCaps(limits, 100_000)).toMatchObject({
      maxConnections: 1024,
      maxConnectionsPerClient: 256,
    });
  });
});

describe("per-client rate limit", () => {
  let server: TestServer;
  const tokens = new TokenSet();
  const A = "caller-token-a-0123456789";
  const B = "caller-token-b-0123456789";
  beforeAll(async () => {
    tokens.add("caller", A);
    tokens.add("caller", B);
    server = await startTestServer({ tokens, rateLimit: { max: 5, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const advise = (token: string | undefined, localAddress?: string) =>
    rawRequest(`${server.url}/v1/advisory`, {
      body: readSituation,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(localAddress ? { localAddress } : {}),
    });

  it("answers 429 rate_limited with Retry-After past the limit; another token is unaffected", async () => {
    for (let i = 0; i < 5; i++) expect((await advise(A)).status).toBe(200);
    const over = await advise(A);
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers["retry-after"])).toBeLessThanOrEqual(60);
    const body = loose(JSON.parse(over.body));
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toContain("this token");
    expect(body.error.message).toContain("at most 5 per 1 min");
    // The same address with the other token: its own count.
    expect((await advise(B)).status).toBe(200);
    // Probes are never limited.
    expect((await rawRequest(`${server.url}/health`)).status).toBe(200);
  });

  it("requests without a known token count against the address, refused ones too", async () => {
    // Token guessing is limited too: the limit runs before the token check.
    for (let i = 0; i < 5; i++)
      expect((await advise(`made-up-token-number-${i}`, "127.0.0.5")).status).toBe(401);
    const over = await advise("made-up-token-number-x", "127.0.0.5");
    expect(over.status).toBe(429);
    expect(loose(JSON.parse(over.body)).error.message).toContain("address 127.0.0.5");
    expect((await advise(B, "127.0.0.5")).status).toBe(200);
  });
});

describe("per-client body byte limit", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { max: 1000, windowMs: 60_000, maxBytes: 450 * 1024 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("bodies count against a byte budget per client; other clients are not affected", async () => {
    // About 100 KB, in fields under the 16 KiB cap each (the cap per free-text field is its own bound).
    const big: Record<string, unknown> = { ...readSituation };
    for (let i = 0; i < 7; i++) big[`note_${i}`] = "x".repeat(15 * 1024);
    for (let i = 0; i < 4; i++) {
      const r = await rawRequest(`${server.url}/v1/advisory`, { body: big, localAddress: "127.0.0.6" });
      expect(r.status, r.body).toBe(200);
    }
    const over = await rawRequest(`${server.url}/v1/advisory`, { body: big, localAddress: "127.0.0.6" });
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const body = loose(JSON.parse(over.body));
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toContain(
      "too many body bytes from address 127.0.0.6: at most 450 KB per 1 min",
    );
    // A refused body still spends the budget: the client waits for the window; another address has its own.
    expect(
      (await rawRequest(`${server.url}/v1/advisory`, { body: readSituation, localAddress: "127.0.0.6" }))
        .status,
    ).toBe(429);
    expect(
      (await rawRequest(`${server.url}/v1/advisory`, { body: big, localAddress: "127.0.0.7" })).status,
    ).toBe(200);
  });
});

describe("serve settings for the bounds", () => {
  it("defaults are on; off where allowed; bad values name the flag", () => {
    const c = resolveServeConfig({}, { env: {} });
    expect(c).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      connectionTimeoutMs: 60_000,
      maxConnections: 1024,
      maxConnectionsPerClient: 256,
      rateLimit: 1000,
      rateLimitWindow: 1000,
      bodyRateLimit: 4 * 1024 ** 2,
      retain: 30 * 86_400_000,
      maxLogSize: 1024 ** 3,
    });
    const off = resolveServeConfig({ rateLimit: "off", retain: "off", maxLogSize: "off" }, { env: {} });
    expect(off).toMatchObject({ rateLimit: null, retain: null, maxLogSize: null });
    expect(
      resolveServeConfig({ rateLimitWindow: "500ms", retain: "12h", maxLogSize: "2gb" }, { env: {} }),
    ).toMatchObject({
      rateLimitWindow: 500,
      retain: 12 * 3_600_000,
      maxLogSize: 2 * 1024 ** 3,
    });
    expect(() => resolveServeConfig({ headersTimeoutMs: "40000" }, { env: {} })).toThrow(
      /--headers-timeout-ms: expected at most the request timeout \(30000 ms\)/,
    );
    expect(() => resolveServeConfig({ connectionTimeoutMs: "5000" }, { env: {} })).toThrow(
      /--connection-timeout-ms: expected more than the deadline \(10000 ms\)/,
    );
    expect(() => resolveServeConfig({ retain: "forever" }, { env: {} })).toThrow(
      /--retain: expected a retention/,
    );
    expect(() => resolveServeConfig({ maxLogSize: "big" }, { env: {} })).toThrow(
      /--max-log-size: expected a size/,
    );
  });
});
