// The `resync` push: a one-node cluster on a private redis-server loses its Redis data
// (FLUSHALL); the server tells the client to resync, and the client rejoins by itself:
// the context's new epoch comes as a snapshot, and chat goes on.

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { connectedClient, eventually, nextEvent, sleep, SUBPROTOCOLS_UNDER_TEST, uniqueContext } from "./helpers/harness.js";
import { freePort, PlenaryServer } from "./helpers/server.js";

const REDIS_SERVER = process.env.REDIS_SERVER ?? "redis-server";
const REDIS_CLI = process.env.REDIS_CLI ?? "redis-cli";

describe("resync (cluster mode, Redis emptied)", { timeout: 120_000 }, () => {
  let redis: ChildProcess;
  let redisPort: number;
  before(async () => {
    redisPort = await freePort();
    redis = spawn(REDIS_SERVER, ["--port", `${redisPort}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    redis.once("error", () => {});
    await eventually(
      () => spawnSync(REDIS_CLI, ["-p", `${redisPort}`, "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG",
      `a private ${REDIS_SERVER} (install redis-server and redis-tools, or set REDIS_SERVER/REDIS_CLI)`,
      10_000,
    );
  });
  after(() => {
    redis?.kill("SIGKILL");
  });

  for (const subprotocol of SUBPROTOCOLS_UNDER_TEST) {
    test(`over ${subprotocol}: a resync push, then a snapshot of the new epoch, then live pushes`, async () => {
      const prefix = `js-${subprotocol.slice(11)}-${process.pid}`;
      const server = await PlenaryServer.start({
        args: ["--redis-url", `redis://127.0.0.1:${redisPort}/`, "--redis-prefix", prefix, "--node-id", "n1", "--shards", "4", "--lease-ttl-ms", "1000"],
      });
      const ctx = uniqueContext("resync");
      let alice;
      try {
        alice = await connectedClient(server, subprotocol, { sub: "alice" });
        // Right after start the shards are being placed: retry like an app would.
        let joined;
        for (let i = 0; i < 50 && !joined; i++) {
          joined = await alice.join(ctx).catch(() => undefined);
          if (!joined) await sleep(200);
        }
        assert.ok(joined, "joined the context");
        await alice.send({ contextId: ctx, text: "before the loss" });
        const oldEpoch = joined.epoch;

        const resync = nextEvent(alice, "resync", (_r, push) => push.contextId === ctx, 30_000);
        const snapshot = nextEvent(alice, "snapshot", (id, _s, join) => id === ctx && join.epoch !== oldEpoch, 60_000);
        spawnSync(REDIS_CLI, ["-p", `${redisPort}`, "flushall"]);
        const [, resyncPush] = await resync;
        assert.equal(resyncPush.seq, 0n);
        await snapshot;
        assert.notEqual(alice.position(ctx)?.epoch, oldEpoch);

        let sent;
        for (let i = 0; i < 50 && !sent; i++) {
          sent = await alice.send({ contextId: ctx, text: "after the loss" }).catch(() => undefined);
          if (!sent) await sleep(200);
        }
        assert.ok(sent, "chat goes on");
        await eventually(() => alice!.position(ctx)?.seq === sent!.seq, "the message push");
      } finally {
        alice?.close();
        await server.stop();
      }
    });
  }
});
