// One webinar in three browsers: a moderator (Mia) and two attendees (Ann, Bob).
// Chat (like, reply), reactions, a block and unblock, the backchannel; Q&A (ask, claim,
// send back, claim, answer as the session, publish, resolve, clear); a poll (drafted,
// published, voted, results, ended); a private chat between the attendees (search,
// request, accept, messages, read marker); and a page reloaded mid-webinar that finds
// what happened while it was away.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { launchBrowser, live, openUser, Plenary, screenshots, tab, texts, until, withEvidence, write } from "./harness.mjs";

const CONTEXT = "webinar-1";
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

test("a webinar: Q&A, a poll, private chat and a reload", { timeout: 120_000 }, async () => {
  const pages = [];
  await withEvidence(() => pages, () => webinar(pages));
});

async function webinar(pages) {
  const mia = await openUser(browser, server, { sub: "u-mia", name: "Mia Moss", moderates: [CONTEXT], context: CONTEXT });
  const ann = await openUser(browser, server, { sub: "u-ann", name: "Ann Archer", context: CONTEXT });
  const bob = await openUser(browser, server, { sub: "u-bob", name: "Bob Baker", context: CONTEXT });
  pages.push(mia, ann, bob);
  assert.match(await mia.getByTestId("who").textContent(), /Moderator/);
  assert.match(await ann.getByTestId("who").textContent(), /Attendee/);

  // Group chat: a message, a like and a reply.
  await write(ann, "chat", "Hello from Ann");
  await until(bob, () => [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message-text]")].some((e) => e.textContent === "Hello from Ann"));
  await bob.locator("[data-testid=message]", { hasText: "Hello from Ann" }).getByTestId("like").click();
  await until(ann, () => document.querySelector("[data-testid=chat-messages] [data-testid=like-count]")?.textContent === "1");
  await bob.locator("[data-testid=message]", { hasText: "Hello from Ann" }).getByTestId("reply").click();
  await write(bob, "chat", "Hi Ann!");
  await until(mia, () => [...document.querySelectorAll("[data-testid=chat-messages] .reply-ref")].some((e) => e.textContent.includes("Hello from Ann")));

  // Reactions reach everyone (summed per window, not one push per click).
  await ann.getByTestId("react-CLAP").click();
  await until(mia, () => document.querySelector("[data-testid=reaction-counts]")?.textContent.includes("👏×1"));

  // Moderation: a block shows in the moderators' list, and goes again.
  await mia.locator("[data-testid=message]", { hasText: "Hi Ann!" }).getByTestId("block").click();
  await mia.getByTestId("blocked-users").filter({ hasText: "u-bob" }).waitFor();
  await mia.getByTestId("blocked-users").locator("summary").click();
  await mia.getByTestId("unblock").click();
  await until(mia, () => !document.querySelector("[data-testid=blocked-users]"));

  // The backchannel: moderators only (attendees have no such tab).
  await tab(mia, "backchannel");
  await write(mia, "backchannel", "Slides are late, stall a bit");
  await until(mia, () => [...document.querySelectorAll("[data-testid=backchannel-messages] [data-testid=message-text]")].some((e) => e.textContent === "Slides are late, stall a bit"));
  assert.equal(await ann.getByTestId("tab-backchannel").count(), 0);

  // Q&A: Ann asks; Mia sees it pending, claims it, answers as the session, resolves.
  await tab(ann, "qa");
  await write(ann, "ask", "Will the slides be shared?");
  await ann.getByTestId("thread-detail").waitFor();
  await tab(mia, "qa");
  await until(mia, () => document.querySelector("[data-testid=queue-pending] [data-testid=count]")?.textContent === "1");
  await mia.getByTestId("queue-pending").getByTestId("claim").click();
  await until(mia, () => document.querySelector("[data-testid=thread-detail]")?.dataset.state === "OWNED");
  // Sent back to pending, then claimed again.
  await mia.getByTestId("thread-detail").getByTestId("release").click();
  await until(mia, () => document.querySelector("[data-testid=thread-detail]")?.dataset.state === "PENDING");
  await mia.getByTestId("thread-detail").getByTestId("claim").click();
  await until(mia, () => document.querySelector("[data-testid=thread-detail]")?.dataset.state === "OWNED");
  await write(mia, "answer", "Yes, right after the session.");
  await until(ann, () => [...document.querySelectorAll("[data-testid=thread-detail] [data-testid=message]")].some((m) => m.textContent.includes("Yes, right after the session.")));
  const answer = ann.locator("[data-testid=thread-detail] [data-testid=message]", { hasText: "Yes, right after" });
  assert.match(await answer.locator(".author").textContent(), new RegExp(CONTEXT), "the answer comes from the session");
  assert.doesNotMatch(await answer.textContent(), /Mia/, "the attendee never sees who answered");
  await mia.getByTestId("thread-detail").getByTestId("publish-qa").click();
  await mia.screenshot({ path: join(screenshots, "moderator-qa.png") });
  await mia.getByTestId("thread-detail").getByTestId("resolve").click();
  await until(ann, () => document.querySelector("[data-testid=thread-detail]")?.dataset.state === "RESOLVED");
  await mia.getByTestId("back").click();
  await until(mia, () => document.querySelector("[data-testid=queue-resolved] [data-testid=count]")?.textContent === "1"
    && document.querySelector("[data-testid=queue-pending] [data-testid=count]")?.textContent === "0");
  // Cleared: it leaves the queue.
  await mia.getByTestId("queue-resolved").getByTestId("clear").click();
  await until(mia, () => document.querySelector("[data-testid=queue-resolved] [data-testid=count]")?.textContent === "0"
    && document.querySelectorAll("[data-testid=thread]").length === 0);
  // Bob never sees Ann's question, but sees it with its answer in the feed.
  await tab(bob, "qa");
  assert.equal(await bob.getByTestId("thread").count(), 0);
  await tab(bob, "feed");
  await bob.getByTestId("feed-qa").filter({ hasText: "Will the slides be shared?" }).waitFor();

  // A poll: drafted, published, voted on by both attendees, results shown to all.
  await tab(mia, "interactions");
  await mia.getByTestId("interaction-question").fill("Tea or coffee?");
  const options = mia.getByTestId("interaction-option");
  await options.nth(0).fill("Tea");
  await options.nth(1).fill("Coffee");
  await mia.getByTestId("share-results").check();
  await mia.getByTestId("save-draft").click();
  await mia.getByTestId("draft").filter({ hasText: "Tea or coffee?" }).getByTestId("publish-draft").click();
  await ann.getByTestId("toast").filter({ hasText: "Tea or coffee?" }).waitFor();
  await tab(ann, "feed");
  const annPoll = ann.getByTestId("interaction").filter({ hasText: "Tea or coffee?" });
  await annPoll.getByTestId("option").filter({ hasText: "Coffee" }).click();
  await annPoll.getByTestId("my-vote").filter({ hasText: "Coffee" }).waitFor();
  const bobPoll = bob.getByTestId("interaction").filter({ hasText: "Tea or coffee?" });
  await bobPoll.getByTestId("option").filter({ hasText: "Tea" }).click();
  await until(ann, () => {
    const counts = [...document.querySelectorAll("[data-testid=interaction] [data-testid=result-count]")].map((e) => e.textContent);
    return counts.join("|") === "1 (50%)|1 (50%)";
  });
  await until(mia, () => document.querySelector("[data-testid=published] [data-testid=voters]")?.textContent === "2 votes");
  await mia.getByTestId("published").getByTestId("end").click();
  await until(bob, () => document.querySelector("[data-testid=interaction]")?.dataset.status === "ENDED");
  await ann.screenshot({ path: join(screenshots, "attendee-feed.png") });
  await mia.screenshot({ path: join(screenshots, "moderator-interactions.png") });

  // Private chat: Ann finds Bob, asks to connect; Bob accepts; they write; read markers.
  await tab(ann, "private");
  await ann.getByTestId("connect-with").locator("summary").click();
  await ann.getByTestId("people-query").fill("bob");
  await ann.getByTestId("person").filter({ hasText: "Bob" }).getByTestId("connect").click();
  await tab(bob, "private");
  await bob.getByTestId("request").filter({ hasText: "Ann" }).getByTestId("accept").click();
  await ann.getByTestId("peer").filter({ hasText: "Bob" }).click();
  await write(ann, "dm", "Hi Bob, coffee after the talk?");
  await until(bob, () => document.querySelector("[data-testid=peer] [data-testid=unread]")?.textContent === "1");
  await bob.getByTestId("peer").filter({ hasText: "Ann" }).click();
  await until(bob, () => [...document.querySelectorAll("[data-testid=dm-message]")].some((m) => m.textContent.includes("coffee after the talk")));
  await ann.getByTestId("seen").waitFor();
  await write(bob, "dm", "Sure!");
  await until(ann, () => [...document.querySelectorAll("[data-testid=dm-message]")].some((m) => m.textContent.includes("Sure!")));
  await ann.screenshot({ path: join(screenshots, "attendee-private.png") });

  // A reload mid-webinar: while Bob's page reloads, the chat, the feed and the
  // updates move on; his page finds all of it, once.
  await tab(bob, "chat");
  await tab(mia, "chat");
  await tab(ann, "chat");
  const reloaded = bob.reload();
  await write(mia, "chat", "Welcome, everyone!");
  await tab(mia, "updates");
  await mia.getByTestId("update-title").fill("Mid-webinar alert!");
  await mia.getByTestId("update-text").fill("Get your questions ready");
  await mia.getByTestId("post-update").click();
  await write(ann, "chat", "Ann again");
  await reloaded;
  await live(bob);
  await until(bob, () => {
    const t = [...document.querySelectorAll("[data-testid=chat-messages] [data-testid=message-text]")].map((e) => e.textContent);
    return t.includes("Welcome, everyone!") && t.includes("Ann again");
  });
  assert.deepEqual(await texts(bob, "chat-messages"), ["Hello from Ann", "Hi Ann!", "Welcome, everyone!", "Ann again"]);
  // Older messages page in from `history`: here there are none, and nothing doubles.
  await bob.getByTestId("chat-older").click();
  await bob.getByTestId("chat-older").waitFor({ state: "hidden" });
  assert.deepEqual(await texts(bob, "chat-messages"), ["Hello from Ann", "Hi Ann!", "Welcome, everyone!", "Ann again"]);
  await tab(bob, "updates");
  assert.equal(await bob.getByTestId("update").filter({ hasText: "Mid-webinar alert!" }).count(), 1);
  await tab(bob, "private");
  await bob.getByTestId("peer").filter({ hasText: "Ann" }).click();
  await until(bob, () => document.querySelectorAll("[data-testid=dm-message]").length === 2);
  await tab(bob, "feed");
  assert.equal(await bob.getByTestId("interaction").filter({ hasText: "Tea or coffee?" }).getByTestId("my-vote").count(), 1, "his vote, from the snapshot");

  // The views the screenshots show.
  await tab(mia, "chat");
  await mia.locator("[data-testid=message]", { hasText: "Hi Ann!" }).getByTestId("pin").click();
  await tab(ann, "chat");
  await ann.locator("[data-testid=message]", { hasText: "Hi Ann!" }).locator(".badge.pin").waitFor();
  await mia.screenshot({ path: join(screenshots, "moderator.png") });
  await ann.screenshot({ path: join(screenshots, "attendee.png") });

  for (const page of [mia, ann, bob]) assert.deepEqual(page.errors, [], "no script errors");
}
