// Pure parts: back-off, close codes, token times, the JSON mapping, the command table.

import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  backoffDelay,
  ClientFrameSchema,
  closeVerdict,
  decodeServerFrame,
  encodeClientFrame,
  ErrorCode,
  PlenaryError,
  RESULT_OF,
  ReplySchema,
  tokenTimes,
} from "../src/index.js";
import { mintToken } from "./helpers/server.js";


test("back-off: full jitter under an exponential cap, never above the max", () => {
  const opts = { minDelayMs: 500, maxDelayMs: 30_000 };
  assert.equal(backoffDelay(0, opts, () => 0), 0);
  assert.equal(backoffDelay(0, opts, () => 0.999999), 499);
  assert.equal(backoffDelay(3, opts, () => 0.999999), 3999);
  assert.equal(backoffDelay(50, opts, () => 0.999999), 29_999);
  for (let i = 0; i < 100; i++) assert.ok(backoffDelay(i % 12, opts) < 30_000);
});

test("close codes: 4000/4003/4009 stop, 4001 wants a new token, 4004/4013/4029 back off, the rest reconnect", () => {
  for (const code of [4000, 4003, 4009]) assert.equal(closeVerdict(code).reconnect, false, `${code}`);
  assert.deepEqual(closeVerdict(4001), { reconnect: true, newToken: true, minAttempt: 0 });
  for (const code of [4004, 4013, 4029]) assert.ok(closeVerdict(code).minAttempt > 0, `${code}`);
  for (const code of [1006, 1012, 4002, 4008, 4010]) {
    assert.deepEqual(closeVerdict(code), { reconnect: true, newToken: false, minAttempt: 0 }, `${code}`);
  }
});

test("token times come from exp and iat", () => {
  const times = tokenTimes(mintToken({ sub: "x", ttl: 60 }));
  assert.ok(times);
  assert.equal(times.expiresAtMs - (times.issuedAtMs ?? 0), 60_000);
  assert.equal(tokenTimes("not a jwt"), undefined);
});

test("JSON frames: proto field names, 64-bit as strings, enums as names, oneof as its key", () => {
  const frame = create(ClientFrameSchema, {
    id: 7n,
    command: { case: "threadAction", value: { contextId: "w", threadId: 60n, action: 4 } },
  });
  const json = JSON.parse(encodeClientFrame("plenary.v1.json", frame) as string);
  assert.deepEqual(json, { id: "7", thread_action: { context_id: "w", thread_id: "60", action: "THREAD_ACTION_KIND_CLAIM" } });
  const ping = JSON.parse(encodeClientFrame("plenary.v1.json", create(ClientFrameSchema, { id: 1n, command: { case: "ping", value: {} } })) as string);
  assert.deepEqual(ping, { id: "1", ping: {} });
});

test("JSON server frames: both the canonical form and the older one (numbers, nulls) read; unknown fields skipped", () => {
  const old = decodeServerFrame(
    "plenary.v1.json",
    '{"reply":{"id":2,"join":{"context":null,"role":"ROLE_MODERATOR","epoch":1767225600123,"seq":41,"recovered":true,"missed":[],"snapshot":null,"later_field":1}}}',
  );
  const canonical = decodeServerFrame(
    "plenary.v1.json",
    '{"reply":{"id":"2","join":{"role":"ROLE_MODERATOR","epoch":"1767225600123","seq":"41","recovered":true}}}',
  );
  for (const frame of [old, canonical]) {
    assert.equal(frame.frame.case, "reply");
    const reply = frame.frame.value as ReturnType<typeof create<typeof ReplySchema>>;
    assert.equal(reply.id, 2n);
    assert.equal(reply.result.case, "join");
    assert.equal(reply.result.value?.$typeName === "plenary.v1.JoinOk" && reply.result.value.epoch, 1767225600123n);
  }
});

test("every command of the schema has a reply result in the table", () => {
  const commands = ClientFrameSchema.oneofs.find((o) => o.name === "command")!.fields.map((f) => f.localName);
  assert.deepEqual(Object.keys(RESULT_OF).sort(), [...commands].sort());
});

test("PlenaryError names its code", () => {
  const e = new PlenaryError(ErrorCode.RATE_LIMITED, "slow down", 250);
  assert.equal(e.codeName, "ERROR_CODE_RATE_LIMITED");
  assert.equal(e.retryAfterMs, 250);
  assert.ok(e instanceof Error);
});
