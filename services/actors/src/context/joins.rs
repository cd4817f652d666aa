//! Joins counted per window, for the reports' activity over time: the actor counts the
//! joins that got the context fresh (a reconnect that resumed with `since` is not a
//! join) and writes one `JoinsCounted` event per window that had any — when the window
//! is over, or when the actor stops cleanly — instead of one event per join. Nobody is
//! shown these events. Held by the actor, never stored as state: a node that dies
//! loses the count of the window in progress.

use plenary_proto::v1::events::JoinsCounted;

/// The window in progress and its count.
#[derive(Debug)]
pub(super) struct JoinCounter {
    window_ms: u64,
    /// (window start, joins) while any join was counted in it.
    current: Option<(u64, u32)>,
}

impl JoinCounter {
    pub(super) fn new(window_ms: u64) -> Self {
        JoinCounter {
            window_ms: window_ms.max(1),
            current: None,
        }
    }

    /// Counts a join at `now_ms`; returns the window it closed (a join in a later
    /// window), to be written first.
    pub(super) fn joined(&mut self, now_ms: u64) -> Option<JoinsCounted> {
        let start = now_ms - now_ms % self.window_ms;
        let closed = match self.current {
            Some((s, _)) if s != start => self.take(),
            _ => None,
        };
        let (_, joins) = self.current.get_or_insert((start, 0));
        *joins = joins.saturating_add(1);
        closed
    }

    /// When the window in progress ends (Unix ms), if a join was counted in it.
    pub(super) fn due_ms(&self) -> Option<u64> {
        self.current.map(|(start, _)| start + self.window_ms)
    }

    /// The window in progress, if it is over at `now_ms`.
    pub(super) fn take_if_over(&mut self, now_ms: u64) -> Option<JoinsCounted> {
        if self.due_ms().is_some_and(|due| due <= now_ms) {
            self.take()
        } else {
            None
        }
    }

    /// The window in progress, over or not (the actor is stopping).
    pub(super) fn take(&mut self) -> Option<JoinsCounted> {
        self.current.take().map(|(start, joins)| JoinsCounted {
            window_start_ms: start,
            window_ms: self.window_ms as u32,
            joins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_are_counted_per_window_and_written_once_it_is_over() {
        let mut c = JoinCounter::new(10_000);
        assert_eq!(c.due_ms(), None, "no join, nothing to write");
        assert_eq!(c.joined(20_001), None);
        assert_eq!(c.joined(29_999), None);
        assert_eq!(c.due_ms(), Some(30_000));
        assert_eq!(c.take_if_over(29_999), None);
        // A join in a later window closes the one before.
        let closed = c.joined(30_000).expect("the first window is over");
        assert_eq!((closed.window_start_ms, closed.joins), (20_000, 2));
        let over = c.take_if_over(40_000).expect("over at its end");
        assert_eq!(
            (over.window_start_ms, over.window_ms, over.joins),
            (30_000, 10_000, 1)
        );
        assert_eq!(c.take(), None, "taken once");
    }
}
