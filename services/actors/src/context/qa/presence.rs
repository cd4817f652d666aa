//! Which moderators are in a context, for the Q&A auto-release of claims whose owner
//! left (`--qa-auto-release-secs`).

use std::{collections::HashMap, time::Duration};

use tokio::time::Instant;

/// Moderators' connections, for releasing the claims of those who left.
///
/// Joins and leaves count connections; sessions also report each ping interval, so a
/// fresh actor learns who is here and a moderator whose gateway died without a leave
/// stops counting as present once their reports stop for longer than the grace.
#[derive(Debug, Default)]
pub(in crate::context) struct ModeratorPresence {
    online: HashMap<String, Online>,
    away_since: HashMap<String, Instant>,
}

#[derive(Debug)]
struct Online {
    connections: u32,
    last_report: Instant,
}

impl ModeratorPresence {
    pub(in crate::context) fn joined(&mut self, user: &str) {
        let online = self.online.entry(user.to_owned()).or_insert(Online {
            connections: 0,
            last_report: Instant::now(),
        });
        online.connections += 1;
        online.last_report = Instant::now();
        self.away_since.remove(user);
    }

    /// A moderator's connection reported in.
    pub(in crate::context) fn seen(&mut self, user: &str) {
        match self.online.get_mut(user) {
            Some(online) => online.last_report = Instant::now(),
            None => self.joined(user),
        }
    }

    pub(in crate::context) fn left(&mut self, user: &str) {
        if let Some(online) = self.online.get_mut(user) {
            online.connections = online.connections.saturating_sub(1);
            if online.connections == 0 {
                self.online.remove(user);
                self.away_since.insert(user.to_owned(), Instant::now());
            }
        }
    }

    /// Away longer than `after`. Silence counts as away only past `grace`: a
    /// moderator who stopped reporting counts from their last report, one this actor
    /// never heard from counts from `started`.
    pub(in crate::context) fn away_longer_than(
        &self,
        user: &str,
        after: Duration,
        started: Instant,
        grace: Duration,
    ) -> bool {
        let silent_since = match (self.online.get(user), self.away_since.get(user)) {
            (Some(online), _) => online.last_report,
            (None, Some(left)) => return left.elapsed() >= after,
            (None, None) => started,
        };
        silent_since.elapsed() >= after.max(grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3_600);

    #[test]
    fn a_moderator_who_left_counts_as_away_at_once_whatever_the_grace() {
        let mut moderators = ModeratorPresence::default();
        moderators.joined("ann");
        assert!(!moderators.away_longer_than("ann", Duration::ZERO, Instant::now(), HOUR));
        moderators.left("ann");
        assert!(moderators.away_longer_than("ann", Duration::ZERO, Instant::now(), HOUR));
        assert!(!moderators.away_longer_than("ann", HOUR, Instant::now(), Duration::ZERO));
    }

    #[test]
    fn an_unseen_moderator_is_away_only_after_the_grace() {
        let mut moderators = ModeratorPresence::default();
        let started = Instant::now() - Duration::from_secs(10);
        let second = Duration::from_secs(1);
        assert!(!moderators.away_longer_than("bo", second, started, HOUR));
        assert!(moderators.away_longer_than("bo", second, started, second));
        // A report from any of their connections makes them present again.
        moderators.seen("bo");
        assert!(!moderators.away_longer_than("bo", second, started, second));
    }

    #[test]
    fn a_moderator_whose_reports_stop_is_away_after_the_grace() {
        let mut moderators = ModeratorPresence::default();
        moderators.joined("cy");
        let second = Duration::from_secs(1);
        moderators.online.get_mut("cy").unwrap().last_report =
            Instant::now() - Duration::from_secs(10);
        assert!(!moderators.away_longer_than("cy", second, Instant::now(), HOUR));
        assert!(moderators.away_longer_than("cy", second, Instant::now(), second));
    }
}
