// A chat place — the group chat, the backchannel or one Q&A thread: its messages with
// likes, replies and delete (and, for moderators in the group chat, pin and block),
// and a composer.

import { attempt, clientId, fill, h, name, time } from "./dom";
import type { Session } from "./session";
import type { Message } from "./state";

export type Place = { kind: "chat" } | { kind: "backchannel" } | { kind: "thread"; threadId: number };

export function messageItem(session: Session, m: Message, place: Place, onReply?: (m: Message) => void): HTMLElement {
  const ctx = session.ctx;
  const mine = m.author.user_id === session.userId && !!session.userId;
  const canDelete = mine || (ctx.isModerator && place.kind !== "backchannel");
  const replied = m.reply_to ? ctx.find(m.reply_to) : undefined;
  const liked = ctx.liked.has(m.id);
  const like = async () => {
    const reply = await attemptValue(session.command(liked ? "unlike" : "like", { context_id: ctx.id, message_id: m.id }));
    if (reply) {
      if (liked) ctx.liked.delete(m.id);
      else ctx.liked.add(m.id);
      const held = ctx.find(m.id);
      if (held) held.like_count = reply.like_count;
      session.ctx.applyPush({ likes: { counts: [{ message_id: m.id, count: reply.like_count }] } });
      render();
    }
  };
  const render = () => item.replaceWith(messageItem(session, ctx.find(m.id) ?? m, place, onReply));
  const pinned = ctx.pinned.includes(m.id);
  const item = h("li", { class: `msg${mine ? " mine" : ""}${m.author.moderator ? " by-moderator" : ""}`, "data-testid": "message", "data-id": m.id },
    h("div", { class: "meta" },
      h("span", { class: "author" }, m.author.as_context ? `${name(m.author)} (answer)` : name(m.author)),
      m.author.moderator && !m.author.as_context ? h("span", { class: "badge" }, "Moderator") : null,
      h("span", { class: "time" }, time(m.sent_at_ms)),
      pinned ? h("span", { class: "badge pin" }, "📌 Pinned") : null,
    ),
    m.reply_to ? h("div", { class: "reply-ref" }, "↪ ", replied ? `${name(replied.author)}: ${replied.text.slice(0, 80)}` : "an earlier message") : null,
    h("div", { class: "text", "data-testid": "message-text" }, m.text),
    h("div", { class: "actions" },
      h("button", { class: `like${liked ? " on" : ""}`, "aria-pressed": liked ? "true" : "false", title: liked ? "Unlike" : "Like", "data-testid": "like", onclick: like },
        "♥ ", h("span", { "data-testid": "like-count" }, m.like_count)),
      onReply ? h("button", { title: "Reply", "data-testid": "reply", onclick: () => onReply(m) }, "Reply") : null,
      canDelete ? h("button", { title: "Delete", "data-testid": "delete", onclick: () => attempt(session.command("delete", { context_id: ctx.id, message_id: m.id })) }, "🗑") : null,
      ctx.isModerator && place.kind === "chat"
        ? h("button", { title: pinned ? "Unpin" : "Pin", "data-testid": pinned ? "unpin" : "pin", onclick: () => attempt(session.command(pinned ? "unpin" : "pin", { context_id: ctx.id, message_id: m.id })) }, pinned ? "Unpin" : "📌")
        : null,
      ctx.isModerator && !mine && !m.author.as_context && m.author.user_id && place.kind !== "backchannel"
        ? h("button", { title: `Block ${name(m.author)}`, "data-testid": "block", onclick: () => attempt(session.command("block", { context_id: ctx.id, user_id: m.author.user_id })) }, "⛔")
        : null,
    ),
  );
  return item;
}

async function attemptValue(p: Promise<any>): Promise<any> {
  let value: unknown = null;
  const ok = await attempt(p.then((v) => (value = v)));
  return ok ? value : null;
}

/** A composer: a text area and Send (Enter sends, Shift+Enter is a new line). */
export function composer(placeholder: string, send: (text: string, replyTo: number) => Promise<boolean>, testid = "composer") {
  let replyTo: Message | null = null;
  const input = h("textarea", { placeholder, rows: 2, "data-testid": `${testid}-input`, maxlength: 2000 });
  const replying = h("div", { class: "replying" });
  const submit = async () => {
    const text = input.value;
    if (!text.trim()) return;
    button.disabled = true;
    try {
      if (await send(text, replyTo?.id ?? 0)) {
        input.value = "";
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

/** Sends a group-chat, backchannel or thread message, once: a retry reuses its id. */
export async function sendMessage(session: Session, place: Place, text: string, replyTo: number): Promise<boolean> {
  const body: Record<string, unknown> = { context_id: session.ctx.id, text, client_msg_id: clientId("m"), reply_to: replyTo };
  if (place.kind === "backchannel") body.backchannel = true;
  if (place.kind === "thread") body.thread_id = place.threadId;
  return attempt(session.command("send", body));
}

/** The group chat or the backchannel. */
export function chatView(session: Session, kind: "chat" | "backchannel") {
  const place: Place = { kind } as Place;
  const list = h("ul", { class: "messages", "data-testid": `${kind}-messages` });
  const blocked = h("div", { class: "blocked-users" });
  const c = composer(kind === "chat" ? "Write your message" : "Write to the other moderators", (text, replyTo) => sendMessage(session, place, text, replyTo), kind);
  const notice = h("div", { class: "notice" });
  const el = h("section", { class: "view", "data-testid": `${kind}-view` },
    kind === "backchannel" ? h("div", { class: "notice moderators-only" }, "Moderator-only area: attendees never see the backchannel.") : null,
    blocked, list, notice, c.el);
  let last = 0;
  const render = () => {
    const ctx = session.ctx;
    const messages = [...(kind === "chat" ? ctx.chat : ctx.backchannel).values()].sort((a, b) => a.id - b.id);
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    fill(list, messages.length ? messages.map((m) => messageItem(session, m, place, c.setReply)) : h("li", { class: "empty" }, "No messages yet."));
    const newest = messages.at(-1)?.id ?? 0;
    if (atBottom || newest !== last) list.scrollTop = list.scrollHeight;
    last = newest;
    fill(notice, kind === "chat" && ctx.blocked ? "You can read the chat, but a moderator blocked you from writing in it." : null);
    fill(blocked, kind === "chat" && ctx.isModerator && ctx.blockedUsers.size
      ? h("details", { "data-testid": "blocked-users" }, h("summary", {}, `Blocked users (${ctx.blockedUsers.size})`),
        [...ctx.blockedUsers.values()].map((b) => h("div", { class: "row" }, `${b.user_id}${b.email ? ` <${b.email}>` : ""} `,
          h("button", { "data-testid": "unblock", onclick: () => attempt(session.command("unblock", { context_id: ctx.id, user_id: b.user_id })) }, "Unblock"))))
      : null);
  };
  return { el, render };
}
