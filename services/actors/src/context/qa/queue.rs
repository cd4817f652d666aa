//! The moderated Q&A queue as a pure state machine: threads move
//! `pending → owned → resolved → done`, a moderator may send an owned thread back to
//! pending, and an attendee's new question reopens a resolved or done thread.
//!
//! The context state holds one queue and turns its events into log events. The rules
//! decided here:
//! - **Single-thread mode** (default): one thread per attendee holds all their
//!   questions; asking again reuses it (reopening it when resolved or done).
//! - **Multi-thread mode**: asking without a thread opens a new one; asking in an own
//!   thread reopens it when resolved or done.
//! - **Claims**: exactly one moderator owns a thread. Claiming a thread someone else
//!   owns is refused with [`QaRejection::AlreadyClaimed`], except for an admin, who
//!   takes it over. Only the owner (or an admin) may send back, resolve or clear.
//! - **Auto-release** (the actor decides when: the owner disconnected for too long)
//!   sends an owned thread back to pending.

use std::collections::{BTreeMap, HashMap};

/// How questions map to threads in a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QaMode {
    SingleThread,
    MultiThread,
}

impl From<i32> for QaMode {
    /// From the proto `QaMode` value (unknown values are single-thread, the default).
    fn from(value: i32) -> Self {
        if value == plenary_proto::v1::QaMode::MultiThread as i32 {
            QaMode::MultiThread
        } else {
            QaMode::SingleThread
        }
    }
}

/// Where a thread is in the queue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ThreadState {
    Pending,
    Owned { by: String },
    Resolved { by: String },
    Done,
}

/// One question thread.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QaThread {
    pub id: u64,
    pub attendee: String,
    pub state: ThreadState,
}

/// Who acts, as the queue sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moderator {
    pub user_id: String,
    /// Admins may take over and act on threads other moderators own.
    pub admin: bool,
}

/// A queue command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QaCommand {
    /// An attendee asks; `thread` is 0 for "my thread" (single) or "a new thread"
    /// (multi). `new_id` is the id a newly opened thread gets (the event's seq).
    Ask {
        attendee: String,
        thread: u64,
        new_id: u64,
    },
    Claim {
        moderator: Moderator,
        thread: u64,
    },
    /// Send back to pending.
    Release {
        moderator: Moderator,
        thread: u64,
    },
    Resolve {
        moderator: Moderator,
        thread: u64,
    },
    /// Mark a resolved thread done (it leaves the moderators' queue).
    Clear {
        moderator: Moderator,
        thread: u64,
    },
    /// The owner has been away too long (decided by the actor).
    AutoRelease {
        thread: u64,
    },
}

/// What happened to the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QaEvent {
    Opened {
        thread: u64,
        attendee: String,
    },
    Reopened {
        thread: u64,
    },
    Claimed {
        thread: u64,
        by: String,
        took_over_from: Option<String>,
    },
    /// Back to pending; `automatic` when its owner was away too long.
    Released {
        thread: u64,
        automatic: bool,
    },
    Resolved {
        thread: u64,
        by: String,
    },
    Cleared {
        thread: u64,
    },
}

/// Why a queue command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QaRejection {
    #[error("no such thread")]
    NotFound,
    #[error("already claimed by {by}")]
    AlreadyClaimed { by: String },
    #[error("only the moderator who owns the thread (or an admin) may do this")]
    NotOwner,
    #[error("the thread is {0}, which does not allow this")]
    WrongState(&'static str),
}

fn state_name(state: &ThreadState) -> &'static str {
    match state {
        ThreadState::Pending => "pending",
        ThreadState::Owned { .. } => "owned",
        ThreadState::Resolved { .. } => "resolved",
        ThreadState::Done => "done",
    }
}

/// The queue of one context.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QaQueue {
    threads: BTreeMap<u64, QaThread>,
    by_attendee: HashMap<String, Vec<u64>>,
}

impl QaQueue {
    pub fn thread(&self, id: u64) -> Option<&QaThread> {
        self.threads.get(&id)
    }

    /// Every thread, oldest first.
    pub fn threads(&self) -> impl Iterator<Item = &QaThread> {
        self.threads.values()
    }

    /// An attendee's threads, oldest first.
    pub fn threads_of<'a>(&'a self, attendee: &str) -> impl Iterator<Item = &'a QaThread> + 'a {
        self.by_attendee
            .get(attendee)
            .into_iter()
            .flatten()
            .filter_map(|id| self.threads.get(id))
    }

    /// How many threads are in each state: (pending, owned, resolved, done).
    pub fn counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for t in self.threads.values() {
            counts[match t.state {
                ThreadState::Pending => 0,
                ThreadState::Owned { .. } => 1,
                ThreadState::Resolved { .. } => 2,
                ThreadState::Done => 3,
            }] += 1;
        }
        counts
    }

    fn require(&self, id: u64) -> Result<&QaThread, QaRejection> {
        self.threads.get(&id).ok_or(QaRejection::NotFound)
    }

    fn owner_or_admin(moderator: &Moderator, by: &str) -> Result<(), QaRejection> {
        if moderator.admin || moderator.user_id == by {
            Ok(())
        } else {
            Err(QaRejection::NotOwner)
        }
    }

    /// Decides what a command does: events to apply, none when nothing changes.
    pub fn decide(&self, mode: QaMode, command: &QaCommand) -> Result<Vec<QaEvent>, QaRejection> {
        match command {
            QaCommand::Ask {
                attendee,
                thread,
                new_id,
            } => {
                let existing = match (mode, *thread) {
                    (QaMode::SingleThread, _) => self.threads_of(attendee).next().map(|t| t.id),
                    (QaMode::MultiThread, 0) => None,
                    (QaMode::MultiThread, id) => {
                        let t = self.require(id)?;
                        if t.attendee != *attendee {
                            // Another attendee's thread does not exist for this one.
                            return Err(QaRejection::NotFound);
                        }
                        Some(id)
                    }
                };
                match existing {
                    None => Ok(vec![QaEvent::Opened {
                        thread: *new_id,
                        attendee: attendee.clone(),
                    }]),
                    Some(id) => match self.require(id)?.state {
                        ThreadState::Resolved { .. } | ThreadState::Done => {
                            Ok(vec![QaEvent::Reopened { thread: id }])
                        }
                        ThreadState::Pending | ThreadState::Owned { .. } => Ok(vec![]),
                    },
                }
            }
            QaCommand::Claim { moderator, thread } => match &self.require(*thread)?.state {
                ThreadState::Pending => Ok(vec![QaEvent::Claimed {
                    thread: *thread,
                    by: moderator.user_id.clone(),
                    took_over_from: None,
                }]),
                ThreadState::Owned { by } if *by == moderator.user_id => Ok(vec![]),
                ThreadState::Owned { by } if moderator.admin => Ok(vec![QaEvent::Claimed {
                    thread: *thread,
                    by: moderator.user_id.clone(),
                    took_over_from: Some(by.clone()),
                }]),
                ThreadState::Owned { by } => Err(QaRejection::AlreadyClaimed { by: by.clone() }),
                other => Err(QaRejection::WrongState(state_name(other))),
            },
            QaCommand::Release { moderator, thread } => match &self.require(*thread)?.state {
                ThreadState::Owned { by } => {
                    Self::owner_or_admin(moderator, by)?;
                    Ok(vec![QaEvent::Released {
                        thread: *thread,
                        automatic: false,
                    }])
                }
                other => Err(QaRejection::WrongState(state_name(other))),
            },
            QaCommand::Resolve { moderator, thread } => match &self.require(*thread)?.state {
                ThreadState::Owned { by } => {
                    Self::owner_or_admin(moderator, by)?;
                    Ok(vec![QaEvent::Resolved {
                        thread: *thread,
                        by: moderator.user_id.clone(),
                    }])
                }
                other => Err(QaRejection::WrongState(state_name(other))),
            },
            QaCommand::Clear { moderator, thread } => match &self.require(*thread)?.state {
                ThreadState::Resolved { by } => {
                    Self::owner_or_admin(moderator, by)?;
                    Ok(vec![QaEvent::Cleared { thread: *thread }])
                }
                other => Err(QaRejection::WrongState(state_name(other))),
            },
            QaCommand::AutoRelease { thread } => match &self.require(*thread)?.state {
                ThreadState::Owned { .. } => Ok(vec![QaEvent::Released {
                    thread: *thread,
                    automatic: true,
                }]),
                _ => Ok(vec![]),
            },
        }
    }

    /// Folds one event into the queue.
    pub fn apply(&mut self, event: &QaEvent) {
        let set = |queue: &mut QaQueue, id: u64, state: ThreadState| {
            if let Some(t) = queue.threads.get_mut(&id) {
                t.state = state;
            }
        };
        match event {
            QaEvent::Opened { thread, attendee } => {
                self.threads.insert(
                    *thread,
                    QaThread {
                        id: *thread,
                        attendee: attendee.clone(),
                        state: ThreadState::Pending,
                    },
                );
                self.by_attendee
                    .entry(attendee.clone())
                    .or_default()
                    .push(*thread);
            }
            QaEvent::Reopened { thread } | QaEvent::Released { thread, .. } => {
                set(self, *thread, ThreadState::Pending)
            }
            QaEvent::Claimed { thread, by, .. } => {
                set(self, *thread, ThreadState::Owned { by: by.clone() })
            }
            QaEvent::Resolved { thread, by } => {
                set(self, *thread, ThreadState::Resolved { by: by.clone() })
            }
            QaEvent::Cleared { thread } => set(self, *thread, ThreadState::Done),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn moderator(id: &str, admin: bool) -> Moderator {
        Moderator {
            user_id: id.into(),
            admin,
        }
    }

    fn run(
        queue: &mut QaQueue,
        mode: QaMode,
        command: QaCommand,
    ) -> Result<Vec<QaEvent>, QaRejection> {
        let events = queue.decide(mode, &command)?;
        for e in &events {
            queue.apply(e);
        }
        Ok(events)
    }

    #[test]
    fn full_life_cycle_single_thread() {
        let mut q = QaQueue::default();
        let mode = QaMode::SingleThread;
        let (m1, m2) = (moderator("m1", false), moderator("m2", false));
        run(
            &mut q,
            mode,
            QaCommand::Ask {
                attendee: "a".into(),
                thread: 0,
                new_id: 10,
            },
        )
        .unwrap();
        // A second question goes to the same thread.
        assert_eq!(
            run(
                &mut q,
                mode,
                QaCommand::Ask {
                    attendee: "a".into(),
                    thread: 0,
                    new_id: 11
                }
            ),
            Ok(vec![])
        );
        run(
            &mut q,
            mode,
            QaCommand::Claim {
                moderator: m1.clone(),
                thread: 10,
            },
        )
        .unwrap();
        assert_eq!(
            run(
                &mut q,
                mode,
                QaCommand::Claim {
                    moderator: m2.clone(),
                    thread: 10
                }
            ),
            Err(QaRejection::AlreadyClaimed { by: "m1".into() })
        );
        assert_eq!(
            run(
                &mut q,
                mode,
                QaCommand::Resolve {
                    moderator: m2.clone(),
                    thread: 10
                }
            ),
            Err(QaRejection::NotOwner)
        );
        run(
            &mut q,
            mode,
            QaCommand::Release {
                moderator: m1.clone(),
                thread: 10,
            },
        )
        .unwrap();
        run(
            &mut q,
            mode,
            QaCommand::Claim {
                moderator: m2.clone(),
                thread: 10,
            },
        )
        .unwrap();
        run(
            &mut q,
            mode,
            QaCommand::Resolve {
                moderator: m2.clone(),
                thread: 10,
            },
        )
        .unwrap();
        run(
            &mut q,
            mode,
            QaCommand::Clear {
                moderator: m2.clone(),
                thread: 10,
            },
        )
        .unwrap();
        assert_eq!(q.thread(10).unwrap().state, ThreadState::Done);
        assert_eq!(q.counts(), [0, 0, 0, 1]);
        // Asking again reopens the attendee's one thread.
        run(
            &mut q,
            mode,
            QaCommand::Ask {
                attendee: "a".into(),
                thread: 0,
                new_id: 12,
            },
        )
        .unwrap();
        assert_eq!(q.thread(10).unwrap().state, ThreadState::Pending);
        assert_eq!(q.threads().count(), 1);
        assert_eq!(q.counts(), [1, 0, 0, 0]);
    }

    #[test]
    fn multi_thread_and_admin_takeover() {
        let mut q = QaQueue::default();
        let mode = QaMode::MultiThread;
        run(
            &mut q,
            mode,
            QaCommand::Ask {
                attendee: "a".into(),
                thread: 0,
                new_id: 1,
            },
        )
        .unwrap();
        run(
            &mut q,
            mode,
            QaCommand::Ask {
                attendee: "a".into(),
                thread: 0,
                new_id: 2,
            },
        )
        .unwrap();
        assert_eq!(q.threads_of("a").count(), 2);
        // Nobody may ask in another attendee's thread.
        assert_eq!(
            run(
                &mut q,
                mode,
                QaCommand::Ask {
                    attendee: "b".into(),
                    thread: 1,
                    new_id: 3
                }
            ),
            Err(QaRejection::NotFound)
        );
        run(
            &mut q,
            mode,
            QaCommand::Claim {
                moderator: moderator("m1", false),
                thread: 1,
            },
        )
        .unwrap();
        let events = run(
            &mut q,
            mode,
            QaCommand::Claim {
                moderator: moderator("boss", true),
                thread: 1,
            },
        )
        .unwrap();
        assert_eq!(
            events,
            vec![QaEvent::Claimed {
                thread: 1,
                by: "boss".into(),
                took_over_from: Some("m1".into())
            }]
        );
        run(&mut q, mode, QaCommand::AutoRelease { thread: 1 }).unwrap();
        assert_eq!(q.thread(1).unwrap().state, ThreadState::Pending);
    }

    fn legal(before: &Option<ThreadState>, after: &ThreadState) -> bool {
        use ThreadState::*;
        match (before, after) {
            (None, Pending) => true,
            (Some(b), a) if b == a => true,
            (Some(Pending), Owned { .. }) => true,
            (Some(Owned { .. }), Pending | Owned { .. } | Resolved { .. }) => true,
            (Some(Resolved { .. }), Done | Pending) => true,
            (Some(Done), Pending) => true,
            _ => false,
        }
    }

    fn command() -> impl Strategy<Value = QaCommand> {
        let attendee = prop::sample::select(vec!["a1", "a2", "a3"]).prop_map(String::from);
        let moderator = (
            prop::sample::select(vec!["m1", "m2", "m3"]),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(id, admin)| Moderator {
                user_id: id.into(),
                admin,
            });
        let thread = 0u64..8;
        prop_oneof![
            (attendee, thread.clone()).prop_map(|(attendee, thread)| QaCommand::Ask {
                attendee,
                thread,
                new_id: 0
            }),
            (moderator.clone(), thread.clone())
                .prop_map(|(moderator, thread)| QaCommand::Claim { moderator, thread }),
            (moderator.clone(), thread.clone())
                .prop_map(|(moderator, thread)| QaCommand::Release { moderator, thread }),
            (moderator.clone(), thread.clone())
                .prop_map(|(moderator, thread)| QaCommand::Resolve { moderator, thread }),
            (moderator, thread.clone())
                .prop_map(|(moderator, thread)| QaCommand::Clear { moderator, thread }),
            thread.prop_map(|thread| QaCommand::AutoRelease { thread }),
        ]
    }

    proptest! {
        /// Random command sequences never break the invariants: only legal
        /// transitions happen, claims are exclusive, and single mode keeps one thread
        /// per attendee. Commands name a thread that exists most of the time (the
        /// generated number picks one of them), so claims, releases, resolutions and
        /// clears really run.
        #[test]
        fn random_commands_keep_the_invariants(
            multi in any::<bool>(),
            commands in prop::collection::vec(command(), 1..200),
        ) {
            let mode = if multi { QaMode::MultiThread } else { QaMode::SingleThread };
            let mut q = QaQueue::default();
            for (i, mut cmd) in commands.into_iter().enumerate() {
                if let QaCommand::Ask { new_id, .. } = &mut cmd {
                    *new_id = i as u64 + 1;
                }
                let ids: Vec<u64> = q.threads().map(|t| t.id).collect();
                let (QaCommand::Ask { thread, .. }
                | QaCommand::Claim { thread, .. }
                | QaCommand::Release { thread, .. }
                | QaCommand::Resolve { thread, .. }
                | QaCommand::Clear { thread, .. }
                | QaCommand::AutoRelease { thread }) = &mut cmd;
                // 0 stays 0 (an ask's "my or a new thread"); 7 stays 7, often missing.
                if *thread != 0 && *thread != 7 && !ids.is_empty() {
                    *thread = ids[*thread as usize % ids.len()];
                }
                let before: HashMap<u64, ThreadState> = q.threads().map(|t| (t.id, t.state.clone())).collect();
                let claim_by = match &cmd {
                    QaCommand::Claim { moderator, thread } => Some((moderator.clone(), *thread)),
                    _ => None,
                };
                let result = run(&mut q, mode, cmd);
                // Claims are exclusive: a non-admin never takes an owned thread.
                if let Some((m, thread)) = &claim_by
                    && let Some(ThreadState::Owned { by }) = before.get(thread)
                    && !m.admin
                    && by != &m.user_id
                {
                    prop_assert_eq!(result.clone(), Err(QaRejection::AlreadyClaimed { by: by.clone() }));
                    prop_assert_eq!(&q.thread(*thread).unwrap().state, &ThreadState::Owned { by: by.clone() });
                }
                for t in q.threads() {
                    prop_assert!(legal(&before.get(&t.id).cloned(), &t.state), "{:?} -> {:?}", before.get(&t.id), t.state);
                }
                if mode == QaMode::SingleThread {
                    for attendee in ["a1", "a2", "a3"] {
                        prop_assert!(q.threads_of(attendee).count() <= 1);
                    }
                }
            }
        }
    }
}
