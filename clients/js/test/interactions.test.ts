// Interactions: drafts, publication, votes, tallies, a quiz's end and rank, removal.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ErrorCode, InteractionActionKind, InteractionStatus, PlenaryError } from "../src/index.js";
import { connectedClient, nextEvent, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { PlenaryServer } from "./helpers/server.js";

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`interactions over ${subprotocol}`, { timeout: 60_000 }, () => {
    let server: PlenaryServer;
    before(async () => {
      server = await PlenaryServer.start();
    });
    after(async () => {
      await server.stop();
    });

    test("a poll: draft, publish, vote (idempotent by clientVoteId), tallies, unpublish", async () => {
      const ctx = uniqueContext("poll");
      const mod = await connectedClient(server, subprotocol, { sub: "mia", moderates: [ctx] });
      const ann = await connectedClient(server, subprotocol, { sub: "ann" });
      try {
        await mod.join(ctx);
        await ann.join(ctx);
        const draftSeen = nextEvent(mod, "interaction", (i) => i.status === InteractionStatus.DRAFT);
        const draft = await mod.saveInteraction({
          contextId: ctx,
          spec: { kind: { case: "poll", value: { question: "Tea or coffee?", options: ["Tea", "Coffee", "Water"] } } },
        });
        assert.ok(draft.interactionId > 0n);
        await draftSeen;

        const publishedSeen = nextEvent(
          ann,
          "interaction",
          (i) => i.id === draft.interactionId && i.status === InteractionStatus.PUBLISHED,
        );
        await mod.interactionAction({ contextId: ctx, interactionId: draft.interactionId, action: InteractionActionKind.PUBLISH });
        const [published] = await publishedSeen;
        assert.equal(published.spec?.kind.case, "poll");
        assert.equal(published.toast, true);

        const talliesSeen = nextEvent(mod, "tallies", (t) =>
          t.tallies.some((x) => x.interactionId === draft.interactionId && x.voters === 1),
        );
        const vote = await ann.vote({ contextId: ctx, interactionId: draft.interactionId, clientVoteId: "v-1", options: [1] });
        assert.equal(vote.duplicate, false);
        const again = await ann.vote({ contextId: ctx, interactionId: draft.interactionId, clientVoteId: "v-1", options: [1] });
        assert.equal(again.duplicate, true);
        await assert.rejects(ann.vote({ contextId: ctx, interactionId: draft.interactionId, options: [0] }), (e: unknown) => {
          assert.ok(e instanceof PlenaryError && e.code === ErrorCode.ALREADY_VOTED);
          return true;
        });
        const [tallies] = await talliesSeen;
        assert.deepEqual(tallies.tallies.find((t) => t.interactionId === draft.interactionId)?.counts, [0, 1, 0]);

        const removedSeen = nextEvent(ann, "interactionRemoved", (r) => r.interactionId === draft.interactionId);
        await mod.interactionAction({ contextId: ctx, interactionId: draft.interactionId, action: InteractionActionKind.UNPUBLISH });
        await removedSeen;
      } finally {
        mod.close();
        ann.close();
      }
    });

    test("a quiz question ends: each participant gets a rank push (seq 0)", async () => {
      const ctx = uniqueContext("quiz");
      const mod = await connectedClient(server, subprotocol, { sub: "mia", moderates: [ctx] });
      const ann = await connectedClient(server, subprotocol, { sub: "ann", given_name: "Ann" });
      try {
        await mod.join(ctx);
        await ann.join(ctx);
        const quiz = await mod.saveInteraction({
          contextId: ctx,
          spec: {
            kind: { case: "quiz", value: { question: "2 + 2?", options: ["3", "4"], correct: [1], showCorrect: true } },
          },
        });
        await mod.interactionAction({ contextId: ctx, interactionId: quiz.interactionId, action: InteractionActionKind.PUBLISH });
        await ann.vote({ contextId: ctx, interactionId: quiz.interactionId, options: [1] });
        const positionBefore = ann.position(ctx);
        const rankSeen = nextEvent(ann, "rank");
        await mod.interactionAction({ contextId: ctx, interactionId: quiz.interactionId, action: InteractionActionKind.END });
        const [rank, push] = await rankSeen;
        assert.equal(push.seq, 0n);
        assert.equal(rank.mine?.userId, "ann");
        assert.equal(rank.mine?.points, 1000);
        assert.equal(rank.mine?.rank, 1);
        // The rank push is not an event: the position only moved with the end push.
        assert.ok((ann.position(ctx)?.seq ?? 0n) >= (positionBefore?.seq ?? 0n));
        assert.notEqual(ann.position(ctx)?.seq, 0n);
      } finally {
        mod.close();
        ann.close();
      }
    });
  });
}
