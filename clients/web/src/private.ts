// Private chat: people search ("Connect with attendees"), requests (accept, ignore),
// connections and one-to-one conversations with read markers ("Seen").

import { composer } from "./chat";
import { attempt, clientId, fill, h, time } from "./dom";
import type { Session } from "./session";
import type { Json } from "./state";

const STATUS_LABEL: Record<string, string> = {
  PEER_STATUS_NONE: "",
  PEER_STATUS_REQUEST_SENT: "Request sent",
  PEER_STATUS_REQUEST_RECEIVED: "Wants to connect",
  PEER_STATUS_CONNECTED: "Connected",
  PEER_STATUS_IGNORED: "Ignored",
};

export function privateView(session: Session) {
  let open = ""; // the peer whose conversation is shown
  const loaded = new Set<string>(); // conversations whose history was read
  const search = h("input", { type: "search", placeholder: "Search people by name", "data-testid": "people-query" });
  const found = h("ul", { class: "people", "data-testid": "people" });
  const peers = h("div", { class: "peers", "data-testid": "peers" });
  const conversation = h("div", { class: "conversation" });
  const connect = (userId: string, action: string) =>
    attempt(session.command("connection", { user_id: userId, action: `CONNECTION_ACTION_KIND_${action}` }));

  const runSearch = async () => {
    try {
      const r = await session.command("people", { query: search.value, limit: 20 });
      fill(found, (r.people ?? []).length
        ? r.people.map((p: Json) => h("li", { class: "row", "data-testid": "person", "data-user": p.user_id },
            h("span", { class: "grow" }, p.name || p.user_id),
            p.status === "PEER_STATUS_NONE"
              ? h("button", { class: "primary", "data-testid": "connect", onclick: async () => { await connect(p.user_id, "REQUEST"); void runSearch(); } }, "Connect")
              : h("span", { class: "muted" }, STATUS_LABEL[p.status])))
        : h("li", { class: "empty" }, "Nobody found."));
    } catch (e) {
      fill(found, h("li", { class: "empty" }, (e as Error).message));
    }
  };
  let debounce = 0;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(runSearch, 300);
  });

  const dm = composer("Write a private message", async (text) => {
    const ok = await attempt(session.command("dm_send", { user_id: open, text, client_msg_id: clientId("d") }));
    return ok;
  }, "dm");

  const loadHistory = async (peer: string) => {
    loaded.add(peer);
    try {
      const r = await session.command("dm_history", { user_id: peer, before_id: 0, limit: 50 });
      const c = session.priv.conversation(peer);
      for (const m of r.messages ?? []) c.set(m.message_id, m);
      render();
    } catch {
      loaded.delete(peer);
    }
  };

  const markRead = (peer: Json, messages: Json[]) => {
    const theirs = messages.filter((m) => m.sender_id !== session.userId).at(-1);
    if (theirs && theirs.message_id > (peer.my_read_id ?? 0) && document.visibilityState === "visible") {
      peer.my_read_id = theirs.message_id; // asked once; the peer_update confirms
      void session.command("dm_read", { user_id: peer.user_id, message_id: theirs.message_id }).catch(() => (peer.my_read_id = 0));
    }
  };

  const renderConversation = () => {
    const peer = session.priv.peers.get(open);
    if (!peer) {
      fill(conversation, h("p", { class: "empty" }, "Choose a connection to chat with."));
      return;
    }
    if (!loaded.has(open)) void loadHistory(open);
    const messages = [...session.priv.conversation(open).values()].sort((a, b) => a.message_id - b.message_id);
    const lastMine = messages.filter((m) => m.sender_id === session.userId).at(-1);
    const list = h("ul", { class: "messages dm", "data-testid": "dm-messages" }, messages.map((m) => {
      const mine = m.sender_id === session.userId;
      return h("li", { class: `msg${mine ? " mine" : ""}`, "data-testid": "dm-message", "data-id": m.message_id },
        h("div", { class: "meta" }, h("span", { class: "author" }, mine ? "You" : peer.name), h("span", { class: "time" }, time(m.sent_at_ms))),
        h("div", { class: "text", "data-testid": "message-text" }, m.text),
        mine ? h("div", { class: "actions" },
          h("button", { title: "Delete", onclick: () => attempt(session.command("dm_delete", { user_id: open, message_id: m.message_id })) }, "🗑"),
          m === lastMine && peer.peer_read_id >= m.message_id ? h("span", { class: "seen", "data-testid": "seen" }, "Seen") : null) : null);
    }));
    const connected = peer.status === "PEER_STATUS_CONNECTED";
    fill(conversation,
      h("div", { class: "thread-head" },
        h("button", { class: "link", onclick: () => { open = ""; render(); } }, "← Back"),
        h("strong", { "data-testid": "dm-peer" }, peer.name || peer.user_id),
        h("span", { class: "muted" }, STATUS_LABEL[peer.status]),
        connected ? h("button", { class: "small", onclick: () => connect(peer.user_id, "REMOVE") }, "Remove connection") : null),
      list,
      connected ? dm.el : h("p", { class: "muted" }, "You can write once you are connected."));
    list.scrollTop = list.scrollHeight;
    markRead(peer, messages);
  };

  const render = () => {
    const all = [...session.priv.peers.values()];
    const requests = all.filter((p) => p.status === "PEER_STATUS_REQUEST_RECEIVED" || p.status === "PEER_STATUS_IGNORED");
    const others = all.filter((p) => !requests.includes(p) && p.status !== "PEER_STATUS_NONE" || (p.status === "PEER_STATUS_NONE" && p.last_message));
    fill(peers,
      requests.length ? h("div", { class: "requests" }, h("h3", {}, "Requests"), requests.map((p) =>
        h("div", { class: "row", "data-testid": "request", "data-user": p.user_id }, h("span", { class: "grow" }, `${p.name || p.user_id}`, p.status === "PEER_STATUS_IGNORED" ? h("span", { class: "muted" }, " (ignored)") : null),
          h("button", { class: "primary", "data-testid": "accept", onclick: () => connect(p.user_id, "ACCEPT") }, "Accept"),
          p.status === "PEER_STATUS_REQUEST_RECEIVED" ? h("button", { "data-testid": "ignore", onclick: () => connect(p.user_id, "IGNORE") }, "Ignore") : null))) : null,
      h("h3", {}, "Conversations"),
      others.length ? others.map((p) => h("button", { class: `peer${p.user_id === open ? " open" : ""}`, "data-testid": "peer", "data-user": p.user_id, onclick: () => { open = p.user_id; render(); } },
        h("span", { class: "grow" }, p.name || p.user_id),
        h("span", { class: "muted" }, STATUS_LABEL[p.status]),
        p.unread ? h("span", { class: "unread", "data-testid": "unread" }, p.unread) : null)) : h("p", { class: "empty" }, "No connections yet."));
    renderConversation();
  };

  const el = h("section", { class: "view private", "data-testid": "private-view" },
    h("details", { class: "connect-with", "data-testid": "connect-with", ontoggle: (e: Event) => (e.target as HTMLDetailsElement).open && runSearch() },
      h("summary", {}, "Connect with attendees"), search, found),
    h("div", { class: "split" }, peers, conversation));
  return { el, render, unread: () => [...session.priv.peers.values()].reduce((n, p) => n + (p.unread ?? 0), 0) };
}
