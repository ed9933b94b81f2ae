import { readFileSync } from "node:fs";
import type { EngineVerdict } from "../engine/index.js";
import { createEngine } from "../engine/index.js";
import { openLlmBackend } from "../llm/factory.js";
import { LlamaBackend } from "../llm/llama/backend.js";
import { physicalCores } from "../llm/llama/cpu.js";
import { LlmLoadError } from "../llm/llama/errors.js";
import { checkModelFile, sharedLlama } from "../llm/llama/load.js";
import { estimateMemoryNeeds } from "../llm/llama/resources.js";
import { chatCompletionsUrl } from "../llm/openai/protocol.js";
import type { LlmBackend } from "../llm/types.js";
import { dataPath } from "../paths.js";
import { DEFAULT_POLICY_PATH, type LoadedPolicy, loadPolicy } from "../policy/load.js";
import { loadRolloutConfig } from "../rollout/config.js";
import type { DecisionValue } from "../schemas/common.js";
import { parseRequest } from "../schemas/request.js";
import type { Situation } from "../schemas/situation.js";
import { ENV_NAMES, resolveServeConfig, type ServeConfig } from "../server/config.js";
import { checkServeConfig } from "../server/preflight.js";
import { DEFAULT_DB } from "../store/index.js";
import { checkDecisionLog } from "./decision-log.js";
import {
  type Check,
  type DoctorOptions,
  type DoctorReport,
  type DoctorStep,
  LATENCY_TARGET_MS,
} from "./types.js";

export type { DoctorOptions, DoctorReport, DoctorStep } from "./types.js";

const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GB`;
const msText = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

/** The checks so far, and who hears when the next one starts (the CLI's progress bar). */
class Run {
  readonly checks: Check[] = [];
  constructor(
    private readonly total: number,
    private readonly step?: DoctorStep,
  ) {}

  begin(name: Check["name"]): void {
    this.step?.(name, this.checks.length, this.total);
  }
}

/** The known request: the first seed scenario, with the rules engine's findings, as the advisor sends it. */
interface KnownRequest {
  id: string;
  description: string;
  expected: DecisionValue;
  situation: Situation;
  verdict: EngineVerdict;
}

function knownRequest(policy: LoadedPolicy): KnownRequest {
  const suite = JSON.parse(readFileSync(dataPath("scenarios", "seed-basic.json"), "utf8")) as {
    scenarios: Array<{
      id: string;
      description: string;
      situation: unknown;
      expected: { decision: DecisionValue };
    }>;
  };
  const sc = suite.scenarios[0]!;
  const { situation } = parseRequest(sc.situation);
  return {
    id: sc.id,
    description: sc.description.toLowerCase(),
    expected: sc.expected.decision,
    situation,
    verdict: createEngine(policy).evaluate(situation),
  };
}

/**
 * The known request through the model: the answer must parse and give the decision the scenario expects.
 * A synthetic model (random weights) never passes: whatever it answers is noise, even a right-looking one.
 */
async function inferenceChecks(
  run: Run,
  backend: LlmBackend,
  known: KnownRequest,
  targetMs: number,
  targetWhy: string,
): Promise<void> {
  const req = { situation: known.situation, verdict: known.verdict };
  const checks = run.checks;
  let first: number;
  run.begin("inference");
  try {
    const t = performance.now();
    const r = await backend.advise(req);
    first = performance.now() - t;
    const answered = r.advice.decision;
    const right = answered === known.expected;
    const tokens = `${r.usage.evaluated} prompt tokens evaluated, ${r.usage.reused} reused, ${r.usage.generated} generated`;
    const said =
      `known request ${known.id} (${known.description}) answered "${answered}" (risk ${r.advice.riskLevel}) ` +
      `in ${msText(first)}, ${right ? "as expected" : `expected "${known.expected}"`}; ${tokens}`;
    checks.push({
      name: "inference",
      passed: right && !backend.synthetic,
      detail: backend.synthetic
        ? `${said}; the model is synthetic (random weights): its answers are noise`
        : said,
      ms: first,
      ...(backend.synthetic
        ? { hint: "a synthetic model is for tests only: deploy a trained GGUF (docs/llm-local.md)" }
        : !right
          ? {
              hint: "the model misreads a plain request: check the prompt variant (--prompt), try a stronger or less quantised model, or keep --engine rules",
            }
          : {}),
    });
  } catch (err) {
    checks.push({
      name: "inference",
      passed: false,
      detail: `the known request failed: ${(err as Error).message}`,
      hint: "the sidecar would answer every LLM request with the fail-closed fallback; check the model and prompt",
    });
    checks.push({ name: "latency", passed: false, detail: "not measured: inference failed" });
    return;
  }
  // The second request is the steady state (prefix already evaluated, caches warm).
  run.begin("latency");
  const t = performance.now();
  try {
    await backend.advise(req);
  } catch {
    // measured below as the time it took to fail
  }
  const ms = performance.now() - t;
  checks.push({
    name: "latency",
    passed: ms <= targetMs,
    detail: `${msText(ms)} per advisory (target ${msText(targetMs)} ${targetWhy})`,
    ms,
    ...(ms > targetMs
      ? {
          hint: "use a GPU, a smaller or more quantised model (e.g. Q4_K_M), or check that threads = physical cores",
        }
      : {}),
  });
}

interface ModelOptions {
  model?: string;
  llmUrl?: string;
  llmModel?: string;
  prompt?: string;
  threads?: number;
  contextSize?: number;
  sequences?: number;
}

async function localModelChecks(
  run: Run,
  o: ModelOptions,
  known: KnownRequest,
  log: (line: string) => void,
): Promise<string | null> {
  const modelPath = o.model as string;
  const checks = run.checks;
  const threads = o.threads ?? physicalCores();
  run.begin("gpu");
  const llama = await sharedLlama("auto", log);
  const device = llama.gpu === false ? "cpu" : llama.gpu;
  if (device === "cpu") {
    checks.push({
      name: "gpu",
      passed: true,
      detail: `no usable GPU: CPU fallback with ${threads} threads`,
      hint: `CPU inference targets ${msText(LATENCY_TARGET_MS.cpu)} per advisory; a CUDA, Vulkan or Metal GPU brings it to ${msText(LATENCY_TARGET_MS.gpu)}`,
    });
  } else {
    const names = await llama.getGpuDeviceNames().catch(() => [] as string[]);
    checks.push({
      name: "gpu",
      passed: true,
      detail: `GPU found: ${device}${names.length ? ` (${names.join(", ")})` : ""}`,
    });
  }

  run.begin("memory");
  try {
    checkModelFile(modelPath);
    const contextSize = o.contextSize ?? 8192;
    const sequences = o.sequences ?? 1;
    const needs = await estimateMemoryNeeds(llama, modelPath, contextSize, sequences);
    const ramOk = needs.ramBytes <= needs.freeRamBytes;
    const vramOk = device === "cpu" || needs.vramBytes <= needs.freeVramBytes;
    checks.push({
      name: "memory",
      passed: ramOk,
      detail:
        `model + ${sequences} x ${contextSize}-token context need ${gb(needs.ramBytes)} RAM (${gb(needs.freeRamBytes)} available)` +
        (device === "cpu" ? "" : `, ${gb(needs.vramBytes)} VRAM (${gb(needs.freeVramBytes)} free)`),
      ...(!ramOk
        ? { hint: "free memory, use a smaller quantisation, or lower --context-size / --sequences" }
        : !vramOk
          ? {
              hint: "the model does not fit the GPU whole: llama.cpp offloads what fits and runs the rest on the CPU (slower)",
            }
          : {}),
    });
  } catch (err) {
    checks.push({
      name: "memory",
      passed: false,
      detail: `cannot read the model's requirements: ${(err as Error).message}`,
      ...(err instanceof LlmLoadError && err.hint ? { hint: err.hint } : {}),
    });
  }

  run.begin("load");
  let backend: LlamaBackend | undefined;
  const t = performance.now();
  try {
    backend = await LlamaBackend.create({
      modelPath,
      threads,
      ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
      ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
      ...(o.sequences !== undefined ? { sequences: o.sequences } : {}),
      log,
    });
    const ms = performance.now() - t;
    checks.push({
      name: "load",
      passed: true,
      detail: `loaded ${backend.modelId} in ${msText(ms)} on ${backend.loaded.device}, prompt prefix (${backend.prefixTokenCount} tokens) evaluated`,
      ms,
    });
  } catch (err) {
    checks.push({
      name: "load",
      passed: false,
      detail: (err as Error).message,
      ...(err instanceof LlmLoadError && err.hint ? { hint: err.hint } : {}),
    });
    checks.push({ name: "inference", passed: false, detail: "not run: the model did not load" });
    checks.push({ name: "latency", passed: false, detail: "not measured: the model did not load" });
    return device;
  }
  try {
    const target = device === "cpu" ? LATENCY_TARGET_MS.cpu : LATENCY_TARGET_MS.gpu;
    await inferenceChecks(run, backend, known, target, device === "cpu" ? "on CPU" : "on GPU");
  } finally {
    await backend.close();
  }
  return device;
}

/** Is anything answering HTTP at the server's address? Any response counts; only no answer fails. */
async function probeServer(baseUrl: string): Promise<string> {
  const url = chatCompletionsUrl(baseUrl).replace(/\/chat\/completions$/, "/models");
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.body?.cancel();
  return `GET ${url}: HTTP ${res.status}`;
}

async function serverChecks(run: Run, o: ModelOptions, known: KnownRequest): Promise<void> {
  const checks = run.checks;
  let backend: LlmBackend;
  run.begin("server");
  const t = performance.now();
  try {
    const probe = await probeServer(o.llmUrl as string);
    backend = await openLlmBackend({
      llmUrl: o.llmUrl,
      ...(o.llmModel !== undefined ? { llmModel: o.llmModel } : {}),
      ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
    });
    checks.push({
      name: "server",
      passed: true,
      detail: `${o.llmUrl} answers (${probe}); model ${backend.modelId}`,
      ms: performance.now() - t,
    });
  } catch (err) {
    checks.push({
      name: "server",
      passed: false,
      detail: `${o.llmUrl}: ${describeFetchError(err)}`,
      hint: "check the URL, that the server runs, and --llm-model",
    });
    checks.push({ name: "inference", passed: false, detail: "not run: no server" });
    checks.push({ name: "latency", passed: false, detail: "not measured: no server" });
    return;
  }
  try {
    // The server's hardware is unknown from here: hold it to the CPU target, the looser of the two.
    await inferenceChecks(
      run,
      backend,
      known,
      LATENCY_TARGET_MS.cpu,
      "(server hardware unknown: CPU target)",
    );
  } finally {
    await backend.close();
  }
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "no answer within 5 s";
  return e.cause?.code ? `${e.message} (${e.cause.code})` : e.message;
}

/** A message listing issues line by line, as one line of the doctor's list: "head: a; b". */
function oneLine(message: string): string {
  const [head = "", ...rest] = message
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return rest.length ? `${head} ${rest.join("; ")}` : head;
}

/**
 * What `serve` would start with (config file < POLICY_ADVISOR_* variables), checked as serve checks it
 * before opening anything: the schema, the tokens, the rollout file. Never starts anything.
 */
function configCheck(o: DoctorOptions, env: NodeJS.ProcessEnv): { check: Check; config: ServeConfig | null } {
  const file = o.config ?? env.POLICY_ADVISOR_CONFIG;
  // Only the variables serve reads (names, never values: a token may be among them).
  const names = [...Object.values(ENV_NAMES), "POLICY_ADVISOR_TOKEN", "POLICY_ADVISOR_REVIEWER_TOKEN"];
  const vars = names.filter((k) => k !== "POLICY_ADVISOR_CONFIG" && env[k]).sort();
  const source = [
    file ? `config file ${file}` : "no config file",
    ...(vars.length ? [vars.join(", ")] : []),
  ].join(" + ");
  try {
    const config = resolveServeConfig({}, { ...(file ? { configFile: file } : {}), env });
    const tokens = checkServeConfig(config, env);
    if (config.rollout) loadRolloutConfig(config.rollout);
    const engine =
      config.engine === "rules"
        ? "engine rules"
        : `engine ${config.engine} with ${config.model ? `model ${config.model}` : `server ${config.llmUrl}`}`;
    const modes = config.mode
      ? `every tier ${config.mode}`
      : config.rollout
        ? `modes from rollout file ${config.rollout}`
        : "each tier in the log's mode (shadow at first)";
    return {
      config,
      check: {
        name: "config",
        passed: true,
        detail:
          `${source}: serve would listen on ${config.host}:${config.port}, ${engine}, decision log ${config.db}, ` +
          `${modes}, ${tokens.size} API token${tokens.size === 1 ? "" : "s"}`,
      },
    };
  } catch (err) {
    return {
      config: null,
      check: {
        name: "config",
        passed: false,
        detail: `${source}: ${oneLine((err as Error).message)}`,
        hint: "serve would refuse to start: fix the named setting (serve --help lists each option and its variable)",
      },
    };
  }
}

function policyCheck(path: string): { check: Check; policy: LoadedPolicy | null } {
  try {
    const policy = loadPolicy(path);
    const roles = Object.keys(policy.doc.roles).length;
    const actors = Object.keys(policy.doc.actors).length;
    return {
      policy,
      check: {
        name: "policy",
        passed: true,
        detail: `${path}: valid, revision ${policy.revision}, ${roles} roles, ${actors} actor${actors === 1 ? "" : "s"} in the directory`,
      },
    };
  } catch (err) {
    return {
      policy: null,
      check: {
        name: "policy",
        passed: false,
        detail: oneLine((err as Error).message),
        hint: "serve would refuse to start with this policy: fix what the message names (docs/policy.md describes each field)",
      },
    };
  }
}

/**
 * Runs every check; never throws for a failed check (that is a result), only for bad options. Without a
 * model (none given, none configured) it checks the configuration, the policy and the decision log.
 */
export async function runDoctor(
  o: DoctorOptions,
  log: (line: string) => void,
  step?: DoctorStep,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DoctorReport> {
  // Known before the first check, so that the progress bar has its total: the configuration only adds
  // a model when none was given on the command line.
  const peek = configCheck(o, env);
  const cfg = peek.config;
  const fromConfig = !o.model && !o.llmUrl && cfg && cfg.engine !== "rules";
  const m: ModelOptions = {
    model: o.model ?? (fromConfig ? cfg.model : undefined),
    llmUrl: o.llmUrl ?? (fromConfig ? cfg.llmUrl : undefined),
    llmModel: o.llmModel ?? cfg?.llmModel,
    prompt: o.prompt ?? cfg?.prompt,
    threads: o.threads ?? cfg?.threads,
    contextSize: o.contextSize ?? cfg?.contextSize,
    sequences: o.sequences ?? cfg?.sequences,
  };
  const modelChecks = m.model ? 5 : m.llmUrl ? 3 : 0;
  const run = new Run(3 + modelChecks, step);

  run.begin("config");
  run.checks.push(peek.check);
  run.begin("policy");
  const policyPath = o.policy ?? cfg?.policy ?? DEFAULT_POLICY_PATH;
  const p = policyCheck(policyPath);
  run.checks.push(p.check);

  let device: string | null = null;
  if (m.model || m.llmUrl) {
    // The model is asked with the rules' findings under the policy checked above (the default if it failed).
    const known = knownRequest(p.policy ?? loadPolicy());
    if (m.model) device = await localModelChecks(run, m, known, log);
    else await serverChecks(run, m, known);
  }
  run.begin("decision_log");
  run.checks.push(await checkDecisionLog(o.db ?? cfg?.db ?? DEFAULT_DB));
  const checks = run.checks;
  return { ok: checks.every((c) => c.passed), target: m.model ?? m.llmUrl ?? "", device, checks };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = r.checks.map((c) => {
    const head = `${c.passed ? "PASS" : "FAIL"}  ${c.name.padEnd(12)} ${c.detail}`;
    return c.hint ? `${head}\n      hint: ${c.hint}` : head;
  });
  const failed = r.checks.filter((c) => !c.passed).length;
  lines.push(failed ? `\n${failed} check(s) failed` : "\nall checks passed");
  return `${lines.join("\n")}\n`;
}
