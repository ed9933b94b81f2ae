import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const WRITER = fileURLToPath(new URL("./writer.ts", import.meta.url));

export interface WriterRun {
  acked: string[];
  exit: Promise<number | null>;
  kill(): void;
  /** Resolves once at least n ids were acknowledged. */
  waitFor(n: number): Promise<void>;
}

/** Starts a writer process; collects the ids it acknowledged on stdout. */
export function startWriter(url: string, prefix: string, count: number, concurrency: number): WriterRun {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", WRITER, url, prefix, String(count), String(concurrency)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const acked: string[] = [];
  let buf = "";
  let stderr = "";
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) if (l && l !== "done") acked.push(l);
    for (const w of waiters.filter((w) => acked.length >= w.n)) w.resolve();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`writer ${prefix} failed: ${stderr}\n`);
      resolve(code);
    }),
  );
  return {
    acked,
    exit,
    kill: () => child.kill("SIGKILL"),
    waitFor: (n) =>
      new Promise<void>((resolve, reject) => {
        if (acked.length >= n) return resolve();
        waiters.push({ n, resolve });
        void exit.then(() =>
          reject(new Error(`writer ${prefix} exited after ${acked.length} acks: ${stderr}`)),
        );
      }),
  };
}
