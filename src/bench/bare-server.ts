/**
 * The ceiling for the http benchmark: a bare Fastify server that parses the same request bodies and
 * answers a decision of the same size, with no validation, engine, log or metrics. The sidecar's
 * throughput divided by this one's is what our work costs. Usage: bare-server --port N [--host H]
 */
import Fastify from "fastify";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const port = Number(arg("--port", "8788"));
const host = arg("--host", "127.0.0.1");

const answer = {
  decisionId: "00000000-0000-4000-8000-000000000000",
  decision: "allow",
  classification: "routine_read_access",
  riskLevel: "low",
  reasoning: {
    roleCheck: "Role member permits read actions.",
    trustCheck: "Trust 0.70 meets the threshold 0.30 for a low-risk read.",
    environment: "Public documentation during working hours.",
    context: "No signals fired.",
  },
  policyReferences: ["roles.member: members read and comment"],
  signals: [],
  source: "engine",
  versions: { policy: "0000000000000000", prompt: null, model: null },
  latencyMs: 0.01,
  mode: "advisory",
  effectiveDecision: "allow",
};

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.get("/health", async () => ({ status: "ok" }));
app.get("/ready", async () => ({ status: "ready" }));
app.post("/v1/advisory", async (req) => {
  // Touch the parsed body so the work is not optimised away.
  const body = req.body as Record<string, unknown> | null;
  return { ...answer, classification: typeof body === "object" && body ? answer.classification : "none" };
});

const close = async () => {
  await app.close();
  process.exit(0);
};
process.on("SIGTERM", close);
process.on("SIGINT", close);
await app.listen({ port, host });
