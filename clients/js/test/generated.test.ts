// The committed generated code is what `npm run generate` makes from proto/ now.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { PACKAGE_ROOT, REPO_ROOT } from "./helpers/server.js";

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test("src/gen is up to date with proto/plenary/v1/client.proto", { timeout: 60_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), "plenary-js-gen-"));
  try {
    const template = join(out, "buf.gen.yaml");
    const config = readFileSync(join(PACKAGE_ROOT, "buf.gen.yaml"), "utf8").replace("out: src/gen", `out: ${join(out, "gen")}`);
    writeFileSync(template, config);
    execFileSync(
      join(PACKAGE_ROOT, "node_modules/.bin/buf"),
      ["generate", join(REPO_ROOT, "proto"), "--template", template, "--path", join(REPO_ROOT, "proto/plenary/v1/client.proto")],
      {
        cwd: PACKAGE_ROOT,
        env: { ...process.env, PATH: `${join(PACKAGE_ROOT, "node_modules/.bin")}:${process.env.PATH}` },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const committed = join(PACKAGE_ROOT, "src/gen");
    const fresh = join(out, "gen");
    assert.deepEqual(files(fresh), files(committed));
    for (const file of files(fresh)) {
      assert.ok(
        readFileSync(join(fresh, file), "utf8") === readFileSync(join(committed, file), "utf8"),
        `src/gen/${file} is stale: run npm run generate`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
