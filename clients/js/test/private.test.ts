// Private chat: the private stream, connections, private messages, settings, people.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConnectionActionKind, PeerStatus } from "../src/index.js";
import { collect, connectedClient, nextEvent, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { PlenaryServer } from "./helpers/server.js";

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`private chat over ${subprotocol}`, { timeout: 60_000 }, () => {
    let server: PlenaryServer;
    before(async () => {
      server = await PlenaryServer.start();
    });
    after(async () => {
      await server.stop();
    });

    test("open, people, request/accept, dm_send/read/delete/history, settings", async () => {
      const ctx = uniqueContext("dm");
      // Distinct user ids per subprotocol run: private streams outlive connections.
      const a = `alice-${subprotocol.slice(11)}`;
      const b = `nova-${subprotocol.slice(11)}`;
      const alice = await connectedClient(server, subprotocol, { sub: a, given_name: "Alice" });
      const nova = await connectedClient(server, subprotocol, { sub: b, given_name: "Nova", family_name: "Jones" });
      try {
        const snapshots = collect(alice, "privateSnapshot");
        const opened = await alice.openPrivate();
        assert.equal(opened.recovered, false);
        assert.equal(snapshots.length, 1);
        await nova.openPrivate();
        await alice.join(ctx);
        await nova.join(ctx);

        const found = await alice.people({ query: "nov" });
        assert.deepEqual(
          found.people.map((p) => p.userId),
          [b],
        );

        const requested = nextEvent(nova, "peerUpdate", (u) => u.peer?.userId === a && u.peer.status === PeerStatus.REQUEST_RECEIVED);
        await alice.connection({ userId: b, action: ConnectionActionKind.REQUEST });
        await requested;
        const accepted = nextEvent(alice, "peerUpdate", (u) => u.peer?.userId === b && u.peer.status === PeerStatus.CONNECTED);
        await nova.connection({ userId: a, action: ConnectionActionKind.ACCEPT });
        const [, acceptedPush] = await accepted;
        assert.equal(acceptedPush.contextId, "", "private pushes have an empty context id");

        const dmSeen = nextEvent(nova, "peerUpdate", (u) => u.message?.text === "Hi Nova!");
        const sent = await alice.dmSend({ userId: b, text: "Hi Nova!" });
        const [dm] = await dmSeen;
        assert.equal(dm.message?.messageId, sent.messageId);
        assert.equal(dm.message?.senderId, a);

        const readSeen = nextEvent(alice, "peerUpdate", (u) => u.peer?.userId === b && u.peer.peerReadId === sent.messageId);
        await nova.dmRead({ userId: a, messageId: sent.messageId });
        await readSeen;

        const second = await alice.dmSend({ userId: b, text: "typo" });
        const removedSeen = nextEvent(nova, "peerUpdate", (u) => u.removed?.messageId === second.messageId);
        await alice.dmDelete({ userId: b, messageId: second.messageId });
        await removedSeen;

        const page = await nova.dmHistory({ userId: a });
        assert.deepEqual(
          page.messages.map((m) => m.text),
          ["Hi Nova!"],
        );

        const settingsSeen = nextEvent(alice, "settings", (s) => s.showLastName === false);
        await alice.settings({ showLastName: false });
        const [settings] = await settingsSeen;
        assert.equal(settings.privateChat, true);

        await alice.closePrivate();
        assert.equal(alice.position(""), undefined);
      } finally {
        alice.close();
        nova.close();
      }
    });
  });
}
