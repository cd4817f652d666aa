// Run after the suites (scripts/test.mjs): every command of `ClientFrame.command` must
// have been answered with success, and every `Push.body` kind received, over each
// subprotocol under test. The lists come from the generated descriptor, so a command or
// push added to client.proto fails here until a test exercises it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ClientFrameSchema, PushSchema } from "../src/index.js";
import { SUBPROTOCOLS_UNDER_TEST } from "./helpers/harness.js";

const file = process.env.PLENARY_COVERAGE_FILE;

test("the suites cover every command and push kind of the schema", { skip: !file && "run through npm test" }, () => {
  const seen = new Set(readFileSync(file!, "utf8").split("\n").filter(Boolean));
  const commands = ClientFrameSchema.oneofs.find((o) => o.name === "command")!.fields.map((f) => f.localName);
  const pushes = PushSchema.oneofs.find((o) => o.name === "body")!.fields.map((f) => f.localName);
  const missing: string[] = [];
  for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
    for (const kind of commands) if (!seen.has(`command ${subprotocol} ${kind}`)) missing.push(`command ${kind} (${subprotocol})`);
    for (const kind of pushes) if (!seen.has(`push ${subprotocol} ${kind}`)) missing.push(`push ${kind} (${subprotocol})`);
  }
  assert.deepEqual(missing, [], `not covered by any test: ${missing.join(", ")}`);
  console.log(`covered: ${commands.length} commands and ${pushes.length} push kinds over ${SUBPROTOCOLS_UNDER_TEST.join(", ")}`);
});
