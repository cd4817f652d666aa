// The `context` push: the admin API changes a context's settings.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectedClient, nextEvent, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { renameContext } from "./helpers/admin.js";
import { PlenaryServer } from "./helpers/server.js";

for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
  describe(`context settings over ${subprotocol}`, { timeout: 30_000 }, () => {
    let server: PlenaryServer;
    before(async () => {
      server = await PlenaryServer.start();
    });
    after(async () => {
      await server.stop();
    });

    test("UpdateContext reaches joined clients as a context push", async () => {
      const ctx = uniqueContext("settings");
      const ann = await connectedClient(server, subprotocol, { sub: "ann" });
      try {
        const joined = await ann.join(ctx);
        assert.equal(joined.context?.name, ctx);
        const seen = nextEvent(ann, "context", (c) => c.name === "Quarterly all-hands");
        await renameContext(server, ctx, "Quarterly all-hands");
        const [info, push] = await seen;
        assert.equal(info.id, ctx);
        assert.ok(push.seq > joined.seq);
        assert.equal(ann.position(ctx)?.seq, push.seq);
      } finally {
        ann.close();
      }
    });
  });
}
