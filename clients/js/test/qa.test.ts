// Q&A: ask, answer in the thread, thread actions, publishing to the feed.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ThreadActionKind, ThreadState } from "../src/index.js";
import { connectedClient, nextEvent, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { PlenaryServer } from "./helpers/server.js";

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`Q&A over ${subprotocol}`, { timeout: 60_000 }, () => {
    let server: PlenaryServer;
    before(async () => {
      server = await PlenaryServer.start();
    });
    after(async () => {
      await server.stop();
    });

    test("ask, claim, answer, resolve, clear; publish_qa and unpublish with their pushes", async () => {
      const ctx = uniqueContext("qa");
      const mod = await connectedClient(server, subprotocol, { sub: "mia", moderates: [ctx] });
      const ann = await connectedClient(server, subprotocol, { sub: "ann", given_name: "Ann" });
      const bob = await connectedClient(server, subprotocol, { sub: "bob" });
      try {
        for (const c of [mod, ann, bob]) await c.join(ctx);

        const opened = nextEvent(mod, "thread", (t) => t.state === ThreadState.PENDING);
        const question = await ann.ask({ contextId: ctx, text: "Will the slides be shared?" });
        assert.ok(question.threadId > 0n);
        const [thread] = await opened;
        assert.equal(thread.id, question.threadId);
        assert.equal(thread.attendee?.userId, "ann");

        const owned = nextEvent(ann, "thread", (t) => t.id === question.threadId && t.state === ThreadState.OWNED);
        const claim = await mod.threadAction({ contextId: ctx, threadId: question.threadId, action: ThreadActionKind.CLAIM });
        assert.ok(claim.seq > 0n);
        await owned;

        const answerSeen = nextEvent(ann, "message", (m) => m.threadId === question.threadId && m.text.startsWith("Yes"));
        const answer = await mod.send({ contextId: ctx, text: "Yes, after the talk.", threadId: question.threadId });
        const [answerPush] = await answerSeen;
        assert.equal(answerPush.author?.asContext, true, "the attendee sees the answer as the session");

        const feedSeen = nextEvent(bob, "feedQa", (f) => f.threadId === question.threadId);
        const published = await mod.publishQa({
          contextId: ctx,
          threadId: question.threadId,
          questionId: question.messageId,
          answerId: answer.messageId,
        });
        const [feed] = await feedSeen;
        assert.equal(feed.itemId, published.seq);
        assert.equal(feed.question?.text, "Will the slides be shared?");

        const removedSeen = nextEvent(bob, "feedRemoved", (r) => r.itemId === published.seq);
        await mod.unpublish({ contextId: ctx, itemId: published.seq });
        await removedSeen;

        await mod.threadAction({ contextId: ctx, threadId: question.threadId, action: ThreadActionKind.RESOLVE });
        const done = nextEvent(mod, "thread", (t) => t.id === question.threadId && t.state === ThreadState.DONE);
        await mod.threadAction({ contextId: ctx, threadId: question.threadId, action: ThreadActionKind.CLEAR });
        await done;
      } finally {
        for (const c of [mod, ann, bob]) c.close();
      }
    });
  });
}
