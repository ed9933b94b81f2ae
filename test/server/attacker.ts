/**
 * The attacker of test/server/attack.test.ts, in a process of its own so that its work does not slow the
 * test's measuring client: slow connections that declare a large body and trickle it (reconnecting when
 * cut off), and clients sending pathological bodies at the size limit, for a bounded time.
 *
 * Usage: attacker URL SLOW_COUNT SLOW_ADDRESS BODY_ADDRESS DURATION_MS BODY_LIMIT [BODY_CLIENTS] [RECONNECT_MS]
 *   [BODY_PAUSE_MS]
 * It paces itself (a refused slow connection comes back after RECONNECT_MS, a body client pauses between
 * bodies): the test is about slow and pathological requests, not a connection or request flood, which
 * only the network in front of the service can absorb on a machine that also runs the attacker.
 * Prints "ready" once every slow connection was attempted, then one JSON summary line at the end.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";

const [
  url = "",
  slowCountArg = "400",
  slowAddress = "127.0.0.2",
  bodyAddress = "127.0.0.3",
  durationArg = "15000",
  limitArg = "1048576",
  bodyClientsArg = "2",
  reconnectArg = "2000",
  bodyPauseArg = "50",
] = process.argv.slice(2);
const bodyPauseMs = Number(bodyPauseArg);
const bodyClients = Number(bodyClientsArg);
const reconnectMs = Number(reconnectArg);
const target = new URL(url);
const slowCount = Number(slowCountArg);
const durationMs = Number(durationArg);
const bodyLimit = Number(limitArg);
const endAt = performance.now() + durationMs;
const running = () => performance.now() < endAt;

const summary = {
  slowOpened: 0,
  slowClosedByServer: 0,
  slowOpenAtEnd: 0,
  slowConnectErrors: 0,
  bodies: 0,
  bodyStatuses: {} as Record<string, number>,
  bodyErrors: 0,
};
const open = new Set<Socket>();

function slowConnection(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: slowAddress });
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    socket.on("error", () => {
      if (!connected) summary.slowConnectErrors++;
    });
    socket.once("connect", () => {
      connected = true;
      summary.slowOpened++;
      open.add(socket);
      socket.write(
        `POST /v1/advisory HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: 900000\r\n\r\n{"team_context": "`,
      );
      timer = setInterval(() => socket.write("a"), 200);
      resolve();
    });
    socket.once("close", () => {
      clearInterval(timer);
      open.delete(socket);
      if (!connected) resolve();
      if (!running()) return;
      if (connected) summary.slowClosedByServer++;
      // Cut off or refused: come back, as an attacker would.
      setTimeout(() => void slowConnection(), reconnectMs);
    });
  });
}

/** Bodies at the size limit that cost a parser the most, none of them a request the service would store. */
function pathologicalBodies(): Buffer[] {
  const n = bodyLimit - 16;
  const half = Math.floor(n / 2);
  const keys: string[] = [];
  let size = 2;
  for (let i = 0; size < n - 32; i++) {
    const k = `"k${i}":${i}`;
    keys.push(k);
    size += k.length + 1;
  }
  const escapes = "\\u0000".repeat(Math.floor((n - 40) / 6));
  return [
    Buffer.from("[".repeat(half) + "]".repeat(half)),
    Buffer.from(`{${keys.join(",")}}`),
    Buffer.from(`{"action_type":"read","details":"${escapes}"}`),
    Buffer.from(
      `{"details":${'{"a":'.repeat(Math.floor((n - 20) / 6))}1${"}".repeat(Math.floor((n - 20) / 6))}}`,
    ),
    Buffer.alloc(bodyLimit + 1, "x"),
  ];
}

function send(body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: "POST",
        path: "/v1/advisory",
        agent: false,
        localAddress: bodyAddress,
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        answered = true;
        const k = String(res.statusCode);
        summary.bodyStatuses[k] = (summary.bodyStatuses[k] ?? 0) + 1;
        res.resume();
        res.on("end", () => resolve());
        res.on("error", () => resolve());
      },
    );
    req.on("error", () => {
      // The server may answer 413 and close before the whole body is sent: an answer, not a failure.
      if (!answered) summary.bodyErrors++;
      resolve();
    });
    req.end(body);
  });
}

async function bodyLoop(bodies: Buffer[], offset: number): Promise<void> {
  for (let i = offset; running(); i++) {
    summary.bodies++;
    await send(bodies[i % bodies.length] as Buffer);
    await new Promise((r) => setTimeout(r, bodyPauseMs));
  }
}

const bodies = pathologicalBodies();
for (let i = 0; i < slowCount; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, slowCount - i) }, () => slowConnection()));
}
process.stdout.write("ready\n");
await Promise.all(Array.from({ length: bodyClients }, (_, i) => bodyLoop(bodies, i * 2)));
while (running()) await new Promise((r) => setTimeout(r, 100));
summary.slowOpenAtEnd = open.size;
for (const s of open) s.destroy();
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
