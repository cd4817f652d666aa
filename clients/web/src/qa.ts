// Q&A. Attendees: their questions (threads) with the answers, "Ask new question", a
// follow-up in a thread. Moderators: the queue with pending and claimed counts;
// claim, answer as the session, send back to pending, resolve, clear, and publish a
// question with its answer to the feed.

import { composer, messageItem, sendMessage } from "./chat";
import { attempt, fill, h, name, result } from "./dom";
import { ThreadActionKind, ThreadState } from "./sdk";
import type { Session } from "./session";
import { byId, type Message, type Thread } from "./state";

const STATE_LABEL: Record<ThreadState, string> = {
  [ThreadState.PENDING]: "Pending",
  [ThreadState.OWNED]: "Claimed",
  [ThreadState.RESOLVED]: "Resolved",
  [ThreadState.DONE]: "Done",
};

/** A thread state as the page's data attributes name it (`PENDING`, `OWNED`…). */
const stateName = (t: Thread) => ThreadState[t.state];

export function qaView(session: Session) {
  const { client } = session;
  const body = h("div", { class: "qa-body" });
  let open = 0n; // the thread shown, 0: the list
  const el = h("section", { class: "view", "data-testid": "qa-view" }, body);
  // Composers survive re-renders (what is typed stays): the question, one per thread.
  const ask = composer("Type your question", async (text, _replyTo, clientMsgId) => {
    const ok = await result(client.ask({ contextId: session.ctx.id, text, clientMsgId, threadId: 0n }));
    if (ok) open = ok.threadId;
    render();
    return !!ok;
  }, "ask");
  const threadComposers = new Map<bigint, ReturnType<typeof composer>>();
  const threadComposer = (t: Thread) => {
    let c = threadComposers.get(t.id);
    if (!c) {
      const place = { kind: "thread", threadId: t.id } as const;
      c = session.ctx.isModerator
        ? composer(`Answering as ${session.ctx.name || session.ctx.id}`, (text, replyTo, id) => sendMessage(session, place, text, replyTo, id), "answer")
        : composer("Follow up on your question", (text, replyTo, clientMsgId) =>
            // A reply to a message of the thread is a `send` in it; anything else asks
            // again in the thread (which sends a resolved one back to pending).
            replyTo
              ? sendMessage(session, place, text, replyTo, clientMsgId)
              : attempt(client.ask({ contextId: session.ctx.id, text, clientMsgId, threadId: t.id })), "followup");
      threadComposers.set(t.id, c);
    }
    return c;
  };

  const messagesOf = (threadId: bigint) =>
    [...session.ctx.threadMessages.values()].filter((m) => m.threadId === threadId).sort(byId((m) => m.id));

  const action = (t: Thread, action: ThreadActionKind) =>
    attempt(client.threadAction({ contextId: session.ctx.id, threadId: t.id, action }));

  const moderatorActions = (t: Thread) => {
    const mine = t.ownerId === session.userId;
    switch (t.state) {
      case ThreadState.PENDING:
        return [h("button", { class: "primary", "data-testid": "claim", onclick: async () => {
          if (await action(t, ThreadActionKind.CLAIM)) {
            open = t.id;
            render();
          }
        } }, "Reply")];
      case ThreadState.OWNED:
        return mine
          ? [h("button", { "data-testid": "release", onclick: () => action(t, ThreadActionKind.RELEASE) }, "Send back to pending"),
             h("button", { "data-testid": "resolve", onclick: () => action(t, ThreadActionKind.RESOLVE) }, "Resolve")]
          : [h("span", { class: "muted" }, `claimed by ${t.ownerId}`)];
      case ThreadState.RESOLVED:
        return [h("button", { "data-testid": "clear", onclick: async () => {
          if (await action(t, ThreadActionKind.CLEAR)) {
            open = 0n;
            render();
          }
        } }, "Clear")];
      default:
        return [];
    }
  };

  const threadRow = (t: Thread) => {
    const first = messagesOf(t.id).find((m) => !m.author?.moderator);
    return h("li", { class: "thread-row", "data-testid": "thread", "data-id": String(t.id), "data-state": stateName(t) },
      h("button", { class: "thread-open", "data-testid": "open-thread", onclick: () => { open = t.id; render(); } },
        h("span", { class: "author" }, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${stateName(t)}` }, STATE_LABEL[t.state]),
        h("span", { class: "preview" }, first?.text ?? "")),
      session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null);
  };

  /** Moderators: publish an answer with the question before it to the feed. */
  const publishButton = (t: Thread, answer: Message, messages: Message[]) => {
    const question = [...messages].reverse().find((m) => m.id < answer.id && m.author?.userId === t.attendee?.userId);
    if (!question) return null;
    return h("button", { class: "small", "data-testid": "publish-qa", onclick: () =>
      attempt(client.publishQa({ contextId: session.ctx.id, threadId: t.id, questionId: question.id, answerId: answer.id })) }, "Publish to feed");
  };

  const threadDetail = (t: Thread) => {
    const messages = messagesOf(t.id);
    const c = threadComposer(t);
    const moderator = session.ctx.isModerator;
    return h("div", { class: "thread-detail", "data-testid": "thread-detail", "data-id": String(t.id), "data-state": stateName(t) },
      h("div", { class: "thread-head" },
        h("button", { class: "link", "data-testid": "back", onclick: () => { open = 0n; render(); } }, "← Back"),
        h("strong", {}, moderator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${stateName(t)}`, "data-testid": "thread-state" }, STATE_LABEL[t.state]),
        moderator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null),
      h("ul", { class: "messages" }, messages.map((m) => {
        const item = messageItem(session, m, { kind: "thread", threadId: t.id }, c.setReply);
        if (moderator && m.author?.moderator) item.querySelector(".actions")?.append(publishButton(t, m, messages) ?? "");
        return item;
      })),
      c.el);
  };

  const render = () => {
    const ctx = session.ctx;
    const threads = [...ctx.threads.values()].sort(byId((t) => t.id));
    const current = open ? ctx.threads.get(open) : undefined;
    if (current) {
      fill(body, threadDetail(current));
      return;
    }
    // (A thread just asked for may be known from the reply before its push arrives.)
    if (ctx.isModerator) {
      const group = (state: ThreadState, count: number) => {
        const rows = threads.filter((t) => t.state === state);
        return h("details", { open: true, class: "queue", "data-testid": `queue-${ThreadState[state].toLowerCase()}` },
          h("summary", {}, `${STATE_LABEL[state]} (`, h("span", { "data-testid": "count" }, count), ")"),
          h("ul", { class: "threads" }, rows.length ? rows.map(threadRow) : h("li", { class: "empty" }, "None")));
      };
      fill(body,
        threads.length ? null : h("p", { class: "empty" }, "No questions from attendees yet."),
        group(ThreadState.PENDING, ctx.counts.pending),
        group(ThreadState.OWNED, ctx.counts.owned),
        group(ThreadState.RESOLVED, ctx.counts.resolved));
    } else {
      fill(body,
        h("ul", { class: "threads" }, threads.length ? threads.map(threadRow) : h("li", { class: "empty" }, "Ask the moderators a question: only they see it.")),
        h("div", { class: "ask" }, h("strong", {}, "Ask new question"), ask.el));
    }
  };
  return { el, render };
}
