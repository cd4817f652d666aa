// A chat place — the group chat, the backchannel or one Q&A thread: its messages with
// likes, replies and delete (and, for moderators in the group chat, pin and block),
// and a composer.

import { attempt, clientId, fill, h, name, result, time } from "./dom";
import type { Session } from "./session";
import { byId, type Message } from "./state";

export type Place = { kind: "chat" } | { kind: "backchannel" } | { kind: "thread"; threadId: bigint };

export function messageItem(session: Session, m: Message, place: Place, onReply?: (m: Message) => void): HTMLElement {
  const { ctx, client } = session;
  const author = m.author;
  const mine = !!session.userId && author?.userId === session.userId;
  const canDelete = mine || (ctx.isModerator && place.kind !== "backchannel");
  const replied = m.replyTo ? ctx.find(m.replyTo) : undefined;
  const liked = ctx.liked.has(m.id);
  const pinned = ctx.pinned.includes(m.id);
  const ref = { contextId: ctx.id, messageId: m.id };
  const like = async () => {
    const ok = await result(liked ? client.unlike(ref) : client.like(ref));
    if (!ok) return;
    // Only the liker's own reply says who likes what; pushes carry counts only.
    if (liked) ctx.liked.delete(m.id);
    else ctx.liked.add(m.id);
    ctx.setLikes(m.id, ok.likeCount);
    session.refresh();
  };
  return h("li", { class: `msg${mine ? " mine" : ""}${author?.moderator ? " by-moderator" : ""}`, "data-testid": "message", "data-id": String(m.id) },
    h("div", { class: "meta" },
      h("span", { class: "author" }, author?.asContext ? `${name(author)} (answer)` : name(author)),
      author?.moderator && !author.asContext ? h("span", { class: "badge" }, "Moderator") : null,
      h("span", { class: "time" }, time(m.sentAtMs)),
      pinned ? h("span", { class: "badge pin" }, "📌 Pinned") : null,
    ),
    m.replyTo ? h("div", { class: "reply-ref" }, "↪ ", replied ? `${name(replied.author)}: ${replied.text.slice(0, 80)}` : "an earlier message") : null,
    h("div", { class: "text", "data-testid": "message-text" }, m.text),
    h("div", { class: "actions" },
      h("button", { class: `like${liked ? " on" : ""}`, "aria-pressed": liked ? "true" : "false", title: liked ? "Unlike" : "Like", "data-testid": "like", onclick: like },
        "♥ ", h("span", { "data-testid": "like-count" }, m.likeCount)),
      onReply ? h("button", { title: "Reply", "data-testid": "reply", onclick: () => onReply(m) }, "Reply") : null,
      canDelete ? h("button", { title: "Delete", "data-testid": "delete", onclick: () => attempt(client.delete(ref)) }, "🗑") : null,
      ctx.isModerator && place.kind === "chat"
        ? h("button", { title: pinned ? "Unpin" : "Pin", "data-testid": pinned ? "unpin" : "pin", onclick: () => attempt(pinned ? client.unpin(ref) : client.pin(ref)) }, pinned ? "Unpin" : "📌")
        : null,
      ctx.isModerator && !mine && author?.userId && !author.asContext && place.kind !== "backchannel"
        ? h("button", { title: `Block ${name(author)}`, "data-testid": "block", onclick: () => attempt(client.block({ contextId: ctx.id, userId: author.userId })) }, "⛔")
        : null,
    ),
  );
}

/**
 * A composer: a text area and Send (Enter sends, Shift+Enter is a new line). A text
 * sent again after a failure keeps its client id, so a send that did arrive is not
 * stored twice.
 */
export function composer(placeholder: string, send: (text: string, replyTo: bigint, id: string) => Promise<boolean>, testid = "composer") {
  let replyTo: Message | null = null;
  let attempted = { text: "", id: "" };
  const input = h("textarea", { placeholder, rows: 2, "data-testid": `${testid}-input`, maxlength: 2000 });
  const replying = h("div", { class: "replying" });
  const submit = async () => {
    const text = input.value;
    if (!text.trim()) return;
    if (attempted.text !== text) attempted = { text, id: clientId("m") };
    button.disabled = true;
    try {
      if (await send(text, replyTo?.id ?? 0n, attempted.id)) {
        // Only what was sent leaves the box: not what was typed meanwhile.
        if (input.value === text) input.value = "";
        attempted = { text: "", id: "" };
        setReply(null);
      }
    } finally {
      button.disabled = false;
    }
  };
  const button = h("button", { class: "primary", "data-testid": `${testid}-send`, onclick: submit }, "Send");
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void submit();
    }
  });
  const setReply = (m: Message | null) => {
    replyTo = m;
    fill(replying, m ? [`Replying to ${name(m.author)}: “${m.text.slice(0, 60)}” `, h("button", { class: "link", onclick: () => setReply(null) }, "cancel")] : []);
    if (m) input.focus();
  };
  const el = h("div", { class: "composer" }, replying, h("div", { class: "row" }, input, button));
  return { el, setReply, input };
}

/** Sends a group-chat, backchannel or thread message. */
export function sendMessage(session: Session, place: Place, text: string, replyTo: bigint, clientMsgId: string): Promise<boolean> {
  return attempt(session.client.send({
    contextId: session.ctx.id,
    text,
    clientMsgId,
    replyTo,
    backchannel: place.kind === "backchannel",
    threadId: place.kind === "thread" ? place.threadId : 0n,
  }));
}

/** The group chat or the backchannel. */
export function chatView(session: Session, kind: "chat" | "backchannel") {
  const place: Place = { kind } as Place;
  const list = h("ul", { class: "messages", "data-testid": `${kind}-messages` });
  const blocked = h("div", { class: "blocked-users" });
  const c = composer(kind === "chat" ? "Write your message" : "Write to the other moderators", (text, replyTo, id) => sendMessage(session, place, text, replyTo, id), kind);
  const notice = h("div", { class: "notice" });
  // A join shows the latest messages; older ones come a page at a time (`history`).
  let older = true;
  const loadOlder = async () => {
    const ctx = session.ctx;
    const held = kind === "chat" ? ctx.chat : ctx.backchannel;
    const oldest = [...held.keys()].reduce((a, b) => (b < a ? b : a), held.keys().next().value ?? 0n);
    const page = await result(session.client.history({ contextId: ctx.id, beforeId: oldest, limit: 50, backchannel: kind === "backchannel" }));
    if (!page) return;
    for (const m of page.messages) if (!held.has(m.id)) held.set(m.id, m);
    for (const id of page.likedByMe) ctx.liked.add(id);
    older = page.hasMore;
    keepScroll = true;
    session.refresh();
  };
  let keepScroll = false;
  const more = h("button", { class: "link older", "data-testid": `${kind}-older`, onclick: loadOlder }, "Load older messages");
  const el = h("section", { class: "view", "data-testid": `${kind}-view` },
    kind === "backchannel" ? h("div", { class: "notice moderators-only" }, "Moderator-only area: attendees never see the backchannel.") : null,
    blocked, more, list, notice, c.el);
  let last = 0n;
  const render = () => {
    const ctx = session.ctx;
    const messages = [...(kind === "chat" ? ctx.chat : ctx.backchannel).values()].sort(byId((m) => m.id));
    more.hidden = !older || messages.length === 0;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const fromBottom = list.scrollHeight - list.scrollTop;
    fill(list, messages.length ? messages.map((m) => messageItem(session, m, place, c.setReply)) : h("li", { class: "empty" }, "No messages yet."));
    const newest = messages.at(-1)?.id ?? 0n;
    if (keepScroll) list.scrollTop = list.scrollHeight - fromBottom; // older ones above
    else if (atBottom || newest !== last) list.scrollTop = list.scrollHeight;
    keepScroll = false;
    last = newest;
    fill(notice, kind === "chat" && ctx.blocked ? "You can read the chat, but a moderator blocked you from writing in it." : null);
    fill(blocked, kind === "chat" && ctx.isModerator && ctx.blockedUsers.size
      ? h("details", { "data-testid": "blocked-users" }, h("summary", {}, `Blocked users (${ctx.blockedUsers.size})`),
        [...ctx.blockedUsers.values()].map((b) => h("div", { class: "row" }, `${b.userId}${b.email ? ` <${b.email}>` : ""} `,
          h("button", { "data-testid": "unblock", onclick: () => attempt(session.client.unblock({ contextId: ctx.id, userId: b.userId })) }, "Unblock"))))
      : null);
  };
  return { el, render };
}
