import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { packageRoot } from "../../src/paths.js";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { externalAvailable } from "../helpers/external.js";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(packageRoot, "test-artifacts", "ui");

export const chromiumAvailable = externalAvailable(
  "chromium",
  existsSync(CHROMIUM),
  `${CHROMIUM} not found (apt-get install -y chromium)`,
);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The console is compiled by `npm run build:ui`; build it here when ui/dist is missing or older than its
 * sources, so the browser always runs the code under test.
 */
export function ensureUiBuilt(): void {
  const ui = join(packageRoot, "ui");
  const out = join(ui, "dist", "main.js");
  if (existsSync(out) && statSync(out).mtimeMs >= newestMtime(join(ui, "src"))) return;
  // As `npm run build:ui`: the schemas' declarations the console's types import, then the console.
  const tsc = join(packageRoot, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-b", join(ui, "tsconfig.schemas.json")], { stdio: "inherit" });
  execFileSync(process.execPath, [tsc, "-p", join(ui, "tsconfig.json")], { stdio: "inherit" });
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface Sidecar {
  url: string;
  service: RunningService;
  /** POST /v1/advisory with optional bearer token; returns the decision JSON. */
  advise(body: unknown, token?: string): Promise<{ decisionId: string; decision: string }>;
  close(): Promise<void>;
}

/** The real sidecar (`policy-advisor serve`'s own start-up) on a free port with a SQLite log in a temp dir. */
export async function startSidecar(
  opts: {
    mode?: "shadow" | "advisory" | "enforce";
    env?: NodeJS.ProcessEnv;
    /** More serve settings (engine, model, ...), given the sidecar's temp dir. */
    config?: (dir: string) => Record<string, unknown>;
  } = {},
): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), "pa-ui-"));
  const config = ServeConfigSchema.parse({
    db: join(dir, "decisions.db"),
    port: 0,
    mode: opts.mode ?? "advisory",
    logLevel: "silent",
    cache: false,
    ...(opts.config ? opts.config(dir) : {}),
  });
  const service = await startService(config, opts.env ?? {});
  return {
    url: service.url,
    service,
    advise: async (body, token) => {
      const res = await fetch(`${service.url}/v1/advisory`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (res.status !== 200)
        throw new Error(`POST /v1/advisory answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { decisionId: string; decision: string };
    },
    close: async () => {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new page that fails the test on any script error or CSP violation in the console. */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  // A zone other than the machine's UTC, so that a time shown without its zone is caught.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: "America/New_York",
    locale: "en-US",
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[134]/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The value shown for a fact (<dt>label</dt><dd>value</dd>) on the page. */
export async function factValue(page: Page, label: string, within = "main"): Promise<string> {
  const dd = page
    .locator(`${within} .fact`)
    .filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
    .locator("dd");
  return (await dd.first().textContent())?.trim() ?? "";
}

export const WORK_HOURS = "2026-03-03T15:00:00Z";

/** A deployer shipping to production with high trust: allowed, and high risk. */
export const trustedDeploy = {
  action_type: "deploy",
  actor_role: "deployer",
  actor_id: "user:dave",
  t3_tensor: { competence: 0.95, reliability: 0.95, integrity: 0.95 },
  resource: "env:production",
  timestamp: WORK_HOURS,
};

/** Refused by the default policy: a developer deploying to production. Its free text is hostile markup. */
export const hostileDeploy = {
  action_type: "deploy_service",
  actor_role: "developer",
  actor_id: "user:mallory",
  resource: "prod/payments",
  t3_tensor: { competence: 0.5, reliability: 0.5, integrity: 0.5 },
  details: '<img src=x onerror="window.__pwned=1"> <b>urgent</b> hotfix',
  timestamp: WORK_HOURS,
};

export const readDocs = {
  action_type: "read",
  actor_role: "member",
  actor_id: "user:alice",
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
  timestamp: WORK_HOURS,
};

export const configChange = {
  action_type: "update_config",
  actor_role: "developer",
  actor_id: "user:carol",
  t3_tensor: { competence: 0.6, reliability: 0.6, integrity: 0.6 },
  resource: "config/app.yaml",
  timestamp: WORK_HOURS,
};

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE_SOURCE = readFileSync(join(packageRoot, "node_modules", "axe-core", "axe.min.js"), "utf8");

/**
 * WCAG 2.1 A/AA violations axe-core finds on the page as it is now (contrast, labels, landmarks, names).
 * Injected through the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    type AxeResult = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResult> } })
      .axe;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
}
