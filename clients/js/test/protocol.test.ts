// The client's bookkeeping against a scripted socket, for what a real server does only
// by accident: duplicate pushes, a `resync` with pushes arriving before the rejoin's
// answer, a reply with id 0, and a connection dropping while its rejoins are in flight.

import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ErrorCode,
  PlenaryClient,
  PlenaryError,
  ServerFrameSchema,
  type ClientFrame,
  type Push,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../src/index.js";
import { collect, eventually } from "./helpers/harness.js";

type PushInit = Parameters<typeof create<typeof import("../src/index.js").PushSchema>>[1];

class ScriptedSocket implements WebSocketLike {
  static all: ScriptedSocket[] = [];
  binaryType = "arraybuffer";
  readonly protocol = "plenary.v1.proto";
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: ClientFrame[] = [];

  constructor() {
    ScriptedSocket.all.push(this);
    setTimeout(() => this.onopen?.({}));
  }
  send(data: string | Uint8Array): void {
    this.sent.push(fromBinary(ClientFrameSchema, data as Uint8Array));
  }
  close(): void {}

  reply(id: bigint, result: unknown): void {
    this.deliver({ frame: { case: "reply", value: { id, result } } });
  }
  push(push: PushInit): void {
    this.deliver({ frame: { case: "push", value: push } });
  }
  drop(code = 1006): void {
    this.onclose?.({ code, reason: "" });
  }
  last(kind: string): ClientFrame {
    const frame = [...this.sent].reverse().find((f) => f.command.case === kind);
    assert.ok(frame, `a ${kind} was sent`);
    return frame;
  }
  private deliver(init: unknown): void {
    const bytes = toBinary(ServerFrameSchema, create(ServerFrameSchema, init as never));
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
}

const token = "x.eyJzdWIiOiJ0In0.y"; // no exp: no refresh planned

async function connected(): Promise<{ client: PlenaryClient; socket: ScriptedSocket }> {
  ScriptedSocket.all = [];
  const client = new PlenaryClient({
    url: "ws://scripted",
    getToken: async () => token,
    WebSocket: ScriptedSocket as unknown as WebSocketConstructor,
    minReconnectDelayMs: 1,
    maxReconnectDelayMs: 5,
  });
  const connecting = client.connect();
  await eventually(() => ScriptedSocket.all[0]?.sent.length === 1, "the connect frame");
  const socket = ScriptedSocket.all[0]!;
  socket.reply(socket.last("connect").id, { case: "connect", value: { userId: "t", serverTimeMs: BigInt(Date.now()) } });
  await connecting;
  return { client, socket };
}

const message = (seq: bigint, text: string): PushInit => ({
  contextId: "c",
  epoch: 1n,
  seq,
  body: { case: "message", value: { id: seq, text } },
});

async function joinC(client: PlenaryClient, socket: ScriptedSocket, seq = 10n) {
  const joining = client.join("c");
  await eventually(() => socket.sent.some((f) => f.command.case === "join"), "a join");
  socket.reply(socket.last("join").id, {
    case: "join",
    value: { epoch: 1n, seq, recovered: false, snapshot: {} },
  });
  return joining;
}

test("duplicates by seq are dropped; seq-0 pushes pass without moving the position", async () => {
  const { client, socket } = await connected();
  await joinC(client, socket);
  const seen = collect(client, "push");
  socket.push(message(9n, "old (covered by the snapshot)"));
  socket.push(message(11n, "a"));
  socket.push(message(11n, "a again"));
  socket.push({ contextId: "c", body: { case: "reactions", value: { windowMs: 300 } } });
  socket.push(message(12n, "b"));
  assert.deepEqual(
    seen.map(([p]) => `${p.seq}:${p.body.case}`),
    ["11:message", "0:reactions", "12:message"],
  );
  assert.deepEqual(client.position("c"), { epoch: 1n, seq: 12n });
  client.close();
});

test("resync: rejoin with since on the same socket, hold pushes, apply missed once", async () => {
  const { client, socket } = await connected();
  await joinC(client, socket);
  socket.push(message(11n, "a"));
  const texts: string[] = [];
  client.on("message", (m) => texts.push(m.text));
  const recovered = collect(client, "recovered");
  socket.push({ contextId: "c", body: { case: "resync", value: {} } });
  const rejoin = socket.last("join");
  assert.equal(rejoin.command.case, "join");
  assert.deepEqual(
    rejoin.command.value.since && { epoch: rejoin.command.value.since.epoch, seq: rejoin.command.value.since.seq },
    { epoch: 1n, seq: 11n },
  );
  // Pushes between the resync and the answer wait; the answer replays them too.
  socket.push(message(14n, "d"));
  assert.deepEqual(texts, []);
  socket.reply(rejoin.id, {
    case: "join",
    value: {
      epoch: 1n,
      seq: 14n,
      recovered: true,
      missed: [message(12n, "b"), message(13n, "c"), message(14n, "d")],
    },
  });
  assert.deepEqual(texts, ["b", "c", "d"]);
  assert.deepEqual(
    recovered.map(([s, n]) => [s, n]),
    [["c", 3]],
  );
  client.close();
});

test("every entry of a recovery's missed is applied, even two sharing a seq", async () => {
  const { client, socket } = await connected();
  await joinC(client, socket);
  socket.push(message(11n, "a"));
  const seen = collect(client, "push");
  socket.push({ contextId: "c", body: { case: "resync", value: {} } });
  const rejoin = socket.last("join");
  socket.reply(rejoin.id, {
    case: "join",
    value: {
      epoch: 1n,
      seq: 13n,
      recovered: true,
      missed: [
        message(11n, "a, had it"),
        message(13n, "b"),
        { contextId: "c", epoch: 1n, seq: 13n, body: { case: "tallies", value: { tallies: [] } } },
      ],
    },
  });
  assert.deepEqual(
    seen.map(([p]) => `${p.seq}:${p.body.case}`).filter((s) => s !== "0:resync"),
    ["13:message", "13:tallies"],
  );
  assert.deepEqual(client.position("c"), { epoch: 1n, seq: 13n });
  client.close();
});

test("a reply with id 0 answers the oldest command waiting", async () => {
  const { client, socket } = await connected();
  const first = client.ping();
  const second = client.ping();
  await eventually(() => socket.sent.filter((f) => f.command.case === "ping").length === 2, "two pings");
  socket.reply(0n, { case: "error", value: { code: ErrorCode.BAD_REQUEST, message: "malformed" } });
  await assert.rejects(first, (e: unknown) => e instanceof PlenaryError && e.code === ErrorCode.BAD_REQUEST);
  const pings = socket.sent.filter((f) => f.command.case === "ping");
  socket.reply(pings[1]!.id, { case: "pong", value: { serverTimeMs: 5n } });
  assert.equal((await second).serverTimeMs, 5n);
  client.close();
});

test("a connection lost during its rejoins: the next one rejoins and then sends what waited", async () => {
  const { client, socket } = await connected();
  await joinC(client, socket);
  socket.drop();
  await eventually(() => ScriptedSocket.all.length === 2 && ScriptedSocket.all[1]!.sent.length === 1, "a reconnect");
  const second = ScriptedSocket.all[1]!;
  second.reply(second.last("connect").id, { case: "connect", value: { userId: "t" } });
  assert.equal(second.last("join").command.case, "join");
  const waiting = client.ping(); // waits for the rejoin
  second.drop(); // …which never gets its answer
  await eventually(() => ScriptedSocket.all.length === 3 && ScriptedSocket.all[2]!.sent.length === 1, "another reconnect");
  const third = ScriptedSocket.all[2]!;
  third.reply(third.last("connect").id, { case: "connect", value: { userId: "t" } });
  const rejoin = third.last("join");
  assert.equal(third.sent.some((f) => f.command.case === "ping"), false, "the ping waits for the rejoin");
  third.reply(rejoin.id, { case: "join", value: { epoch: 1n, seq: 10n, recovered: true } });
  await eventually(() => third.sent.some((f) => f.command.case === "ping"), "the ping goes out");
  third.reply(third.last("ping").id, { case: "pong", value: { serverTimeMs: 1n } });
  assert.equal((await waiting).serverTimeMs, 1n);
  client.close();
});

test("close codes that must not loop stop the client", async () => {
  const { client, socket } = await connected();
  const disconnects = collect(client, "disconnected");
  socket.drop(4000);
  assert.equal(client.state, "closed");
  assert.equal(disconnects[0]![0].willReconnect, false);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ScriptedSocket.all.length, 1, "no reconnect");
});

void (null as unknown as Push);
