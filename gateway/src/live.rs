//! What this node tells each context's actor every window: the reactions its
//! connections sent, and (at most once a second) how many attendees are joined here.
//! A click costs a counter increment on this node; the actor gets one report per node
//! per window however many clicked, and pushes one `Reactions` summary to everyone.

use std::{
    collections::{HashMap, HashSet, hash_map::Entry},
    sync::Arc,
    time::Duration,
};

use dashmap::DashMap;
use plenary_actors::{
    ContextRegistry,
    context::reactions::{KINDS, NodeReport},
};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::presence::Presence;

/// Reports are sent this often (the actor pushes at most every 300 ms, so a click is
/// on screens within about 550 ms).
pub const REPORT_INTERVAL: Duration = Duration::from_millis(250);
/// Attendee counts are looked at every this many reports (once a second)...
const ATTENDANCE_EVERY: u32 = 4;
/// ...and sent when they changed, or at least this often (the actor forgets a node
/// not heard of for [`plenary_actors::context::reactions::PRESENCE_TTL`]).
const ATTENDANCE_REFRESH: Duration = Duration::from_secs(5);

/// Reactions counted on this node since the last report, per context.
#[derive(Debug, Default)]
pub struct Reactions {
    windows: DashMap<Arc<str>, Window>,
}

#[derive(Debug, Default)]
struct Window {
    reactions: [u32; KINDS],
    crowd: [u32; KINDS],
}

impl Reactions {
    /// Counts one reaction (`index` 0 to 4) to `context`.
    pub fn react(&self, context: &Arc<str>, index: usize, crowd: bool) {
        let mut window = self.windows.entry(context.clone()).or_default();
        let counts = if crowd {
            &mut window.crowd
        } else {
            &mut window.reactions
        };
        if let Some(n) = counts.get_mut(index) {
            *n = n.saturating_add(1);
        }
    }

    /// Everything counted, as one report per context; the counters start again.
    fn take(&self) -> HashMap<Arc<str>, NodeReport> {
        let mut reports = HashMap::new();
        self.windows.retain(|context, window| {
            reports.insert(
                context.clone(),
                NodeReport {
                    reactions: window.reactions,
                    crowd: window.crowd,
                    ..NodeReport::default()
                },
            );
            false
        });
        reports
    }
}

/// The attendee count last sent per context, to send only changes (and refreshes).
#[derive(Debug, Default)]
struct Attendance {
    sent: HashMap<Arc<str>, (u32, Instant)>,
}

impl Attendance {
    /// The counts to send now, given the current ones: changed ones, ones not sent for
    /// [`ATTENDANCE_REFRESH`], and a last 0 for contexts nobody is joined to any more.
    fn due(&mut self, current: Vec<(Arc<str>, u32)>, now: Instant) -> Vec<(Arc<str>, u32)> {
        let mut due = Vec::new();
        let mut seen: HashSet<Arc<str>> = HashSet::with_capacity(current.len());
        for (context, n) in current {
            seen.insert(context.clone());
            match self.sent.entry(context.clone()) {
                Entry::Occupied(mut sent) => {
                    let (was, at) = *sent.get();
                    if was != n || now.saturating_duration_since(at) >= ATTENDANCE_REFRESH {
                        sent.insert((n, now));
                        due.push((context, n));
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert((n, now));
                    due.push((context, n));
                }
            }
        }
        self.sent.retain(|context, _| {
            let still = seen.contains(context);
            if !still {
                due.push((context.clone(), 0));
            }
            still
        });
        due
    }
}

/// Sends the reports every [`REPORT_INTERVAL`] until `stop`.
pub fn spawn(
    reactions: Arc<Reactions>,
    presence: Arc<Presence>,
    registry: Arc<ContextRegistry>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REPORT_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut attendance = Attendance::default();
        let mut round = 0u32;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let mut reports = reactions.take();
            round = round.wrapping_add(1);
            if round.is_multiple_of(ATTENDANCE_EVERY) {
                let current = presence
                    .all()
                    .into_iter()
                    .map(|(context, counts)| (Arc::from(context), counts.attendees))
                    .collect();
                for (context, n) in attendance.due(current, Instant::now()) {
                    reports.entry(context).or_default().attendees = Some(n);
                }
            }
            for (context, report) in reports {
                registry.node_report(&context, report);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_are_counted_per_context_and_taken_once() {
        let r = Reactions::default();
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        r.react(&a, 0, false);
        r.react(&a, 0, false);
        r.react(&a, 4, true);
        r.react(&b, 2, false);
        r.react(&b, 9, false); // not a reaction: ignored
        let reports = r.take();
        assert_eq!(reports[&a].reactions, [2, 0, 0, 0, 0]);
        assert_eq!(reports[&a].crowd, [0, 0, 0, 0, 1]);
        assert_eq!(reports[&b].reactions, [0, 0, 1, 0, 0]);
        assert!(reports.values().all(|r| r.attendees.is_none()));
        assert!(r.take().is_empty(), "the counters start again");
    }

    #[test]
    fn attendance_is_sent_when_it_changes_refreshed_and_zeroed_when_everyone_left() {
        let mut at = Attendance::default();
        let t0 = Instant::now();
        let a: Arc<str> = "a".into();
        let b: Arc<str> = "b".into();
        let sent = |mut v: Vec<(Arc<str>, u32)>| {
            v.sort();
            v.into_iter()
                .map(|(c, n)| format!("{c}={n}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            sent(at.due(vec![(a.clone(), 3), (b.clone(), 1)], t0)),
            ["a=3", "b=1"]
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            sent(at.due(vec![(a.clone(), 3), (b.clone(), 2)], t1)),
            ["b=2"]
        );
        // b's last attendee left: one last 0, then nothing.
        let t2 = t0 + Duration::from_secs(2);
        assert_eq!(sent(at.due(vec![(a.clone(), 3)], t2)), ["b=0"]);
        assert!(at.due(vec![(a.clone(), 3)], t2).is_empty());
        // Unchanged for 5 s: sent again so the actor keeps counting this node.
        assert_eq!(
            sent(at.due(vec![(a.clone(), 3)], t0 + ATTENDANCE_REFRESH)),
            ["a=3"]
        );
    }
}
