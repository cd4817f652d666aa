// Reconnect delays: exponential back-off with full jitter (a uniformly random delay
// between 0 and the exponential cap), so clients of a restarted server spread out.

export interface BackoffOptions {
  /** The cap of the first attempt's delay. Default 500 ms. */
  minDelayMs: number;
  /** The largest delay. Default 30 s. */
  maxDelayMs: number;
}

/** The delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, { minDelayMs, maxDelayMs }: BackoffOptions, random = Math.random): number {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}
