//! Room pace: a context accepts group-chat messages only as fast as its fan-out can
//! deliver them, and (optionally) an attendee only one message per slow-mode interval.
//!
//! **The delivery budget.** A message to the room costs each gateway node one push per
//! listener there; the node with the most attendees of the context is the one that
//! falls behind first. So a message costs the largest per-node audience (as the nodes
//! report it, [`super::reactions::Live`]) out of a token bucket that refills at
//! `deliveries_per_sec` and holds a tenth of a second of it ([`BURST`]: a burst of
//! messages let through at once is written within about that long, so it does not
//! make a latency spike). Over budget, the sender is refused
//! with `RATE_LIMITED` and the time until the bucket has room — members are never cut
//! off because one publisher was fast. A message costing more than the whole bucket (a
//! huge room on one node) is let through whenever the bucket is full, and the bucket
//! goes into debt for it.
//!
//! **Slow mode** (a context setting, off by default): an attendee may send one group-chat
//! message per interval; moderators are exempt. The last message time of each attendee
//! is kept only while it matters (one interval).
//!
//! Neither is stored: after a restart the bucket starts full and slow mode forgets who
//! sent last.

use std::{borrow::Cow, collections::HashMap, time::Duration};

use tokio::time::Instant;

use super::command::Rejection;
use crate::telemetry;

/// The longest slow-mode interval a context may set (an hour).
pub const MAX_SLOW_MODE_SECS: u32 = 3_600;

/// How much of the budget may be spent at once: this long's worth.
pub const BURST: Duration = Duration::from_millis(100);

/// Nano-deliveries per delivery.
const NANOS: i128 = 1_000_000_000;

/// A context's delivery budget and slow-mode memory.
#[derive(Debug)]
pub struct Pace {
    /// Deliveries per second per node; 0 turns the budget off.
    rate: i128,
    /// The bucket's size: [`BURST`] of `rate`, in nano-deliveries (like `tokens`).
    capacity: i128,
    /// Deliveries that may go out now, in billionths (negative: in debt). Whole
    /// numbers, so that a retry after the time given is always admitted.
    tokens: i128,
    refilled: Instant,
    /// Attendee → when their last message was accepted (slow mode).
    last_sent: HashMap<String, Instant>,
    /// When `last_sent` was last cleared of entries older than the interval.
    swept: Instant,
}

/// What a message asks of the pace.
#[derive(Debug)]
pub struct Message<'a> {
    pub user_id: &'a str,
    pub moderator: bool,
    /// Listeners on the context's busiest node (at least 1).
    pub audience: u32,
    /// The context's slow mode; zero when off.
    pub slow_mode: Duration,
}

impl Pace {
    pub fn new(deliveries_per_sec: u32, now: Instant) -> Self {
        let rate = i128::from(deliveries_per_sec);
        let capacity = rate * BURST.as_nanos() as i128;
        Pace {
            rate,
            capacity,
            tokens: capacity,
            refilled: now,
            last_sent: HashMap::new(),
            swept: now,
        }
    }

    /// Admits a group-chat message or says when to retry. An admitted message is
    /// counted (its deliveries spent, its time noted for slow mode).
    pub fn admit(&mut self, message: &Message<'_>, now: Instant) -> Result<(), Rejection> {
        let slow = (!message.moderator && !message.slow_mode.is_zero()).then_some(());
        if slow.is_some() {
            self.sweep(message.slow_mode, now);
            if let Some(last) = self.last_sent.get(message.user_id) {
                let next = *last + message.slow_mode;
                if next > now {
                    telemetry::room_paced("slow_mode");
                    return Err(Rejection::RateLimited {
                        what: Cow::Borrowed("messages: the room is in slow mode"),
                        retry_after_ms: millis(next - now),
                    });
                }
            }
        }
        if self.rate > 0 {
            self.refill(now);
            let cost = i128::from(message.audience.max(1)) * NANOS;
            // A message larger than the whole bucket goes when the bucket is full.
            let needed = cost.min(self.capacity);
            if self.tokens < needed {
                telemetry::room_paced("deliveries");
                let wait_ns = ((needed - self.tokens) as u128).div_ceil(self.rate as u128);
                return Err(Rejection::RateLimited {
                    what: Cow::Borrowed("messages for this room right now (its delivery budget)"),
                    retry_after_ms: millis(Duration::from_nanos(wait_ns as u64)),
                });
            }
            self.tokens -= cost;
        }
        if slow.is_some() {
            self.last_sent.insert(message.user_id.to_owned(), now);
        }
        Ok(())
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_nanos() as i128;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = now;
    }

    /// Forgets attendees whose interval is over, at most once per interval.
    fn sweep(&mut self, interval: Duration, now: Instant) {
        if now.saturating_duration_since(self.swept) < interval {
            return;
        }
        self.last_sent
            .retain(|_, at| now.saturating_duration_since(*at) < interval);
        self.swept = now;
    }

    /// Attendees remembered for slow mode (tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.last_sent.len()
    }
}

/// Whole milliseconds, rounded up and at least 1: a client retrying after this much
/// time is admitted.
fn millis(d: Duration) -> u64 {
    (d.as_micros().div_ceil(1000) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(user_id: &str, audience: u32) -> Message<'_> {
        Message {
            user_id,
            moderator: false,
            audience,
            slow_mode: Duration::ZERO,
        }
    }

    fn retry_after(result: Result<(), Rejection>) -> u64 {
        match result {
            Err(Rejection::RateLimited { retry_after_ms, .. }) => retry_after_ms,
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
    }

    #[test]
    fn a_room_gets_its_budget_per_second_and_is_told_when_to_retry() {
        let t0 = Instant::now();
        // 100,000 deliveries per second for a room of 1,000 on its busiest node: a
        // hundred messages a second, ten of them at once.
        let mut pace = Pace::new(100_000, t0);
        for _ in 0..10 {
            pace.admit(&message("a", 1_000), t0).unwrap();
        }
        let wait = retry_after(pace.admit(&message("a", 1_000), t0));
        assert_eq!(wait, 10, "one message's worth refills in 10 ms");
        assert!(
            pace.admit(&message("a", 1_000), t0 + Duration::from_millis(9))
                .is_err()
        );
        pace.admit(&message("a", 1_000), t0 + Duration::from_millis(10))
            .unwrap();
        // A smaller room may send more often.
        let t1 = t0 + Duration::from_secs(5);
        for _ in 0..100 {
            pace.admit(&message("a", 100), t1).unwrap();
        }
        assert!(pace.admit(&message("a", 100), t1).is_err());
    }

    #[test]
    fn a_room_larger_than_the_budget_still_gets_a_message_through_each_refill() {
        let t0 = Instant::now();
        let mut pace = Pace::new(1_000, t0);
        pace.admit(&message("a", 5_000), t0).unwrap();
        // The bucket holds 100 and is in debt by 4,900: full again after five seconds.
        let wait = retry_after(pace.admit(&message("a", 5_000), t0));
        assert_eq!(wait, 5_000);
        pace.admit(&message("a", 5_000), t0 + Duration::from_secs(5))
            .unwrap();
    }

    #[test]
    fn a_zero_budget_admits_everything() {
        let t0 = Instant::now();
        let mut pace = Pace::new(0, t0);
        for _ in 0..10_000 {
            pace.admit(&message("a", 10_000), t0).unwrap();
        }
    }

    #[test]
    fn slow_mode_holds_attendees_to_one_message_per_interval_but_not_moderators() {
        let t0 = Instant::now();
        let mut pace = Pace::new(0, t0);
        let slow = |user_id, moderator| Message {
            user_id,
            moderator,
            audience: 10,
            slow_mode: Duration::from_secs(10),
        };
        pace.admit(&slow("a", false), t0).unwrap();
        pace.admit(&slow("b", false), t0).unwrap();
        let wait = retry_after(pace.admit(&slow("a", false), t0 + Duration::from_secs(4)));
        assert_eq!(wait, 6_000);
        for _ in 0..5 {
            pace.admit(&slow("m", true), t0).unwrap();
        }
        pace.admit(&slow("a", false), t0 + Duration::from_secs(10))
            .unwrap();
        // Who sent last is kept only for one interval.
        pace.admit(&slow("c", false), t0 + Duration::from_secs(25))
            .unwrap();
        assert_eq!(pace.remembered(), 1);
    }

    #[test]
    fn a_message_refused_by_the_budget_does_not_start_a_slow_mode_interval() {
        let t0 = Instant::now();
        let mut pace = Pace::new(100, t0);
        let msg = |audience| Message {
            user_id: "a",
            moderator: false,
            audience,
            slow_mode: Duration::from_secs(10),
        };
        pace.admit(&msg(100), t0).unwrap();
        assert!(pace.admit(&msg(100), t0 + Duration::from_secs(10)).is_ok());
        let t1 = t0 + Duration::from_secs(20);
        pace.admit(&message("b", 100), t1).unwrap();
        retry_after(pace.admit(&msg(100), t1));
        // Refused by the budget, not counted for slow mode: a retry once the budget
        // refilled goes through.
        pace.admit(&msg(100), t1 + Duration::from_secs(1)).unwrap();
    }
}
