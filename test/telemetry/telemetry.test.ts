import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { telemetryFromEnv } from "../../src/telemetry/index.js";
import { loose, post, readSituation } from "../server/helpers.js";
import { type ModelServer, startModelServer } from "../server/model-server.js";

/**
 * OpenTelemetry export, received by a local OTLP/HTTP endpoint this test runs: a plain HTTP server that
 * decodes the JSON export (ExportTraceServiceRequest, ExportLogsServiceRequest) the way a collector does.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpLog {
  traceId?: string;
  spanId?: string;
  body: OtlpValue;
  severityText?: string;
  attributes: { key: string; value: OtlpValue }[];
}

class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly logs: OtlpLog[] = [];
  readonly resources: Record<string, unknown>[] = [];
  readonly contentTypes = new Set<string>();
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.contentTypes.add(String(req.headers["content-type"]));
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (req.url === "/v1/traces") {
          for (const rs of body.resourceSpans ?? []) {
            this.resources.push(rs.resource);
            for (const ss of rs.scopeSpans ?? []) this.spans.push(...ss.spans);
          }
        } else if (req.url === "/v1/logs") {
          for (const rl of body.resourceLogs ?? []) {
            this.resources.push(rl.resource);
            for (const sl of rl.scopeLogs ?? []) this.logs.push(...sl.logRecords);
          }
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const attr = (item: { attributes: { key: string; value: OtlpValue }[] }, key: string) => {
  const v = item.attributes.find((a) => a.key === key)?.value;
  return (
    v?.stringValue ??
    v?.boolValue ??
    v?.doubleValue ??
    (v?.intValue !== undefined ? Number(v.intValue) : undefined)
  );
};

describe("OpenTelemetry", () => {
  it("is off without an OTLP endpoint, and on with the standard variables", async () => {
    expect(telemetryFromEnv({})).toBeNull();
    expect(
      telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_SDK_DISABLED: "true" }),
    ).toBeNull();
    const both = telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" });
    expect(both?.endpoints).toEqual({
      traces: "http://collector:4318/v1/traces",
      logs: "http://collector:4318/v1/logs",
    });
    await both?.shutdown();
    const tracesOnly = telemetryFromEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom",
      OTEL_LOGS_EXPORTER: "none",
    });
    expect(tracesOnly?.endpoints).toEqual({ traces: "http://t:4318/custom" });
    expect(tracesOnly?.logger).toBeUndefined();
    await tracesOnly?.shutdown();
  });

  describe("exported to a local OTLP/HTTP endpoint", () => {
    let receiver: OtlpReceiver;
    let model: ModelServer;
    let dir: string;
    let service: RunningService | undefined;
    let decisionId = "";
    let authzenId = "";

    beforeAll(async () => {
      receiver = new OtlpReceiver();
      await receiver.start();
      model = await startModelServer(5);
      dir = mkdtempSync(join(tmpdir(), "pa-otel-"));
      service = await startService(
        ServeConfigSchema.parse({
          port: 0,
          db: join(dir, "decisions.db"),
          engine: "llm",
          llmUrl: model.url,
          llmModel: "slow-model",
          logLevel: "silent",
          cache: "off",
        }),
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: "pa-under-test",
          OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
        },
      );
      const answer = await (await post(`${service.url}/v1/advisory`, readSituation)).json().then(loose);
      decisionId = answer.decisionId;
      const az = await (
        await post(`${service.url}/access/v1/evaluation`, {
          subject: { type: "user", id: "alice", properties: { trust: readSituation.t3_tensor } },
          action: { name: "read" },
          resource: { type: "docs", id: "public/readme.md" },
          context: { time: readSituation.timestamp },
        })
      )
        .json()
        .then(loose);
      authzenId = az.context.decision_id;
      // Closing flushes what the batch processors hold.
      await service.close();
      service = undefined;
    }, 60_000);

    afterAll(async () => {
      await service?.close();
      await model?.close();
      await receiver?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("sends OTLP/HTTP JSON with the service's resource", () => {
      expect([...receiver.contentTypes]).toEqual(["application/json"]);
      const resource = loose(receiver.resources[0]);
      const keys = Object.fromEntries(
        resource.attributes.map((a: { key: string; value: OtlpValue }) => [a.key, a.value.stringValue]),
      );
      expect(keys).toMatchObject({ "service.name": "pa-under-test", "deployment.environment": "test" });
    });

    it("a trace per decision: route, decision, rules engine, queue and model call, log append", () => {
      const decision = receiver.spans.find(
        (s) => s.name === "policy_advisor.decision" && attr(s, "policy_advisor.decision.id") === decisionId,
      );
      expect(decision, receiver.spans.map((s) => s.name).join(", ")).toBeDefined();
      const trace = receiver.spans.filter((s) => s.traceId === decision!.traceId);
      const byName = (name: string) => trace.find((s) => s.name === name);
      const route = byName("POST /v1/advisory");
      expect(route?.kind).toBe(2); // SERVER
      expect(attr(route!, "http.response.status_code")).toBe(200);
      expect(attr(route!, "http.route")).toBe("/v1/advisory");
      expect(decision!.parentSpanId).toBe(route!.spanId);
      expect(attr(decision!, "policy_advisor.source")).toBe("llm");
      expect(attr(decision!, "policy_advisor.effective_decision")).toBeTypeOf("string");
      for (const stage of [
        "policy_advisor.engine.evaluate",
        "policy_advisor.advisor",
        "policy_advisor.decision_log.append",
      ]) {
        expect(byName(stage)?.parentSpanId, stage).toBe(decision!.spanId);
      }
      expect(attr(byName("policy_advisor.engine.evaluate")!, "policy_advisor.tier")).toBe("read");
      const modelCall = byName("policy_advisor.model");
      expect(modelCall?.parentSpanId).toBe(byName("policy_advisor.advisor")!.spanId);
      expect(attr(byName("policy_advisor.decision_log.append")!, "policy_advisor.store")).toBe("sqlite");
      // The AuthZEN route is traced the same way.
      const azDecision = receiver.spans.find(
        (s) => s.name === "policy_advisor.decision" && attr(s, "policy_advisor.decision.id") === authzenId,
      );
      const azRoute = receiver.spans.find((s) => s.spanId === azDecision?.parentSpanId);
      expect(azRoute?.name).toBe("POST /access/v1/evaluation");
    });

    it("each decision-log record as an OTLP log record, in its decision's trace", () => {
      const record = receiver.logs.find((l) => attr(l, "policy_advisor.decision.id") === decisionId);
      expect(record, JSON.stringify(receiver.logs).slice(0, 500)).toBeDefined();
      expect(record!.body.stringValue).toBe("decision");
      expect(record!.severityText).toBe("INFO");
      expect(attr(record!, "policy_advisor.mode")).toBe("shadow");
      expect(attr(record!, "policy_advisor.actor_id")).toBe("user:alice");
      expect(attr(record!, "policy_advisor.reasoning.role_check")).toBeTypeOf("string");
      const decision = receiver.spans.find(
        (s) => s.name === "policy_advisor.decision" && attr(s, "policy_advisor.decision.id") === decisionId,
      );
      expect(record!.traceId).toBe(decision!.traceId);
      // The request fields are not exported (the decision log may mask some); the reasoning is.
      expect(JSON.stringify(record)).not.toContain("docs/public/readme.md");
      expect(receiver.logs.some((l) => attr(l, "policy_advisor.decision.id") === authzenId)).toBe(true);
    });
  });
});
