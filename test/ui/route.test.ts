import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uiRoutesFor } from "../../src/server/routes/ui.js";

/** A console folder laid out like ui/ after `npm run build:ui`. */
function fakeConsole(built: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "pa-ui-route-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(dir, "styles.css"), "body{}");
  writeFileSync(join(dir, "tsconfig.json"), "{}");
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "main.ts"), "export {};");
  if (built) {
    mkdirSync(join(dir, "dist", "pages"), { recursive: true });
    writeFileSync(join(dir, "dist", "main.js"), "export {};");
    writeFileSync(join(dir, "dist", "pages", "queue.js"), "export {};");
  }
  return dir;
}

describe("the /ui route plugin", () => {
  let app: FastifyInstance;
  let dir: string;
  beforeAll(async () => {
    dir = fakeConsole(true);
    app = Fastify();
    await uiRoutesFor({ uiDir: dir })(app);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("redirects /ui to /ui/ with a relative location (works behind a path prefix)", async () => {
    const res = await app.inject({ method: "GET", url: "/ui" });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("ui/");
  });

  it("serves the page with a strict content security policy", async () => {
    const res = await app.inject({ method: "GET", url: "/ui/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.body).toContain("<title>console</title>");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves the compiled scripts, not the sources or config", async () => {
    const js = await app.inject({ method: "GET", url: "/ui/dist/pages/queue.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    for (const url of [
      "/ui/src/main.ts",
      "/ui/tsconfig.json",
      "/ui/../package.json",
      "/ui/dist/../src/main.ts",
    ]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
    }
  });

  it("serves uPlot from node_modules, nothing else from its package", async () => {
    const js = await app.inject({ method: "GET", url: "/ui/vendor/uplot/uPlot.iife.min.js" });
    expect(js.statusCode).toBe(200);
    expect(js.body).toContain("uPlot");
    const css = await app.inject({ method: "GET", url: "/ui/vendor/uplot/uPlot.min.css" });
    expect(css.statusCode).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect((await app.inject({ method: "GET", url: "/ui/vendor/uplot/uPlot.cjs.js" })).statusCode).toBe(404);
  });
});

describe("the /ui route plugin before `npm run build:ui`", () => {
  it("answers 503 saying how to build the console instead of a blank page", async () => {
    const dir = fakeConsole(false);
    const app = Fastify();
    await uiRoutesFor({ uiDir: dir })(app);
    try {
      const res = await app.inject({ method: "GET", url: "/ui/" });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain("npm run build:ui");
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
