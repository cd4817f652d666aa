//! Reactions and presence: what each gateway node reports of a context every window —
//! the reactions sent there and the attendees joined there ([`NodeReport`]). Neither
//! is an event: nothing here is stored or recovered. Reactions go out as one
//! `Reactions` push at most every 300 ms (at once when the last was longer ago),
//! whatever the number of clicks or nodes; the attendee
//! count, summed over the nodes heard from lately, is what a crowd vote's share is
//! of.

use std::{collections::HashMap, time::Duration};

use plenary_proto::v1::{Reaction, ReactionCount, Reactions};
use tokio::time::Instant;

/// The reactions (`plenary.v1.Reaction` 1 to 5).
pub const KINDS: usize = 5;

/// The shortest time between two reactions pushes of a context. A report arriving
/// later than that after the last push is pushed at once, so a click is on screens
/// within one node report window (250 ms) plus at most this. Above 250 ms so that
/// delivery jitter cannot put five pushes into one second at a client.
pub const WINDOW: Duration = Duration::from_millis(300);

/// A node not heard from for this long no longer counts towards presence (nodes report
/// at least every 5 s).
pub const PRESENCE_TTL: Duration = Duration::from_secs(15);

/// What one gateway node saw of a context since its last report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeReport {
    pub node: String,
    /// Counts per reaction (index = reaction - 1).
    pub reactions: [u32; KINDS],
    /// Moderators' crowd reactions, the same way.
    pub crowd: [u32; KINDS],
    /// Distinct attendees joined there, when the node reports it this time.
    pub attendees: Option<u32>,
}

impl NodeReport {
    pub fn has_reactions(&self) -> bool {
        self.reactions.iter().chain(&self.crowd).any(|&n| n > 0)
    }
}

/// The reaction index of a wire value, if it names one of the five.
pub fn index_of(reaction: i32) -> Option<usize> {
    match Reaction::try_from(reaction) {
        Ok(Reaction::Unspecified) | Err(_) => None,
        Ok(r) => Some(r as usize - 1),
    }
}

/// A context's reactions window and the attendees each node reported.
#[derive(Debug, Default)]
pub struct Live {
    reactions: [u32; KINDS],
    crowd: [u32; KINDS],
    /// When the open window started (its first reaction arrived); `None` when empty.
    opened: Option<Instant>,
    /// When the last push went out.
    pushed: Option<Instant>,
    nodes: HashMap<String, (u32, Instant)>,
}

impl Live {
    /// Takes a node's report. True when the attendee count may have changed.
    pub fn report(&mut self, report: NodeReport, now: Instant) -> bool {
        if report.has_reactions() {
            self.opened.get_or_insert(now);
            add(&mut self.reactions, &report.reactions);
            add(&mut self.crowd, &report.crowd);
        }
        match report.attendees {
            Some(n) => self.nodes.insert(report.node, (n, now)).map(|(was, _)| was) != Some(n),
            None => false,
        }
    }

    /// When the open window's push is due: at once, unless the last push was less than
    /// [`WINDOW`] ago.
    pub fn due(&self) -> Option<Instant> {
        let opened = self.opened?;
        Some(match self.pushed {
            Some(pushed) => opened.max(pushed + WINDOW),
            None => opened,
        })
    }

    /// The open window as one push, and a new window; `None` when nothing was sent.
    pub fn take(&mut self, now: Instant) -> Option<Reactions> {
        self.opened.take()?;
        let since = self.pushed.replace(now);
        let counts = |n: &mut [u32; KINDS]| -> Vec<ReactionCount> {
            let counts = n
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| ReactionCount {
                    reaction: i as i32 + 1,
                    count: *n,
                })
                .collect();
            *n = [0; KINDS];
            counts
        };
        Some(Reactions {
            counts: counts(&mut self.reactions),
            crowd: counts(&mut self.crowd),
            // What the clicks were collected over: since the last push, between one
            // node report window and two.
            window_ms: since
                .map_or(WINDOW, |at| now.saturating_duration_since(at))
                .clamp(WINDOW, 2 * WINDOW)
                .as_millis() as u32,
        })
    }

    /// The most attendees one node reported (of the nodes heard from within
    /// [`PRESENCE_TTL`]): the node a message to the room costs most.
    pub fn busiest_node(&mut self, now: Instant) -> u32 {
        self.present(now);
        self.nodes.values().map(|(n, _)| *n).max().unwrap_or(0)
    }

    /// Attendees present: the sum of the nodes heard from within [`PRESENCE_TTL`]
    /// (the others are forgotten).
    pub fn present(&mut self, now: Instant) -> u32 {
        self.nodes
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < PRESENCE_TTL);
        self.nodes
            .values()
            .fold(0u32, |sum, (n, _)| sum.saturating_add(*n))
    }
}

fn add(into: &mut [u32; KINDS], from: &[u32; KINDS]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.saturating_add(*b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(node: &str, reactions: [u32; KINDS], attendees: Option<u32>) -> NodeReport {
        NodeReport {
            node: node.into(),
            reactions,
            crowd: [0; KINDS],
            attendees,
        }
    }

    #[test]
    fn a_window_sums_every_node_and_leaves_out_reactions_nobody_sent() {
        let mut live = Live::default();
        let t0 = Instant::now();
        assert!(live.take(t0).is_none(), "nothing sent, nothing pushed");
        live.report(report("a", [3, 0, 1, 0, 0], None), t0);
        assert_eq!(live.due(), Some(t0), "the first window goes out at once");
        live.report(
            NodeReport {
                crowd: [0, 0, 0, 0, 1],
                ..report("b", [2, 0, 0, 0, 0], None)
            },
            t0 + Duration::from_millis(100),
        );
        let t1 = t0 + Duration::from_millis(100);
        let push = live.take(t1).unwrap();
        let pairs = |c: &[ReactionCount]| -> Vec<(i32, u32)> {
            c.iter().map(|c| (c.reaction, c.count)).collect()
        };
        assert_eq!(pairs(&push.counts), [(1, 5), (3, 1)]);
        assert_eq!(pairs(&push.crowd), [(5, 1)]);
        assert_eq!(push.window_ms, 300);
        assert!(live.due().is_none() && live.take(t1).is_none());
        // The next window waits until 300 ms after that push, however early it opens.
        live.report(
            report("b", [1, 0, 0, 0, 0], None),
            t1 + Duration::from_millis(10),
        );
        assert_eq!(live.due(), Some(t1 + WINDOW));
        // A window opening long after the last push goes out at once.
        let t2 = t1 + Duration::from_secs(5);
        live.take(t1 + WINDOW);
        live.report(report("b", [1, 0, 0, 0, 0], None), t2);
        assert_eq!(live.due(), Some(t2));
        assert_eq!(
            live.take(t2).unwrap().window_ms,
            600,
            "capped at two windows"
        );
    }

    #[test]
    fn a_report_without_reactions_opens_no_window() {
        let mut live = Live::default();
        assert!(live.report(report("a", [0; KINDS], Some(4)), Instant::now()));
        assert!(live.due().is_none());
    }

    #[test]
    fn presence_sums_nodes_heard_from_lately() {
        let mut live = Live::default();
        let t0 = Instant::now();
        assert!(live.report(report("a", [0; KINDS], Some(10)), t0));
        assert!(live.report(report("b", [0; KINDS], Some(5)), t0));
        assert!(
            !live.report(report("a", [0; KINDS], Some(10)), t0),
            "unchanged"
        );
        assert!(
            !live.report(report("a", [1; KINDS], None), t0),
            "not reported"
        );
        assert_eq!(live.present(t0), 15);
        live.report(
            report("a", [0; KINDS], Some(12)),
            t0 + Duration::from_secs(10),
        );
        // b was last heard of 16 s ago: gone.
        assert_eq!(live.present(t0 + Duration::from_secs(16)), 12);
    }

    #[test]
    fn only_the_five_reactions_have_an_index() {
        assert_eq!(index_of(Reaction::Clap as i32), Some(0));
        assert_eq!(index_of(Reaction::Wow as i32), Some(4));
        assert_eq!(index_of(0), None);
        assert_eq!(index_of(6), None);
        assert_eq!(index_of(-1), None);
    }
}
