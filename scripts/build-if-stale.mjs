// `prepare` (run by npm ci, npm install, and by npx in this checkout): builds unless the built files are
// newer than every source. npx policy-advisor in the checkout links the checkout into npm's cache and runs
// `prepare` on each first use; a full build there took 44 s before the server started.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUTPUTS = [
  "dist/cli/main.js",
  "dist/index.js",
  "dist/client/index.js",
  "dist/store/sql/sqlite.sql",
  "dist/store/sql/postgres.sql",
  "ui/dist/main.js",
];
const SOURCES = [
  "src",
  "ui/src",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "ui/tsconfig.json",
  "ui/tsconfig.schemas.json",
];

/** Newest modification time under a file or directory (0 when absent). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newest(join(path, f))), st.mtimeMs);
}

const outputs = OUTPUTS.map((f) => join(root, f));
const builtAt = outputs.every((f) => existsSync(f))
  ? Math.min(...outputs.map((f) => statSync(f).mtimeMs))
  : 0;
const changedAt = Math.max(...SOURCES.map((f) => newest(join(root, f))));

if (builtAt > changedAt) {
  process.stdout.write("policy-advisor: dist/ is up to date with the sources; not rebuilding\n");
} else {
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, "run", "build"], { cwd: root, stdio: "inherit" })
    : spawnSync("npm", ["run", "build"], {
        cwd: root,
        stdio: "inherit",
        shell: process.platform === "win32",
      });
  process.exitCode = r.status ?? 1;
}
