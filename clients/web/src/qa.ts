// Q&A. Attendees: their questions (threads) with the answers, "Ask new question", a
// follow-up in a thread. Moderators: the queue with pending and claimed counts;
// claim, answer as the session, send back to pending, resolve, clear, and publish a
// question with its answer to the feed.

import { composer, messageItem, sendMessage } from "./chat";
import { attempt, clientId, fill, h, name } from "./dom";
import type { Session } from "./session";
import type { Message, Thread } from "./state";

const STATE_LABEL: Record<string, string> = {
  THREAD_STATE_PENDING: "Pending",
  THREAD_STATE_OWNED: "Claimed",
  THREAD_STATE_RESOLVED: "Resolved",
  THREAD_STATE_DONE: "Done",
};

export function qaView(session: Session) {
  const body = h("div", { class: "qa-body" });
  let open = 0; // the thread shown, 0: the list
  const el = h("section", { class: "view", "data-testid": "qa-view" }, body);
  // Composers survive re-renders (what is typed stays); one per open thread.
  const ask = composer("Type your question", async (text) => {
    const ok = await attempt(session.command("ask", { context_id: session.ctx.id, text, client_msg_id: clientId("q"), thread_id: 0 }).then((r) => {
      if (session.ctx.info.qa_mode === "QA_MODE_MULTI_THREAD" || !open) open = r.thread_id;
    }));
    render();
    return ok;
  }, "ask");
  const threadComposers = new Map<number, ReturnType<typeof composer>>();
  const threadComposer = (t: Thread) => {
    let c = threadComposers.get(t.id);
    if (!c) {
      c = session.ctx.isModerator
        ? composer(`Answering as ${session.ctx.info.name || session.ctx.id}`, (text, replyTo) => sendMessage(session, { kind: "thread", threadId: t.id }, text, replyTo), "answer")
        : composer("Follow up on your question", (text, replyTo) =>
            // A reply to a message of the thread is a `send` in it; anything else asks
            // again in the thread (which sends a resolved one back to pending).
            replyTo
              ? sendMessage(session, { kind: "thread", threadId: t.id }, text, replyTo)
              : attempt(session.command("ask", { context_id: session.ctx.id, text, client_msg_id: clientId("q"), thread_id: t.id })), "followup");
      threadComposers.set(t.id, c);
    }
    return c;
  };

  const messagesOf = (threadId: number) =>
    [...session.ctx.threadMessages.values()].filter((m) => m.thread_id === threadId).sort((a, b) => a.id - b.id);

  const action = (t: Thread, kind: string) =>
    attempt(session.command("thread_action", { context_id: session.ctx.id, thread_id: t.id, action: `THREAD_ACTION_KIND_${kind}` }));

  const moderatorActions = (t: Thread) => {
    const mine = t.owner_id === session.userId;
    switch (t.state) {
      case "THREAD_STATE_PENDING":
        return [h("button", { class: "primary", "data-testid": "claim", onclick: async () => { if (await action(t, "CLAIM")) { open = t.id; render(); } } }, "Reply")];
      case "THREAD_STATE_OWNED":
        return mine
          ? [h("button", { "data-testid": "release", onclick: () => action(t, "RELEASE") }, "Send back to pending"),
             h("button", { "data-testid": "resolve", onclick: () => action(t, "RESOLVE") }, "Resolve")]
          : [h("span", { class: "muted" }, `claimed by ${t.owner_id}`)];
      case "THREAD_STATE_RESOLVED":
        return [h("button", { "data-testid": "clear", onclick: async () => { if (await action(t, "CLEAR")) { open = 0; render(); } } }, "Clear")];
      default:
        return [];
    }
  };

  const threadRow = (t: Thread) => {
    const messages = messagesOf(t.id);
    const first = messages.find((m) => !m.author.moderator);
    return h("li", { class: "thread-row", "data-testid": "thread", "data-id": t.id, "data-state": t.state },
      h("button", { class: "thread-open", "data-testid": "open-thread", onclick: () => { open = t.id; render(); } },
        h("span", { class: "author" }, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${t.state}` }, STATE_LABEL[t.state] ?? t.state),
        h("span", { class: "preview" }, first?.text ?? "")),
      session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null);
  };

  const publishButton = (t: Thread, answer: Message, messages: Message[]) => {
    const question = [...messages].reverse().find((m) => m.id < answer.id && m.author.user_id === t.attendee.user_id);
    if (!question) return null;
    return h("button", { class: "small", "data-testid": "publish-qa", onclick: () =>
      attempt(session.command("publish_qa", { context_id: session.ctx.id, thread_id: t.id, question_id: question.id, answer_id: answer.id })) }, "Publish to feed");
  };

  const threadDetail = (t: Thread) => {
    const messages = messagesOf(t.id);
    const c = threadComposer(t);
    const canWrite = session.ctx.isModerator ? t.state !== "THREAD_STATE_DONE" : true;
    return h("div", { class: "thread-detail", "data-testid": "thread-detail", "data-id": t.id, "data-state": t.state },
      h("div", { class: "thread-head" },
        h("button", { class: "link", "data-testid": "back", onclick: () => { open = 0; render(); } }, "← Back"),
        h("strong", {}, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${t.state}`, "data-testid": "thread-state" }, STATE_LABEL[t.state] ?? t.state),
        session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null),
      h("ul", { class: "messages" }, messages.map((m) => {
        const item = messageItem(session, m, { kind: "thread", threadId: t.id }, c.setReply);
        if (session.ctx.isModerator && m.author.moderator) item.querySelector(".actions")?.append(publishButton(t, m, messages) ?? "");
        return item;
      })),
      canWrite ? c.el : null);
  };

  const render = () => {
    const ctx = session.ctx;
    const threads = [...ctx.threads.values()].sort((a, b) => a.id - b.id);
    const current = open ? ctx.threads.get(open) : undefined;
    if (current) {
      fill(body, threadDetail(current));
      return;
    }
    // (A thread just asked for may be known from the reply before its push arrives.)
    if (ctx.isModerator) {
      const group = (state: string, label: string, count: number) => {
        const rows = threads.filter((t) => t.state === state);
        return h("details", { open: true, class: "queue", "data-testid": `queue-${state.replace("THREAD_STATE_", "").toLowerCase()}` },
          h("summary", {}, `${label} (`, h("span", { "data-testid": "count" }, count), ")"),
          h("ul", { class: "threads" }, rows.length ? rows.map(threadRow) : h("li", { class: "empty" }, "None")));
      };
      fill(body,
        threads.length ? null : h("p", { class: "empty" }, "No questions from attendees yet."),
        group("THREAD_STATE_PENDING", "Pending", ctx.counts.pending),
        group("THREAD_STATE_OWNED", "Claimed", ctx.counts.owned),
        group("THREAD_STATE_RESOLVED", "Resolved", ctx.counts.resolved));
    } else {
      fill(body,
        h("ul", { class: "threads" }, threads.length ? threads.map(threadRow) : h("li", { class: "empty" }, "Ask the moderators a question: only they see it.")),
        h("div", { class: "ask" }, h("strong", {}, "Ask new question"), ask.el));
    }
  };
  return { el, render };
}
