//! Where each joined context's event stream stands, for recovery after a reconnect, and
//! the filter that hides pushes made stale by a snapshot.

use std::collections::HashMap;

use plenary_proto::v1::{JoinOk, Position, Push};

/// Orders positions: a later epoch wins, then a higher seq.
pub(crate) fn key(position: Position) -> (u64, u64) {
    (position.epoch, position.seq)
}

/// The position after which a join's pushes follow.
pub(crate) fn join_position(ok: &JoinOk) -> Position {
    Position {
        epoch: ok.epoch,
        seq: ok.seq,
    }
}

/// The position of a push.
pub(crate) fn of_push(push: &Push) -> Position {
    Position {
        epoch: push.epoch,
        seq: push.seq,
    }
}

/// Positions of the joined contexts, shared by the socket's reader task (which moves
/// them forward) and the push queue's reader (which consults the floors).
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Per joined context: the last position queued for the user.
    positions: HashMap<String, Position>,
    /// Per context rejoined without recovery: pushes at or before this position are
    /// older than the snapshot the user got, and are dropped from the queue.
    floors: HashMap<String, Position>,
}

impl Tracker {
    /// A `JoinOk` for `context_id` arrived. Without recovery, pushes the snapshot covers
    /// are hidden from now on, including any still queued.
    pub(crate) fn on_join_reply(&mut self, context_id: &str, ok: &JoinOk) {
        if !ok.recovered {
            self.floors.insert(context_id.to_owned(), join_position(ok));
        }
    }

    /// Every push a `JoinOk` replayed has been queued: the context's stream continues
    /// after `position`.
    pub(crate) fn on_joined(&mut self, context_id: &str, position: Position) {
        self.positions.insert(context_id.to_owned(), position);
    }

    /// Both steps of a join at once.
    #[cfg(test)]
    fn on_join_ok(&mut self, context_id: &str, ok: &JoinOk) {
        self.on_join_reply(context_id, ok);
        self.on_joined(context_id, join_position(ok));
    }

    /// A push of `context_id` at `position` was queued for the user. A push that is
    /// not an event (seq 0: reactions, a quiz rank) is no position.
    pub(crate) fn on_push(&mut self, context_id: &str, position: Position) {
        if position.seq == 0 {
            return;
        }
        if let Some(current) = self.positions.get_mut(context_id)
            && key(position) > key(*current)
        {
            *current = position;
        }
    }

    /// The context was left: forget it.
    pub(crate) fn on_leave(&mut self, context_id: &str) {
        self.positions.remove(context_id);
        self.floors.remove(context_id);
    }

    /// The last position queued for `context_id`, if it is joined.
    pub(crate) fn position(&self, context_id: &str) -> Option<Position> {
        self.positions.get(context_id).copied()
    }

    /// Every joined context with its position, sorted by id.
    pub(crate) fn joined(&self) -> Vec<(String, Position)> {
        let mut all: Vec<_> = self
            .positions
            .iter()
            .map(|(id, p)| (id.clone(), *p))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Whether the user should see `push`, taken from the queue: false for a push at or
    /// before its context's floor. The first push after the floor lifts it, so later
    /// duplicates from the server stay visible.
    pub(crate) fn admit(&mut self, push: &Push) -> bool {
        // A resync notice has no position (epoch and seq are 0) and must always reach
        // the user: it says pushes may have been missed.
        if matches!(push.body, Some(plenary_proto::v1::push::Body::Resync(_))) {
            return true;
        }
        // Nor has a push that is not an event (seq 0): it is live, never stale.
        if push.seq == 0 {
            return true;
        }
        let Some(floor) = self.floors.get(&push.context_id) else {
            return true;
        };
        if key(of_push(push)) <= key(*floor) {
            return false;
        }
        self.floors.remove(&push.context_id);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(ctx: &str, epoch: u64, seq: u64) -> Push {
        Push {
            context_id: ctx.into(),
            epoch,
            seq,
            body: None,
        }
    }

    fn join_ok(epoch: u64, seq: u64, recovered: bool) -> JoinOk {
        JoinOk {
            epoch,
            seq,
            recovered,
            ..Default::default()
        }
    }

    #[test]
    fn a_push_that_is_no_event_neither_moves_the_position_nor_is_hidden() {
        let mut t = Tracker::default();
        t.on_join_ok("w1", &join_ok(2, 9, false));
        t.on_push("w1", Position { epoch: 3, seq: 0 });
        assert_eq!(t.position("w1"), Some(Position { epoch: 2, seq: 9 }));
        assert!(
            t.admit(&push("w1", 2, 0)),
            "below the floor, but not an event"
        );
        assert!(
            !t.admit(&push("w1", 2, 9)),
            "the floor still hides what it covers"
        );
    }

    #[test]
    fn tracks_joined_contexts_only() {
        let mut t = Tracker::default();
        t.on_push("w1", Position { epoch: 1, seq: 5 });
        assert_eq!(t.position("w1"), None);

        t.on_join_ok("w1", &join_ok(1, 10, false));
        assert_eq!(t.position("w1"), Some(Position { epoch: 1, seq: 10 }));
        t.on_push("w1", Position { epoch: 1, seq: 12 });
        t.on_push("w1", Position { epoch: 1, seq: 15 });
        assert_eq!(t.position("w1"), Some(Position { epoch: 1, seq: 15 }));
        // A stale or duplicate push never moves the position back.
        t.on_push("w1", Position { epoch: 1, seq: 11 });
        assert_eq!(t.position("w1"), Some(Position { epoch: 1, seq: 15 }));
        // A new epoch wins even with a lower seq.
        t.on_push("w1", Position { epoch: 2, seq: 1 });
        assert_eq!(t.position("w1"), Some(Position { epoch: 2, seq: 1 }));

        t.on_join_ok("w2", &join_ok(7, 3, false));
        assert_eq!(
            t.joined(),
            vec![
                ("w1".to_owned(), Position { epoch: 2, seq: 1 }),
                ("w2".to_owned(), Position { epoch: 7, seq: 3 }),
            ]
        );
        t.on_leave("w1");
        assert_eq!(t.position("w1"), None);
        assert_eq!(t.joined().len(), 1);
    }

    #[test]
    fn snapshot_rejoin_hides_stale_queued_pushes() {
        let mut t = Tracker::default();
        t.on_join_ok("w1", &join_ok(1, 10, false));
        // Nothing queued is older than a first join's position.
        assert!(t.admit(&push("w1", 1, 11)));

        // Pushes 12 and 13 were queued, then the connection dropped and the rejoin could
        // not recover: the snapshot is at 1/20.
        t.on_join_ok("w1", &join_ok(1, 20, false));
        assert!(!t.admit(&push("w1", 1, 12)));
        assert!(!t.admit(&push("w1", 1, 20)));
        assert!(
            t.admit(&push("w2", 1, 1)),
            "other contexts are not filtered"
        );
        assert!(t.admit(&push("w1", 1, 21)));
        // Once past the floor, everything is shown again, duplicates included.
        assert!(t.admit(&push("w1", 1, 21)));
    }

    #[test]
    fn resync_notices_pass_the_floor() {
        let mut t = Tracker::default();
        t.on_join_ok("c", &join_ok(7, 10, false));
        let mut resync = push("c", 0, 0);
        resync.body = Some(plenary_proto::v1::push::Body::Resync(
            plenary_proto::v1::Resync {},
        ));
        assert!(t.admit(&resync));
        assert!(
            !t.admit(&push("c", 7, 9)),
            "the floor still hides stale pushes"
        );
    }

    #[test]
    fn recovered_rejoin_keeps_everything() {
        let mut t = Tracker::default();
        t.on_join_ok("w1", &join_ok(1, 10, false));
        assert!(t.admit(&push("w1", 1, 11)));
        t.on_push("w1", Position { epoch: 1, seq: 11 });
        t.on_join_ok("w1", &join_ok(1, 14, true));
        assert!(t.admit(&push("w1", 1, 12)));
        assert_eq!(t.position("w1"), Some(Position { epoch: 1, seq: 14 }));
    }
}
