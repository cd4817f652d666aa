// Builds dist/ (what the gateway embeds): src/main.ts bundled with the SDK into
// app.js, and index.html and app.css copied. The output is committed, so a cargo
// build needs no Node; ci.sh rebuilds it and fails if it differs from the commit.
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";

const here = new URL(".", import.meta.url).pathname;

// The SDK (../js/src) imports the protobuf runtime: always resolve it from here (this
// package pins the SDK's version), so the bundle is the same whether or not clients/js
// has a node_modules of its own.
const protobufFromHere = {
  name: "protobuf-from-here",
  setup(build) {
    build.onResolve({ filter: /^@bufbuild\/protobuf(\/|$)/ }, (args) =>
      args.pluginData === "here" ? undefined : build.resolve(args.path, { kind: args.kind, resolveDir: here, pluginData: "here" }),
    );
  },
};
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
  plugins: [protobufFromHere],
});
for (const file of ["index.html", "app.css"]) {
  await copyFile(`${here}src/${file}`, `${dist}/${file}`);
}
console.log("dist:", (await readdir(dist)).sort().join(" "));
