import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { packageRoot } from "../../paths.js";
import { declareScopeRole } from "../plugins/auth.js";

export interface UiRouteOptions {
  /** The console's folder (index.html, styles.css, dist/); defaults to the package's ui/. */
  uiDir?: string;
}

/**
 * The console talks only to this sidecar and loads nothing from elsewhere, so the policy can be strict:
 * no inline script, no outside origin, not framed. A request field that somehow became markup still
 * could not run.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The console's own files: the page, its stylesheet and the compiled scripts (not the TypeScript sources). */
const CONSOLE_FILE = /^\/(index\.html|styles\.css|dist\/[\w./-]+\.js(\.map)?)?$/;
/** The uPlot files the page loads. */
const UPLOT_FILE = /^\/(uPlot\.iife\.min\.js|uPlot\.min\.css)$/;

function uplotDir(): string {
  // uplot's "main" is dist/uPlot.cjs.js: its folder holds the browser builds too.
  return dirname(createRequire(import.meta.url).resolve("uplot"));
}

function securityHeaders(res: { setHeader: (name: string, value: string) => unknown }): void {
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  // The console changes with the package; revalidate rather than run a stale script against a new API.
  res.setHeader("Cache-Control", "no-cache");
}

/**
 * The review console at /ui/ (issue 6) and uPlot at /ui/vendor/uplot/, both from disk, both public:
 * the data routes behind them carry their own auth, and the console asks for the token itself.
 */
export function uiRoutesFor(opts: UiRouteOptions = {}): (app: FastifyInstance) => Promise<void> {
  return (app) => registerUi(app, opts.uiDir ?? join(packageRoot, "ui"));
}

/** The console from the package's ui/ folder; fits buildApp's `plugins` list and can be awaited directly. */
export const uiRoutes: (app: FastifyInstance) => Promise<void> = uiRoutesFor();

async function registerUi(app: FastifyInstance, root: string): Promise<void> {
  const built = existsSync(join(root, "dist", "main.js"));

  // "/ui" -> "/ui/": the page's relative URLs (./dist/main.js, ../v1/...) resolve against the slash.
  // A relative Location keeps any path prefix a reverse proxy added in front of the sidecar.
  app.get("/ui", { config: { role: "public" }, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect("ui/", 302),
  );

  if (!built) {
    // A checkout where `npm run build:ui` has not run: say so instead of serving a page that stays blank.
    app.log.warn({ root }, "review console not built: run `npm run build:ui`");
    app.get("/ui/*", { config: { role: "public" }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send(
          `The review console is not built. Run \`npm run build:ui\` in ${packageRoot} and restart the sidecar.\n`,
        ),
    );
    return;
  }

  // @fastify/static's routes take no config: their scope declares them public.
  await app.register(async (files) => {
    declareScopeRole(files, "public");
    await registerStatic(files, root);
  });
}

async function registerStatic(app: FastifyInstance, root: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: uplotDir(),
    prefix: "/ui/vendor/uplot/",
    decorateReply: false,
    cacheControl: false,
    index: false,
    allowedPath: (pathName) => UPLOT_FILE.test(pathName),
    setHeaders: securityHeaders,
  });
  await app.register(fastifyStatic, {
    root,
    prefix: "/ui/",
    decorateReply: false,
    cacheControl: false,
    index: "index.html",
    wildcard: true,
    allowedPath: (pathName) => CONSOLE_FILE.test(pathName),
    setHeaders: securityHeaders,
  });
}
