// What the app shows, kept from a join's snapshot and the pushes after it, as the SDK
// delivers them (its protobuf-es types: camelCase fields, bigint ids, enums). Every
// apply is keyed by id with absolute counts, so nothing can show twice.

import {
  InteractionStatus,
  Role,
  ThreadState,
  type BlockedUser,
  type ChatMessage,
  type DirectMessage,
  type FeedQa,
  type Interaction,
  type JoinOk,
  type Leaderboard,
  type LeaderboardEntry,
  type Peer,
  type PrivateSnapshot,
  type Push,
  type QaThread,
  type Snapshot,
  type Update,
  type UserSettings,
} from "./sdk";

export type Message = ChatMessage;
export type Thread = QaThread;

/** Ascending by a bigint key. */
export function byId<T>(key: (t: T) => bigint) {
  return (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** One joined context as this user sees it. */
export class ContextState {
  name = "";
  qaMulti = false;
  role = Role.ATTENDEE;
  chat = new Map<bigint, Message>();
  backchannel = new Map<bigint, Message>();
  threadMessages = new Map<bigint, Message>();
  threads = new Map<bigint, Thread>();
  counts = { pending: 0, owned: 0, resolved: 0 };
  pinned: bigint[] = [];
  pinnedMessages = new Map<bigint, Message>();
  liked = new Set<bigint>();
  blocked = false;
  blockedUsers = new Map<string, BlockedUser>();
  updates = new Map<bigint, Update>();
  published = new Map<bigint, FeedQa>();
  interactions = new Map<bigint, Interaction>();
  leaderboard: Leaderboard | undefined;
  myRank: LeaderboardEntry | undefined;

  constructor(readonly id: string) {}

  get isModerator(): boolean {
    return this.role === Role.MODERATOR;
  }

  /** The join's settings and role (a snapshot or a recovery alike). */
  applyJoin(ok: JoinOk): void {
    if (ok.context) {
      this.name = ok.context.name;
      this.qaMulti = ok.context.qaMode === 1;
    }
    this.role = ok.role;
  }

  /** A snapshot: everything held for the context is replaced. */
  applySnapshot(s: Snapshot): void {
    this.chat = new Map(s.messages.map((m) => [m.id, m]));
    this.backchannel = new Map(s.backchannel.map((m) => [m.id, m]));
    this.threadMessages = new Map(s.threadMessages.map((m) => [m.id, m]));
    this.threads = new Map(s.threads.map((t) => [t.id, t]));
    this.counts = s.counts ? { ...s.counts } : { pending: 0, owned: 0, resolved: 0 };
    this.pinned = s.pinned.map((m) => m.id);
    this.pinnedMessages = new Map(s.pinned.map((m) => [m.id, m]));
    this.liked = new Set(s.likedByMe);
    this.blocked = s.blocked;
    this.blockedUsers = new Map(s.blockedUsers.map((b) => [b.userId, b]));
    this.updates = new Map(s.updates.map((u) => [u.id, u]));
    this.published = new Map(s.published.map((f) => [f.itemId, f]));
    this.interactions = new Map(s.interactions.map((i) => [i.id, i]));
    this.leaderboard = s.leaderboard;
    this.myRank = s.leaderboard?.mine;
  }

  /** The map a message lives in, by where it was posted. */
  placeOf(m: Message): Map<bigint, Message> {
    if (m.threadId) return this.threadMessages;
    if (m.backchannel) return this.backchannel;
    return this.chat;
  }

  find(id: bigint): Message | undefined {
    return this.chat.get(id) ?? this.backchannel.get(id) ?? this.threadMessages.get(id) ?? this.pinnedMessages.get(id);
  }

  /** A like count as the viewer's own like or unlike answered it. */
  setLikes(id: bigint, count: number): void {
    for (const place of [this.chat, this.backchannel, this.threadMessages, this.pinnedMessages]) {
      const m = place.get(id);
      if (m) place.set(id, { ...m, likeCount: count });
    }
  }

  applyPush(push: Push): void {
    const body = push.body;
    switch (body.case) {
      case "message": {
        const m = body.value;
        const place = this.placeOf(m);
        const had = place.get(m.id);
        place.set(m.id, had ? { ...m, likeCount: had.likeCount } : m);
        break;
      }
      case "deleted": {
        const id = body.value.messageId;
        this.chat.delete(id);
        this.backchannel.delete(id);
        this.threadMessages.delete(id);
        this.pinned = this.pinned.filter((x) => x !== id);
        this.pinnedMessages.delete(id);
        for (const [item, f] of this.published) {
          if (f.question?.id === id || f.answer?.id === id) this.published.delete(item);
        }
        break;
      }
      case "likes":
        for (const { messageId, count } of body.value.counts) this.setLikes(messageId, count);
        break;
      case "pinned": {
        const m = body.value;
        this.pinnedMessages.set(m.id, m);
        if (!this.pinned.includes(m.id)) this.pinned.push(m.id);
        break;
      }
      case "unpinned":
        this.pinned = this.pinned.filter((x) => x !== body.value.messageId);
        this.pinnedMessages.delete(body.value.messageId);
        break;
      case "blocked":
        this.blockedUsers.set(body.value.userId, body.value);
        break;
      case "unblocked":
        this.blockedUsers.delete(body.value.userId);
        break;
      case "context":
        this.name = body.value.name;
        this.qaMulti = body.value.qaMode === 1;
        break;
      case "update":
        this.updates.set(body.value.id, body.value);
        break;
      case "feedQa":
        this.published.set(body.value.itemId, body.value);
        break;
      case "feedRemoved":
        this.published.delete(body.value.itemId);
        break;
      case "interaction": {
        const i = body.value;
        const had = this.interactions.get(i.id);
        // Pushes to everyone are rendered for attendees: a moderator keeps the counts
        // from `tallies`, and everyone keeps their own vote.
        this.interactions.set(i.id, { ...i, tally: i.tally ?? had?.tally, mine: i.mine ?? had?.mine });
        if (i.leaderboard) this.leaderboard = i.leaderboard;
        break;
      }
      case "tallies":
        for (const t of body.value.tallies) {
          const i = this.interactions.get(t.interactionId);
          if (i) this.interactions.set(i.id, { ...i, tally: t });
        }
        break;
      case "interactionRemoved":
        this.interactions.delete(body.value.interactionId);
        break;
      case "thread": {
        const t = body.value;
        if (t.state === ThreadState.DONE) {
          this.threads.delete(t.id);
          for (const [id, m] of this.threadMessages) if (m.threadId === t.id) this.threadMessages.delete(id);
        } else {
          this.threads.set(t.id, t);
        }
        if (t.counts) this.counts = { ...t.counts };
        break;
      }
      case "rank":
        this.myRank = body.value.mine;
        break;
    }
  }

  /** Published interactions, not drafts. */
  isPublished(i: Interaction): boolean {
    return i.status === InteractionStatus.PUBLISHED || i.status === InteractionStatus.ENDED;
  }
}

/** The user's private stream: settings, peers and the conversations read here. */
export class PrivateState {
  settings: Pick<UserSettings, "toast" | "privateChat" | "showLastName"> = { toast: true, privateChat: true, showLastName: true };
  peers = new Map<string, Peer>();
  conversations = new Map<string, Map<bigint, DirectMessage>>();

  applySnapshot(s: PrivateSnapshot): void {
    if (s.settings) this.settings = s.settings;
    this.peers = new Map(s.peers.map((p) => [p.userId, p]));
  }

  conversation(peer: string): Map<bigint, DirectMessage> {
    let c = this.conversations.get(peer);
    if (!c) this.conversations.set(peer, (c = new Map()));
    return c;
  }

  applyPush(push: Push): void {
    const body = push.body;
    if (body.case === "settings") {
      this.settings = body.value;
    } else if (body.case === "peerUpdate") {
      const u = body.value;
      if (u.peer) this.peers.set(u.peer.userId, u.peer);
      if (u.message) this.conversation(u.message.peerId).set(u.message.messageId, u.message);
      if (u.removed) this.conversation(u.removed.peerId).delete(u.removed.messageId);
    }
  }
}
