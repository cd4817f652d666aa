// The server dies (SIGKILL) during a browser session and comes back on the same port
// and data directory. While one page is still cut off, the webinar goes on; when it
// reconnects it recovers from its position: nothing missing, nothing twice.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, live, openUser, Plenary, tab, texts, until, withEvidence, write } from "./harness.mjs";

const CONTEXT = "webinar-crash";
let server;
let browser;

before(async () => {
  server = new Plenary();
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The chat's message ids and texts, and whether an id shows twice. */
async function chat(page) {
  return page.evaluate(() => {
    const items = [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message]")];
    const ids = items.map((m) => m.dataset.id);
    return { ids, unique: new Set(ids).size === ids.length, texts: items.map((m) => m.querySelector("[data-testid=message-text]").textContent) };
  });
}

test("a page recovers after the server is killed and restarted", { timeout: 120_000 }, async () => {
  const pages = [];
  await withEvidence(() => pages, async () => {
    const mia = await openUser(browser, server, { sub: "u-mia", name: "Mia Moss", moderates: [CONTEXT], context: CONTEXT });
    const ann = await openUser(browser, server, { sub: "u-ann", name: "Ann Archer", context: CONTEXT });
    pages.push(mia, ann);

    for (const text of ["one", "two", "three"]) await write(ann, "chat", text);
    await write(mia, "chat", "four");
    await until(ann, () => document.querySelectorAll("[data-testid=chat-messages] [data-testid=message]").length === 4);
    await ann.locator("[data-testid=message]", { hasText: "four" }).getByTestId("like").click();
    await until(mia, () => [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message]")]
      .some((m) => m.textContent.includes("four") && m.querySelector("[data-testid=like-count]").textContent === "1"));

    // The crash. Ann's page is cut off from the network, so it cannot come back before
    // the others have moved on.
    await server.kill9();
    await until(ann, () => document.querySelector("[data-testid=status]").dataset.state === "reconnecting");
    await ann.context().setOffline(true);
    await server.start();

    // Mia's page comes back and the webinar goes on without Ann.
    await live(mia, 45_000);
    await write(mia, "chat", "five");
    await write(mia, "chat", "six");
    await mia.locator("[data-testid=message]", { hasText: "two" }).getByTestId("delete").click();
    await mia.locator("[data-testid=message]", { hasText: "three" }).getByTestId("like").click();
    await tab(mia, "updates");
    await mia.getByTestId("update-text").fill("We are back");
    await mia.getByTestId("post-update").click();
    await mia.getByTestId("update").filter({ hasText: "We are back" }).waitFor();
    await tab(mia, "chat");
    await until(mia, () => document.querySelectorAll("[data-testid=chat-messages] [data-testid=message]").length === 5);
    const moderatorView = await chat(mia);
    assert.deepEqual(moderatorView.texts, ["one", "three", "four", "five", "six"]);

    // Ann's page returns: it recovers what it missed from its position.
    await ann.context().setOffline(false);
    await live(ann, 60_000);
    await until(ann, () => [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message-text]")].some((e) => e.textContent === "six"));
    const seen = await chat(ann);
    assert.deepEqual(seen.texts, ["one", "three", "four", "five", "six"], "nothing missing, the deleted one gone");
    assert.ok(seen.unique, `no message twice: ${seen.ids}`);
    assert.deepEqual(seen.ids, moderatorView.ids, "the same messages as the moderator's, in order");
    await until(ann, () => document.querySelector("[data-testid=chat-messages] [data-testid=message]:nth-child(2) [data-testid=like-count]")?.textContent === "1");
    const stats = await ann.evaluate(() => window.plenary.stats);
    assert.equal(stats.snapshots, 1, "recovered from its position, not a new snapshot");
    assert.ok(stats.recovered >= 1, `a recovery: ${JSON.stringify(stats)}`);
    assert.ok(stats.missed >= 4, `the events Ann missed came with the recovery: ${JSON.stringify(stats)}`);
    await tab(ann, "updates");
    assert.equal(await ann.getByTestId("update").filter({ hasText: "We are back" }).count(), 1);

    // And the page works on as before.
    await tab(ann, "chat");
    await write(ann, "chat", "seven");
    await until(mia, () => [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message-text]")].some((e) => e.textContent === "seven"));
    await until(ann, () => [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message-text]")].some((e) => e.textContent === "seven"));
    assert.deepEqual(await texts(ann, "chat-messages"), ["one", "three", "four", "five", "six", "seven"]);
    for (const page of pages) assert.deepEqual(page.errors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(e)), [], "no script errors");
  });
});
