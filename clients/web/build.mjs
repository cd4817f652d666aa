// Builds dist/ (what the gateway embeds): src/main.ts bundled with the SDK into
// app.js, and index.html and app.css copied. The output is committed, so a cargo
// build needs no Node; ci.sh rebuilds it and fails if it differs from the commit.
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";

const here = new URL(".", import.meta.url).pathname;
const dist = `${here}dist`;
await rm(dist, { recursive: true, force: true });
await mkdir(dist);
await build({
  entryPoints: [`${here}src/main.ts`],
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  outfile: `${dist}/app.js`,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) {
  await copyFile(`${here}src/${file}`, `${dist}/${file}`);
}
console.log("dist:", (await readdir(dist)).sort().join(" "));
