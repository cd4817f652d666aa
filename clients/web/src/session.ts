// The app's one way to the gateway, through the SDK (clients/js): connects, joins the
// webinar and opens the private stream, keeps the state (state.ts) from the SDK's
// snapshots and pushes. The SDK reconnects, rejoins from its positions and delivers
// what was missed, each push once; this module only mirrors its state for the views.

import { ErrorCode, PlenaryClient, PlenaryError, PRIVATE_STREAM, type Push } from "./sdk";
import { ContextState, PrivateState } from "./state";

export type Status = "connecting" | "connected" | "reconnecting" | "refused";

type Listener = () => void;

export class Session {
  readonly client: PlenaryClient;
  readonly ctx: ContextState;
  readonly priv = new PrivateState();
  userId = "";
  status: Status = "connecting";
  refusal = "";
  /** How the streams came back after drops: for the status line and the tests. */
  readonly stats = { connects: 0, snapshots: 0, recovered: 0, missed: 0 };

  private joined = false;
  private changed = new Set<Listener>();
  private pushed = new Set<(push: Push) => void>();

  constructor(url: string, token: string, contextId: string) {
    this.ctx = new ContextState(contextId);
    this.client = new PlenaryClient({ url, getToken: async () => token });
    const client = this.client;
    client.on("connected", (ok) => {
      this.userId = ok.userId;
      this.stats.connects += 1;
      this.update();
    });
    client.on("snapshot", (id, snapshot, join) => {
      if (id !== this.ctx.id) return;
      this.ctx.applyJoin(join);
      this.ctx.applySnapshot(snapshot);
      this.stats.snapshots += 1;
      this.update();
    });
    client.on("privateSnapshot", (snapshot) => {
      this.priv.applySnapshot(snapshot);
      this.update();
    });
    client.on("recovered", (_stream, missed) => {
      this.stats.recovered += 1;
      this.stats.missed += missed;
      this.update();
    });
    client.on("push", (push) => {
      if (push.contextId === PRIVATE_STREAM) this.priv.applyPush(push);
      else if (push.contextId === this.ctx.id) this.ctx.applyPush(push);
      else return;
      for (const f of this.pushed) f(push);
      this.emit();
    });
    client.on("state", () => this.update());
    client.on("lost", (stream, error) => {
      if (stream === this.ctx.id) this.refuse(`no longer joined: ${error.message}`);
    });
    client.on("error", (error) => {
      // A refused token would only be refused again: stop and ask for another.
      if (error instanceof PlenaryError && (error.code === ErrorCode.UNAUTHORIZED || error.code === ErrorCode.TOKEN_EXPIRED)) {
        this.refuse(error.message);
      }
    });
    client.on("disconnected", (info) => {
      if (!info.willReconnect && !this.refusal) this.refuse(info.reason || `closed (${info.code})`);
    });
  }

  /** Called after every change of what the views show. */
  onChange(f: Listener): void {
    this.changed.add(f);
  }

  /** Every push as it arrives (toasts, reactions), after it was applied. */
  onPush(f: (push: Push) => void): void {
    this.pushed.add(f);
  }

  /** Tells the views that something changed here (a command's own result). */
  refresh(): void {
    this.emit();
  }

  async start(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.join(this.ctx.id);
      await this.client.openPrivate();
      this.joined = true;
      this.update();
    } catch (e) {
      this.refuse((e as Error).message);
    }
  }

  private refuse(why: string): void {
    this.refusal ||= why; // the first reason is the one that explains
    this.client.close();
    this.update();
  }

  private update(): void {
    const state = this.client.state;
    this.status = this.refusal
      ? "refused"
      : state === "connected" && this.joined
        ? "connected"
        : this.joined || state === "disconnected"
          ? "reconnecting"
          : "connecting";
    this.emit();
  }

  private emit(): void {
    for (const f of this.changed) f();
  }
}
