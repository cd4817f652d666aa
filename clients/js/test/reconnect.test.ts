// Reconnect and recovery against a real server that dies (kill -9), drains (SIGTERM,
// 1012), expires a token (4001), refuses an oversized frame (4009) or a user's extra
// connection (4004).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  ConnectionActionKind,
  PeerStatus,
  type DisconnectInfo,
  type Push,
  type WebSocketConstructor,
} from "../src/index.js";
import { collect, connectedClient, eventually, newClient, nextEvent, sleep, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { mintToken, PlenaryServer } from "./helpers/server.js";

/** A WebSocket whose connects fail (to a closed port) while the gate is shut. */
function gatedWebSocket(): { WebSocket: WebSocketConstructor; gate: { open: boolean } } {
  const gate = { open: true };
  const Base = (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket;
  const Gated = function (url: string, protocols: string | string[]) {
    return new Base(gate.open ? url : "ws://127.0.0.1:9/ws", protocols);
  } as unknown as WebSocketConstructor;
  return { WebSocket: Gated, gate };
}

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`reconnect over ${subprotocol}`, { timeout: 120_000 }, () => {
    const servers: PlenaryServer[] = [];
    after(async () => {
      for (const s of servers) await s.stop();
    });

    test("kill -9 and restart on the same data dir and port: nothing missing, nothing doubled", async () => {
      const server = await PlenaryServer.start();
      servers.push(server);
      const ctx = uniqueContext("crash");
      const other = uniqueContext("crash-other");
      const a = `alice-${subprotocol.slice(11)}`;
      const b = `bob-${subprotocol.slice(11)}`;
      const { WebSocket, gate } = gatedWebSocket();
      const alice = await connectedClient(server, subprotocol, { sub: a }, { WebSocket });
      const bob = await connectedClient(server, subprotocol, { sub: b });
      try {
        await alice.join(ctx);
        await alice.join(other);
        await alice.openPrivate();
        await bob.join(ctx);
        await bob.join(other);
        await bob.openPrivate();
        await alice.connection({ userId: b, action: ConnectionActionKind.REQUEST });
        await bob.connection({ userId: a, action: ConnectionActionKind.ACCEPT });

        const messages: Push[] = [];
        alice.on("message", (_m, push) => messages.push(push));
        const dms: string[] = [];
        alice.on("peerUpdate", (u) => {
          if (u.message) dms.push(u.message.text);
        });
        const snapshots = collect(alice, "snapshot");
        const privateSnapshots = collect(alice, "privateSnapshot");
        const recovered = collect(alice, "recovered");
        const disconnects = collect(alice, "disconnected");

        const acked: { ctx: string; seq: bigint }[] = [];
        const sendAs = async (text: string, where = ctx) => {
          const ok = await bob.send({ contextId: where, text });
          acked.push({ ctx: where, seq: ok.seq });
        };
        for (let i = 0; i < 5; i++) await sendAs(`before ${i}`);
        await bob.dmSend({ userId: a, text: "dm before" });
        await eventually(() => messages.length === 5 && dms.length === 1, "the first pushes");

        // The server dies without a close frame; alice cannot get back in for a while.
        gate.open = false;
        await server.kill();
        await eventually(() => disconnects.length > 0, "alice to notice");
        assert.equal(disconnects[0]![0].code, 1006);
        assert.equal(disconnects[0]![0].willReconnect, true);

        // A command issued while disconnected waits and goes out after the rejoins.
        const queuedSend = alice.send({ contextId: other, text: "sent while away" });

        const bobBack = nextEvent(bob, "recovered", (stream) => stream === ctx, 20_000);
        await server.restart();
        await bobBack;
        // Events alice misses while away: in both contexts and her private stream.
        for (let i = 0; i < 5; i++) await sendAs(`while away ${i}`);
        await sendAs("other while away", other);
        await bob.dmSend({ userId: a, text: "dm while away" });

        const aliceBack = nextEvent(alice, "connected", () => true, 20_000);
        gate.open = true;
        await aliceBack;
        const queued = await queuedSend;
        assert.ok(queued.messageId > 0n);
        await eventually(() => recovered.length === 3, "three recoveries (two contexts, private)", 20_000);
        for (let i = 0; i < 5; i++) await sendAs(`after ${i}`);
        const expected = acked.length + 1; // bob's messages and alice's queued one
        await eventually(() => messages.length >= expected, `${expected} messages`, 20_000);
        await eventually(() => dms.length >= 2, "two private messages");
        await sleep(300); // anything doubled would arrive now

        assert.deepEqual(snapshots.length, 0, "recovered, never resynced with a snapshot");
        assert.deepEqual(privateSnapshots.length, 0);
        assert.deepEqual(recovered.map(([stream]) => stream).sort(), ["", ctx, other].sort());
        const missedInCtx = recovered.find(([stream]) => stream === ctx)![1];
        assert.ok(missedInCtx >= 5, `missed in ${ctx}: ${missedInCtx}`);

        const got = messages.map((p) => `${p.contextId}#${p.seq}`);
        assert.equal(new Set(got).size, got.length, `no duplicates: ${got}`);
        const want = [...acked.map((x) => `${x.ctx}#${x.seq}`), `${other}#${queued.seq}`];
        assert.deepEqual([...got].sort(), [...want].sort(), "exactly the acknowledged messages");
        for (const c of [ctx, other]) {
          const seqs = messages.filter((p) => p.contextId === c).map((p) => p.seq);
          assert.deepEqual(seqs, [...seqs].sort((x, y) => (x < y ? -1 : 1)), `in order in ${c}`);
        }
        assert.deepEqual(dms, ["dm before", "dm while away"]);
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("SIGTERM drains with 1012: the client reconnects with jitter and recovers", async () => {
      const server = await PlenaryServer.start();
      servers.push(server);
      const ctx = uniqueContext("drain");
      const alice = await connectedClient(server, subprotocol, { sub: "alice" });
      const bob = await connectedClient(server, subprotocol, { sub: "bob" });
      try {
        await alice.join(ctx);
        await bob.join(ctx);
        const seenBefore = nextEvent(alice, "message", (m) => m.text === "before");
        const messages: string[] = [];
        alice.on("message", (m) => messages.push(m.text));
        await bob.send({ contextId: ctx, text: "before" });
        await seenBefore;
        const closed = nextEvent(alice, "disconnected");
        await server.terminate();
        const [info] = (await closed) as [DisconnectInfo];
        assert.equal(info.code, 1012);
        assert.equal(info.willReconnect, true);
        const aliceBack = nextEvent(alice, "recovered", (s) => s === ctx, 20_000);
        const bobBack = nextEvent(bob, "recovered", (s) => s === ctx, 20_000);
        await server.restart();
        const [, missed] = await aliceBack;
        assert.equal(missed, 0);
        await bobBack;
        const seen = nextEvent(alice, "message", (m) => m.text === "after");
        await bob.send({ contextId: ctx, text: "after" });
        await seen;
        assert.deepEqual(messages, ["before", "after"]);
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("token expiry (4001): a new token from getToken, reconnect, recover", async () => {
      const server = await PlenaryServer.start({ args: ["--ping-interval-secs", "1", "--idle-timeout-secs", "5", "--jwt-leeway-secs", "0"] });
      servers.push(server);
      const ctx = uniqueContext("expiry");
      let tokens = 0;
      const alice = newClient(server, subprotocol, {
        autoRefresh: false,
        getToken: async () => {
          tokens += 1;
          return mintToken({ sub: "alice", ttl: tokens === 1 ? 2 : 3600 });
        },
      });
      try {
        await alice.connect();
        await alice.join(ctx);
        const [info] = (await nextEvent(alice, "disconnected", () => true, 10_000)) as [DisconnectInfo];
        assert.equal(info.code, 4001);
        assert.equal(info.willReconnect, true);
        await nextEvent(alice, "recovered", (s) => s === ctx, 10_000);
        assert.equal(tokens, 2, "a fresh token for the reconnect");
        assert.equal(alice.state, "connected");
      } finally {
        alice.close();
      }
    });

    test("refresh before expiry keeps the connection open", async () => {
      const server = await PlenaryServer.start({ args: ["--ping-interval-secs", "1", "--idle-timeout-secs", "5", "--jwt-leeway-secs", "0"] });
      servers.push(server);
      let tokens = 0;
      const alice = newClient(server, subprotocol, {
        refreshMarginMs: 1500,
        getToken: async () => {
          tokens += 1;
          return mintToken({ sub: "alice", ttl: 3 });
        },
      });
      const errors = collect(alice, "error");
      const disconnects = collect(alice, "disconnected");
      try {
        await alice.connect();
        // Three token lifetimes: without refresh the server closes with 4001 after 3 s.
        await sleep(7000);
        assert.deepEqual(
          errors.map(([e]) => e.message),
          [],
        );
        assert.deepEqual(disconnects, []);
        assert.ok(tokens >= 3, `refreshed with fresh tokens (${tokens} fetched)`);
        assert.equal(alice.state, "connected");
      } finally {
        alice.close();
      }
    });

    test("4009 (oversized frame) stops the client instead of looping", async () => {
      const server = await PlenaryServer.start({ args: ["--max-frame-bytes", "1024"] });
      servers.push(server);
      const ctx = uniqueContext("big");
      const alice = await connectedClient(server, subprotocol, { sub: "alice" });
      await alice.join(ctx);
      const closed = nextEvent(alice, "disconnected");
      await assert.rejects(alice.send({ contextId: ctx, text: "é".repeat(1500) }));
      const [info] = (await closed) as [DisconnectInfo];
      assert.equal(info.code, 4009);
      assert.equal(info.willReconnect, false);
      assert.equal(alice.state, "closed");
      await sleep(300);
      assert.equal(alice.state, "closed", "no reconnect");
    });

    test("4004 (too many connections of the user) backs off and keeps trying", async () => {
      const server = await PlenaryServer.start({ args: ["--max-connections-per-user", "1"] });
      servers.push(server);
      const first = await connectedClient(server, subprotocol, { sub: "carol" });
      const second = newClient(server, subprotocol, { claims: { sub: "carol" }, minReconnectDelayMs: 200 });
      try {
        const closed = nextEvent(second, "disconnected");
        const connecting = second.connect();
        const [info] = (await closed) as [DisconnectInfo];
        assert.equal(info.code, 4004);
        assert.equal(info.willReconnect, true);
        // Once the first connection is gone, the second gets in.
        first.close();
        const session = await connecting;
        assert.equal(session.userId, "carol");
      } finally {
        first.close();
        second.close();
      }
    });

    test("a private stream snapshot and rejoin bookkeeping survive a reconnect", async () => {
      const server = await PlenaryServer.start();
      servers.push(server);
      const alice = await connectedClient(server, subprotocol, { sub: "pia" });
      try {
        await alice.openPrivate();
        const before = alice.position("");
        assert.ok(before);
        const back = nextEvent(alice, "recovered", (s) => s === "", 20_000);
        await server.kill();
        await server.restart();
        await back;
        assert.deepEqual(alice.position(""), before);
        const people = await alice.people({ query: "" });
        assert.ok(people.people.every((p) => p.status === PeerStatus.NONE));
      } finally {
        alice.close();
      }
    });
  });
}
