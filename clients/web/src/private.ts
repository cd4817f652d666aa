// Private chat: people search ("Connect with attendees"), requests (accept, ignore),
// connections and one-to-one conversations with read markers ("Seen").

import { composer } from "./chat";
import { attempt, fill, h, time } from "./dom";
import { ConnectionActionKind, PeerStatus, type DirectMessage, type Peer } from "./sdk";
import type { Session } from "./session";
import { byId } from "./state";

const STATUS_LABEL: Record<PeerStatus, string> = {
  [PeerStatus.NONE]: "",
  [PeerStatus.REQUEST_SENT]: "Request sent",
  [PeerStatus.REQUEST_RECEIVED]: "Wants to connect",
  [PeerStatus.CONNECTED]: "Connected",
  [PeerStatus.IGNORED]: "Ignored",
};

export function privateView(session: Session) {
  const { client } = session;
  let open = ""; // the peer whose conversation is shown
  const loaded = new Set<string>(); // conversations whose history was read
  const search = h("input", { type: "search", placeholder: "Search people by name", "data-testid": "people-query" });
  const found = h("ul", { class: "people", "data-testid": "people" });
  const peers = h("div", { class: "peers", "data-testid": "peers" });
  const conversation = h("div", { class: "conversation" });
  const connect = (userId: string, action: ConnectionActionKind) => attempt(client.connection({ userId, action }));

  const runSearch = async () => {
    try {
      const r = await client.people({ query: search.value, limit: 20 });
      fill(found, r.people.length
        ? r.people.map((p) => h("li", { class: "row", "data-testid": "person", "data-user": p.userId },
            h("span", { class: "grow" }, p.name || p.userId),
            p.status === PeerStatus.NONE
              ? h("button", { class: "primary", "data-testid": "connect", onclick: async () => { await connect(p.userId, ConnectionActionKind.REQUEST); void runSearch(); } }, "Connect")
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

  const dm = composer("Write a private message", (text, _replyTo, clientMsgId) => attempt(client.dmSend({ userId: open, text, clientMsgId })), "dm");

  const loadHistory = async (peer: string) => {
    loaded.add(peer);
    try {
      const r = await client.dmHistory({ userId: peer, beforeId: 0n, limit: 50 });
      const c = session.priv.conversation(peer);
      for (const m of r.messages) c.set(m.messageId, m);
      render();
    } catch {
      loaded.delete(peer);
    }
  };

  // Read markers asked for, so a re-render does not ask again (the peer_update confirms).
  const marked = new Map<string, bigint>();
  const markRead = (peer: Peer, messages: DirectMessage[]) => {
    const theirs = messages.filter((m) => m.senderId !== session.userId).at(-1);
    const asked = marked.get(peer.userId) ?? peer.myReadId;
    if (theirs && theirs.messageId > asked && document.visibilityState === "visible") {
      marked.set(peer.userId, theirs.messageId);
      client.dmRead({ userId: peer.userId, messageId: theirs.messageId }).catch(() => marked.delete(peer.userId));
    }
  };

  const renderConversation = () => {
    const peer = session.priv.peers.get(open);
    if (!peer) {
      fill(conversation, h("p", { class: "empty" }, "Choose a connection to chat with."));
      return;
    }
    if (!loaded.has(open)) void loadHistory(open);
    const messages = [...session.priv.conversation(open).values()].sort(byId((m) => m.messageId));
    const lastMine = messages.filter((m) => m.senderId === session.userId).at(-1);
    const list = h("ul", { class: "messages dm", "data-testid": "dm-messages" }, messages.map((m) => {
      const mine = m.senderId === session.userId;
      return h("li", { class: `msg${mine ? " mine" : ""}`, "data-testid": "dm-message", "data-id": String(m.messageId) },
        h("div", { class: "meta" }, h("span", { class: "author" }, mine ? "You" : peer.name), h("span", { class: "time" }, time(m.sentAtMs))),
        h("div", { class: "text", "data-testid": "message-text" }, m.text),
        mine ? h("div", { class: "actions" },
          h("button", { title: "Delete", onclick: () => attempt(client.dmDelete({ userId: open, messageId: m.messageId })) }, "🗑"),
          m === lastMine && peer.peerReadId >= m.messageId ? h("span", { class: "seen", "data-testid": "seen" }, "Seen") : null) : null);
    }));
    const connected = peer.status === PeerStatus.CONNECTED;
    fill(conversation,
      h("div", { class: "thread-head" },
        h("button", { class: "link", onclick: () => { open = ""; render(); } }, "← Back"),
        h("strong", { "data-testid": "dm-peer" }, peer.name || peer.userId),
        h("span", { class: "muted" }, STATUS_LABEL[peer.status]),
        connected ? h("button", { class: "small", onclick: () => connect(peer.userId, ConnectionActionKind.REMOVE) }, "Remove connection") : null),
      list,
      connected ? dm.el : h("p", { class: "muted" }, "You can write once you are connected."));
    list.scrollTop = list.scrollHeight;
    markRead(peer, messages);
  };

  const render = () => {
    const all = [...session.priv.peers.values()];
    const requests = all.filter((p) => p.status === PeerStatus.REQUEST_RECEIVED || p.status === PeerStatus.IGNORED);
    // Everyone else with a connection, a request sent or a conversation (even ended).
    const others = all.filter((p) => !requests.includes(p) && (p.status !== PeerStatus.NONE || p.lastMessage));
    fill(peers,
      requests.length ? h("div", { class: "requests" }, h("h3", {}, "Requests"), requests.map((p) =>
        h("div", { class: "row", "data-testid": "request", "data-user": p.userId }, h("span", { class: "grow" }, p.name || p.userId, p.status === PeerStatus.IGNORED ? h("span", { class: "muted" }, " (ignored)") : null),
          h("button", { class: "primary", "data-testid": "accept", onclick: () => connect(p.userId, ConnectionActionKind.ACCEPT) }, "Accept"),
          p.status === PeerStatus.REQUEST_RECEIVED ? h("button", { "data-testid": "ignore", onclick: () => connect(p.userId, ConnectionActionKind.IGNORE) }, "Ignore") : null))) : null,
      h("h3", {}, "Conversations"),
      others.length ? others.map((p) => h("button", { class: `peer${p.userId === open ? " open" : ""}`, "data-testid": "peer", "data-user": p.userId, onclick: () => { open = p.userId; render(); } },
        h("span", { class: "grow" }, p.name || p.userId),
        h("span", { class: "muted" }, STATUS_LABEL[p.status]),
        p.unread ? h("span", { class: "unread", "data-testid": "unread" }, p.unread) : null)) : h("p", { class: "empty" }, "No connections yet."));
    renderConversation();
  };

  const el = h("section", { class: "view private", "data-testid": "private-view" },
    h("details", { class: "connect-with", "data-testid": "connect-with", ontoggle: (e: Event) => (e.target as HTMLDetailsElement).open && runSearch() },
      h("summary", {}, "Connect with attendees"), search, found),
    h("div", { class: "split" }, peers, conversation));
  return { el, render, unread: () => [...session.priv.peers.values()].reduce((n, p) => n + p.unread, 0) };
}
