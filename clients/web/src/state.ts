// What the app shows, kept from a join's snapshot and the pushes after it. Every
// apply is idempotent (keyed by id, counts absolute), so a push seen twice — a
// recovery's `missed` overlapping a push — never shows twice.
//
// Shapes are the protocol's JSON (snake_case, docs/PROTOCOL.md); the session module
// hands them over as the SDK delivers them.

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Message {
  id: number;
  author: { user_id: string; given_name: string; family_name: string; moderator: boolean; as_context?: boolean };
  text: string;
  reply_to: number;
  sent_at_ms: number;
  like_count: number;
  client_msg_id: string;
  backchannel?: boolean;
  thread_id?: number;
}

export interface Thread {
  id: number;
  attendee: Message["author"];
  state: string;
  owner_id: string;
}

/** One joined context as this user sees it. */
export class ContextState {
  info: Json = {};
  role = "ROLE_ATTENDEE";
  chat = new Map<number, Message>();
  backchannel = new Map<number, Message>();
  threadMessages = new Map<number, Message>();
  threads = new Map<number, Thread>();
  counts = { pending: 0, owned: 0, resolved: 0 };
  pinned: number[] = [];
  pinnedMessages = new Map<number, Message>();
  liked = new Set<number>();
  blocked = false;
  blockedUsers = new Map<string, Json>();
  updates = new Map<number, Json>();
  published = new Map<number, Json>();
  interactions = new Map<number, Json>();
  leaderboard: Json = null;
  myRank: Json = null;

  constructor(readonly id: string) {}

  get isModerator(): boolean {
    return this.role === "ROLE_MODERATOR";
  }

  /** A join's answer: a snapshot replaces everything; a recovery applies `missed`. */
  applyJoin(ok: Json): void {
    this.info = ok.context ?? this.info;
    this.role = ok.role ?? this.role;
    if (!ok.recovered && ok.snapshot) this.applySnapshot(ok.snapshot);
    for (const push of ok.missed ?? []) this.applyPush(push);
  }

  private applySnapshot(s: Json): void {
    this.chat.clear();
    this.backchannel.clear();
    this.threadMessages.clear();
    this.threads.clear();
    this.pinnedMessages.clear();
    this.blockedUsers.clear();
    this.updates.clear();
    this.published.clear();
    this.interactions.clear();
    for (const m of s.messages ?? []) this.chat.set(m.id, m);
    for (const m of s.backchannel ?? []) this.backchannel.set(m.id, m);
    for (const m of s.thread_messages ?? []) this.threadMessages.set(m.id, m);
    for (const t of s.threads ?? []) this.threads.set(t.id, t);
    this.counts = s.counts ?? { pending: 0, owned: 0, resolved: 0 };
    this.pinned = (s.pinned ?? []).map((m: Message) => m.id);
    for (const m of s.pinned ?? []) this.pinnedMessages.set(m.id, m);
    this.liked = new Set(s.liked_by_me ?? []);
    this.blocked = !!s.blocked;
    for (const b of s.blocked_users ?? []) this.blockedUsers.set(b.user_id, b);
    for (const u of s.updates ?? []) this.updates.set(u.id, u);
    for (const f of s.published ?? []) this.published.set(f.item_id, f);
    for (const i of s.interactions ?? []) this.interactions.set(i.id, i);
    this.leaderboard = s.leaderboard ?? null;
  }

  /** The map a message lives in, by where it was posted. */
  placeOf(m: Message): Map<number, Message> {
    if (m.thread_id) return this.threadMessages;
    if (m.backchannel) return this.backchannel;
    return this.chat;
  }

  find(id: number): Message | undefined {
    return this.chat.get(id) ?? this.backchannel.get(id) ?? this.threadMessages.get(id) ?? this.pinnedMessages.get(id);
  }

  applyPush(p: Json): void {
    if (p.message) {
      const m: Message = p.message;
      const place = this.placeOf(m);
      const had = place.get(m.id);
      place.set(m.id, had ? { ...m, like_count: had.like_count } : m);
    } else if (p.deleted) {
      const id = p.deleted.message_id;
      this.chat.delete(id);
      this.backchannel.delete(id);
      this.threadMessages.delete(id);
      this.pinned = this.pinned.filter((x) => x !== id);
      this.pinnedMessages.delete(id);
      for (const [item, f] of this.published) {
        if (f.question?.id === id || f.answer?.id === id) this.published.delete(item);
      }
    } else if (p.likes) {
      for (const { message_id, count } of p.likes.counts ?? []) {
        for (const place of [this.chat, this.backchannel, this.threadMessages, this.pinnedMessages]) {
          const m = place.get(message_id);
          if (m) place.set(message_id, { ...m, like_count: count });
        }
      }
    } else if (p.pinned) {
      const m: Message = p.pinned;
      this.pinnedMessages.set(m.id, m);
      if (!this.pinned.includes(m.id)) this.pinned.push(m.id);
    } else if (p.unpinned) {
      const id = p.unpinned.message_id;
      this.pinned = this.pinned.filter((x) => x !== id);
      this.pinnedMessages.delete(id);
    } else if (p.blocked) {
      this.blockedUsers.set(p.blocked.user_id, p.blocked);
    } else if (p.unblocked) {
      this.blockedUsers.delete(p.unblocked.user_id);
    } else if (p.context) {
      this.info = p.context;
    } else if (p.update) {
      this.updates.set(p.update.id, p.update);
    } else if (p.feed_qa) {
      this.published.set(p.feed_qa.item_id, p.feed_qa);
    } else if (p.feed_removed) {
      this.published.delete(p.feed_removed.item_id);
    } else if (p.interaction) {
      const i = p.interaction;
      const had = this.interactions.get(i.id);
      // Pushes to everyone are rendered for attendees: a moderator keeps the counts
      // from `tallies`, and everyone keeps their own vote.
      this.interactions.set(i.id, { ...i, tally: i.tally ?? had?.tally ?? null, mine: i.mine ?? had?.mine ?? null });
      if (i.leaderboard) this.leaderboard = { ...i.leaderboard, mine: this.leaderboard?.mine ?? null };
    } else if (p.tallies) {
      for (const t of p.tallies.tallies ?? []) {
        const i = this.interactions.get(t.interaction_id);
        if (i) this.interactions.set(i.id, { ...i, tally: t });
      }
    } else if (p.interaction_removed) {
      this.interactions.delete(p.interaction_removed.interaction_id);
    } else if (p.thread) {
      const t = p.thread;
      if (t.state === "THREAD_STATE_DONE") {
        this.threads.delete(t.id);
        for (const [id, m] of this.threadMessages) if (m.thread_id === t.id) this.threadMessages.delete(id);
      } else {
        this.threads.set(t.id, t);
      }
      if (t.counts) this.counts = t.counts;
    } else if (p.rank) {
      this.myRank = p.rank.mine;
    }
  }
}

/** The user's private stream: settings, peers and the conversations opened here. */
export class PrivateState {
  settings = { toast: true, private_chat: true, show_last_name: true };
  peers = new Map<string, Json>();
  conversations = new Map<string, Map<number, Json>>();

  applyOpen(ok: Json): void {
    if (!ok.recovered && ok.snapshot) {
      this.settings = ok.snapshot.settings ?? this.settings;
      this.peers.clear();
      for (const p of ok.snapshot.peers ?? []) this.peers.set(p.user_id, p);
    }
    for (const push of ok.missed ?? []) this.applyPush(push);
  }

  conversation(peer: string): Map<number, Json> {
    let c = this.conversations.get(peer);
    if (!c) this.conversations.set(peer, (c = new Map()));
    return c;
  }

  applyPush(p: Json): void {
    if (p.settings) {
      this.settings = p.settings;
    } else if (p.peer_update) {
      const u = p.peer_update;
      if (u.peer) this.peers.set(u.peer.user_id, u.peer);
      if (u.message) this.conversation(u.message.peer_id).set(u.message.message_id, u.message);
      if (u.removed) this.conversation(u.removed.peer_id).delete(u.removed.message_id);
    }
  }
}
