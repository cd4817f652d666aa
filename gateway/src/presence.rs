//! Presence: who is joined to which context on this node, counted per distinct user.

use std::{collections::HashMap, sync::Arc};

use dashmap::DashMap;

#[derive(Debug, Default)]
struct UserPresence {
    connections: u32,
    moderator: bool,
}

/// Distinct users and connections per context.
#[derive(Debug, Default)]
pub struct Presence {
    contexts: DashMap<Arc<str>, HashMap<Arc<str>, UserPresence>>,
}

/// Presence counts of one context: the same type the cluster publishes.
pub use plenary_bus::redis::presence::Counts as PresenceCounts;

impl Presence {
    /// A connection of `user` joined `context`.
    pub fn join(&self, context: &Arc<str>, user: &Arc<str>, moderator: bool) {
        let mut users = self.contexts.entry(context.clone()).or_default();
        let entry = users.entry(user.clone()).or_default();
        entry.connections += 1;
        entry.moderator |= moderator;
    }

    /// A connection of `user` left `context` (or closed).
    pub fn leave(&self, context: &Arc<str>, user: &Arc<str>) {
        self.contexts.remove_if_mut(context, |_, users| {
            if let Some(entry) = users.get_mut(user) {
                entry.connections = entry.connections.saturating_sub(1);
                if entry.connections == 0 {
                    users.remove(user);
                }
            }
            users.is_empty()
        });
    }

    /// Counts of every context with someone joined on this node.
    pub fn all(&self) -> Vec<(String, PresenceCounts)> {
        self.contexts
            .iter()
            .map(|e| (e.key().to_string(), tally(e.value())))
            .collect()
    }

    /// Current counts for a context.
    pub fn counts(&self, context: &str) -> PresenceCounts {
        self.contexts
            .get(context)
            .map(|users| tally(&users))
            .unwrap_or_default()
    }
}

/// Distinct users by role, and connections, of one context.
fn tally(users: &HashMap<Arc<str>, UserPresence>) -> PresenceCounts {
    users.values().fold(PresenceCounts::default(), |mut c, u| {
        if u.moderator {
            c.moderators += 1;
        } else {
            c.attendees += 1;
        }
        c.connections += u.connections;
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_users_by_role() {
        let p = Presence::default();
        let c: Arc<str> = "c".into();
        let (a, m): (Arc<str>, Arc<str>) = ("a".into(), "m".into());
        p.join(&c, &a, false);
        p.join(&c, &a, false);
        p.join(&c, &m, true);
        assert_eq!(
            p.counts("c"),
            PresenceCounts {
                attendees: 1,
                moderators: 1,
                connections: 3
            }
        );
        p.leave(&c, &a);
        p.leave(&c, &m);
        assert_eq!(
            p.counts("c"),
            PresenceCounts {
                attendees: 1,
                moderators: 0,
                connections: 1
            }
        );
        p.leave(&c, &a);
        assert_eq!(p.counts("c"), PresenceCounts::default());
    }
}
