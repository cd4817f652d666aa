// Runs the suites (node --test) against a real plenary binary, then the coverage check:
// every command and push kind of the schema must have been exercised by the suites.
// Bounded: each file has a time-out, and the runner kills what is left.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "plenary-js-coverage-"));
const coverage = join(dir, "coverage.txt");
const major = Number(process.versions.node.split(".")[0]);
// Node 20 and 21 have WebSocket behind a flag; 22 and later have it on.
const nodeOptions = [process.env.NODE_OPTIONS ?? "", major < 22 ? "--experimental-websocket" : ""].join(" ").trim();
const env = { ...process.env, NODE_OPTIONS: nodeOptions, PLENARY_COVERAGE_FILE: coverage };

const only = process.argv.slice(2);
const files = (only.length > 0 ? only : readdirSync(".test-build/test").filter((f) => f.endsWith(".test.js")))
  .map((f) => (f.includes("/") ? f : join(".test-build/test", f)));

const run = (args) =>
  spawnSync(process.execPath, args, { env, stdio: "inherit", timeout: 15 * 60_000, killSignal: "SIGKILL" }).status;

let status = run(["--test", "--test-concurrency=2", "--test-timeout=180000", ...files]);
if (only.length === 0) {
  const checked = run(["--test", ".test-build/test/coverage.check.js"]);
  status = status || checked;
}
rmSync(dir, { recursive: true, force: true });
process.exit(status ?? 1);
