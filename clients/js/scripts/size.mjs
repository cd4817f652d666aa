// The SDK's cost in a browser bundle: dist/index.js with @bufbuild/protobuf, bundled
// and minified by esbuild (ESM, browser), then gzipped.

import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const result = await build({
  entryPoints: ["dist/index.js"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  metafile: true,
});
const code = result.outputFiles[0].contents;
const gz = gzipSync(code, { level: 9 });
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`minified: ${kib(code.length)} (${code.length} bytes)`);
console.log(`minified + gzip: ${kib(gz.length)} (${gz.length} bytes)`);
const inputs = Object.entries(result.metafile.outputs)[0][1].inputs;
const byPackage = {};
for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
  const key = path.includes("node_modules/@bufbuild/protobuf") ? "@bufbuild/protobuf" : path.includes("/gen/") ? "generated (gen/)" : "sdk";
  byPackage[key] = (byPackage[key] ?? 0) + bytesInOutput;
}
for (const [key, bytes] of Object.entries(byPackage)) console.log(`  ${key}: ${kib(bytes)} minified`);
