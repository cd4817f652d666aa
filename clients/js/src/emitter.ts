// A small typed event emitter: `on` returns its own unsubscribe function.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [E in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** Calls `listener` on every `event` until the returned function is called. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const off = this.on(event, ((...args: unknown[]) => {
      off();
      listener(...args);
    }) as Events[E]);
    return off;
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.listeners.get(event)?.delete(listener);
  }

  /**
   * A listener that throws does not stop the others or the client: its error is thrown
   * again from a fresh task, where the page (or Node) reports it as uncaught.
   */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}
