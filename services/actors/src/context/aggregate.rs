//! Throttled aggregates: hot counters (like counts; vote tallies, held by interaction
//! id only and computed when pushed; reaction counts next) whose changes are not pushed
//! one by one. Each change is stored in the
//! log as usual; its push is held, keeping only the latest value per key, and
//! everything held goes out as one summary push when the actor flushes (a timer, or
//! before any other push, so order is kept). One summary is for one audience: a change
//! for another audience sends what is held first.

use std::collections::BTreeMap;

use super::view::Audience;

/// Changes held back for one summary push.
#[derive(Debug)]
pub struct Throttled<K, V> {
    held: BTreeMap<K, V>,
    /// The seq of the last change held: the summary's position.
    seq: u64,
    /// The seq of the first change held: what was published stops before it.
    first_seq: u64,
    audience: Audience,
}

/// What a summary push carries.
#[derive(Debug, PartialEq)]
pub struct Summary<K, V> {
    /// The latest value of each key changed, in key order.
    pub changes: Vec<(K, V)>,
    pub seq: u64,
    pub audience: Audience,
}

impl<K: Ord, V> Default for Throttled<K, V> {
    fn default() -> Self {
        Throttled {
            held: BTreeMap::new(),
            seq: 0,
            first_seq: 0,
            audience: Audience::Everyone,
        }
    }
}

impl<K: Ord, V> Throttled<K, V> {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Holds `value` as the latest of `key`, changed by the event at `seq`. What was
    /// held for another audience is returned, to be pushed first.
    pub fn hold(
        &mut self,
        key: K,
        value: V,
        seq: u64,
        audience: Audience,
    ) -> Option<Summary<K, V>> {
        let earlier = if self.audience != audience {
            self.take()
        } else {
            None
        };
        if self.held.is_empty() {
            self.first_seq = seq;
        }
        self.held.insert(key, value);
        self.seq = seq;
        self.audience = audience;
        earlier
    }

    /// The seq of the first change held, if any: every push before it went out.
    pub fn first_held(&self) -> Option<u64> {
        (!self.held.is_empty()).then_some(self.first_seq)
    }

    /// Everything held, as one summary; `None` when nothing is.
    pub fn take(&mut self) -> Option<Summary<K, V>> {
        if self.held.is_empty() {
            return None;
        }
        Some(Summary {
            changes: std::mem::take(&mut self.held).into_iter().collect(),
            seq: self.seq,
            audience: self.audience.clone(),
        })
    }

    /// Drops what is held (the state it described was reloaded).
    pub fn clear(&mut self) {
        self.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_value_per_key_and_the_last_position() {
        let mut likes = Throttled::default();
        assert!(likes.take().is_none());
        assert!(likes.hold(7, 1, 10, Audience::Everyone).is_none());
        assert!(likes.hold(3, 1, 11, Audience::Everyone).is_none());
        assert!(likes.hold(7, 2, 12, Audience::Everyone).is_none());
        assert_eq!(
            likes.take(),
            Some(Summary {
                changes: vec![(3, 1), (7, 2)],
                seq: 12,
                audience: Audience::Everyone,
            })
        );
        assert!(likes.is_empty());
    }

    #[test]
    fn a_change_for_another_audience_sends_what_is_held_first() {
        let mut likes = Throttled::default();
        likes.hold(1, 1, 5, Audience::Everyone);
        let earlier = likes.hold(2, 1, 6, Audience::Moderators);
        assert_eq!(
            earlier,
            Some(Summary {
                changes: vec![(1, 1)],
                seq: 5,
                audience: Audience::Everyone,
            })
        );
        let rest = likes.take().unwrap();
        assert_eq!(
            (rest.changes, rest.audience),
            (vec![(2, 1)], Audience::Moderators)
        );
    }
}
