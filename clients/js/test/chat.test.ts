// Group chat, moderation, updates, reactions, history and errors, over each subprotocol,
// against a real server.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ErrorCode, PlenaryError, Reaction, type Push } from "../src/index.js";
import { collect, connectedClient, eventually, nextEvent, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { PlenaryServer } from "./helpers/server.js";

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`chat over ${subprotocol}`, { timeout: 60_000 }, () => {
    let server: PlenaryServer;
    before(async () => {
      server = await PlenaryServer.start();
    });
    after(async () => {
      await server.stop();
    });

    test("connect, join, send: the reply and the message push; ping", async () => {
      const ctx = uniqueContext("chat");
      const alice = await connectedClient(server, subprotocol, { sub: "alice", given_name: "Alice" });
      try {
        assert.equal(alice.state, "connected");
        assert.equal(alice.session?.userId, "alice");
        const snapshots = collect(alice, "snapshot");
        const joined = await alice.join(ctx);
        assert.equal(joined.recovered, false);
        assert.ok(joined.snapshot);
        assert.equal(snapshots.length, 1, "a snapshot event for the join");
        assert.equal(snapshots[0]![0], ctx);

        const pushed = nextEvent(alice, "message", (m) => m.text === "Hello");
        const sent = await alice.send({ contextId: ctx, text: "Hello" });
        assert.ok(sent.messageId > 0n);
        assert.equal(sent.duplicate, false);
        const [message, push] = await pushed;
        assert.equal(message.id, sent.messageId);
        assert.equal(message.author?.userId, "alice");
        assert.notEqual(message.clientMsgId, "", "the SDK made up a client_msg_id");
        assert.equal(push.contextId, ctx);
        assert.deepEqual(alice.position(ctx), { epoch: push.epoch, seq: push.seq });

        // A resend with the same client_msg_id stores nothing new.
        const again = await alice.send({ contextId: ctx, text: "Hello", clientMsgId: message.clientMsgId });
        assert.equal(again.duplicate, true);
        assert.equal(again.messageId, sent.messageId);

        const pong = await alice.ping();
        assert.ok(pong.serverTimeMs > 0n);
      } finally {
        alice.close();
      }
    });

    test("moderation: like, unlike, pin, unpin, delete, block, unblock and their pushes", async () => {
      const ctx = uniqueContext("mod");
      const mod = await connectedClient(server, subprotocol, { sub: "mia", moderates: [ctx] });
      const bob = await connectedClient(server, subprotocol, { sub: "bob" });
      try {
        await mod.join(ctx);
        await bob.join(ctx);
        const modPushes = collect(mod, "push");
        const bobPushes = collect(bob, "push");

        const modSees = nextEvent(mod, "message", (m) => m.text === "Will the slides be shared?");
        const sent = await bob.send({ contextId: ctx, text: "Will the slides be shared?" });
        const [seen] = await modSees;
        assert.equal(seen.id, sent.messageId);

        const likesSeen = nextEvent(bob, "likes", (l) => l.counts.some((c) => c.messageId === sent.messageId && c.count === 1));
        const liked = await mod.like({ contextId: ctx, messageId: sent.messageId });
        assert.equal(liked.likeCount, 1);
        await likesSeen;
        const unliked = await mod.unlike({ contextId: ctx, messageId: sent.messageId });
        assert.equal(unliked.likeCount, 0);

        const pinnedSeen = nextEvent(bob, "pinned", (m) => m.id === sent.messageId);
        const pinAck = await mod.pin({ contextId: ctx, messageId: sent.messageId });
        assert.ok(pinAck.seq > 0n);
        await pinnedSeen;
        const unpinnedSeen = nextEvent(bob, "unpinned", (r) => r.messageId === sent.messageId);
        await mod.unpin({ contextId: ctx, messageId: sent.messageId });
        await unpinnedSeen;

        const blockedSeen = nextEvent(mod, "blocked", (b) => b.userId === "bob");
        await mod.block({ contextId: ctx, userId: "bob" });
        await blockedSeen;
        await assert.rejects(bob.send({ contextId: ctx, text: "let me talk" }), (e: unknown) => {
          assert.ok(e instanceof PlenaryError);
          assert.equal(e.code, ErrorCode.BLOCKED);
          assert.equal(e.codeName, "ERROR_CODE_BLOCKED");
          assert.equal(e.local, false);
          return true;
        });
        const unblockedSeen = nextEvent(mod, "unblocked", (u) => u.userId === "bob");
        await mod.unblock({ contextId: ctx, userId: "bob" });
        await unblockedSeen;

        const deletedSeen = nextEvent(bob, "deleted", (d) => d.messageId === sent.messageId);
        await mod.delete({ contextId: ctx, messageId: sent.messageId });
        const [removed] = await deletedSeen;
        assert.equal(removed.byModerator, true);

        // Pushes of each stream arrive in strictly increasing seq (seq 0 aside).
        for (const pushes of [modPushes, bobPushes]) {
          const seqs = pushes.map(([p]) => p.seq).filter((s) => s > 0n);
          for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq order ${seqs}`);
        }
      } finally {
        mod.close();
        bob.close();
      }
    });

    test("post_update, react (reactions push), history, leave", async () => {
      const ctx = uniqueContext("upd");
      const mod = await connectedClient(server, subprotocol, { sub: "mia", moderates: [ctx] });
      const ann = await connectedClient(server, subprotocol, { sub: "ann" });
      try {
        await mod.join(ctx);
        await ann.join(ctx);
        const updateSeen = nextEvent(ann, "update", (u) => u.text === "Q&A in five minutes");
        const ack = await mod.postUpdate({ contextId: ctx, title: "Heads up", text: "Q&A in five minutes", toast: true });
        assert.ok(ack.seq > 0n);
        const [update] = await updateSeen;
        assert.equal(update.title, "Heads up");

        const reactionsSeen = nextEvent(mod, "reactions", (r) => r.counts.some((c) => c.reaction === Reaction.CLAP));
        const reacted = await ann.react({ contextId: ctx, reaction: Reaction.CLAP });
        assert.equal(reacted.seq, 0n);
        const [, reactionsPush] = await reactionsSeen;
        assert.equal(reactionsPush.seq, 0n, "reactions are not events");
        // A seq-0 push never moves the position.
        assert.notEqual(mod.position(ctx)?.seq, 0n);

        for (const text of ["one", "two", "three"]) await ann.send({ contextId: ctx, text });
        const page = await ann.history({ contextId: ctx, limit: 2 });
        assert.deepEqual(
          page.messages.map((m) => m.text),
          ["two", "three"],
        );
        assert.equal(page.hasMore, true);

        await ann.leave(ctx);
        assert.deepEqual(ann.joinedContexts, []);
        await assert.rejects(ann.send({ contextId: ctx, text: "gone" }), (e: unknown) => {
          assert.ok(e instanceof PlenaryError && e.code === ErrorCode.NOT_JOINED);
          return true;
        });
      } finally {
        mod.close();
        ann.close();
      }
    });

    test("errors are typed: FORBIDDEN for an attendee's pin, NOT_JOINED before join", async () => {
      const ctx = uniqueContext("err");
      const ann = await connectedClient(server, subprotocol, { sub: "ann" });
      try {
        await assert.rejects(ann.send({ contextId: ctx, text: "early" }), (e: unknown) => {
          assert.ok(e instanceof PlenaryError);
          assert.equal(e.codeName, "ERROR_CODE_NOT_JOINED");
          return true;
        });
        await ann.join(ctx);
        await assert.rejects(ann.pin({ contextId: ctx, messageId: 1n }), (e: unknown) => {
          assert.ok(e instanceof PlenaryError);
          assert.equal(e.code, ErrorCode.FORBIDDEN);
          assert.ok(e.message.length > 0);
          return true;
        });
        // A command still works after the errors: ids keep matching.
        const pong = await ann.ping();
        assert.ok(pong.serverTimeMs > 0n);
      } finally {
        ann.close();
      }
    });

    test("pushes seen by one client are applied once and in order", async () => {
      const ctx = uniqueContext("order");
      const a = await connectedClient(server, subprotocol, { sub: "a1" });
      const b = await connectedClient(server, subprotocol, { sub: "b1" });
      try {
        await a.join(ctx);
        await b.join(ctx);
        const got: Push[] = [];
        b.on("message", (_m, p) => got.push(p));
        const ids = [];
        for (let i = 0; i < 20; i++) ids.push((await a.send({ contextId: ctx, text: `m${i}` })).messageId);
        await eventually(() => got.length === 20, "20 messages");
        assert.deepEqual(
          got.map((p) => p.seq),
          ids,
        );
      } finally {
        a.close();
        b.close();
      }
    });
  });
}
