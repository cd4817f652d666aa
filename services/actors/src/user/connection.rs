//! The connection between two users (private chat), as a pure state machine.
//!
//! A connection belongs to an unordered pair of users; the conversation actor
//! ([`super::pair`]) runs it. Rules:
//! - A **request** from A to B makes the pair `Requested { by: A }`; B accepts or
//!   ignores. A request from B while A's is pending accepts it (they both want it).
//! - **Ignore** is silent: the requester still sees a pending request, and asking again
//!   changes nothing (no notification spam). The one who ignored may still accept later,
//!   or request themselves, which connects the pair.
//! - **Remove** by either side ends an accepted connection; the requester may also
//!   withdraw a pending (or silently ignored) request. After that either may request
//!   again.
//! - Nobody may request a user whose private chat is disabled; messages need an
//!   accepted connection and private chat enabled on both sides.

/// Where a pair stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PairState {
    #[default]
    None,
    Requested {
        by: String,
    },
    Accepted,
    /// `by` ignored `requester`'s request; the requester is not told.
    Ignored {
        by: String,
        requester: String,
    },
}

/// A command on a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionCommand {
    Request {
        from: String,
        to: String,
        to_allows_private_chat: bool,
    },
    Accept {
        by: String,
    },
    Ignore {
        by: String,
    },
    Remove {
        by: String,
    },
}

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionEvent {
    Requested { by: String },
    Accepted { by: String },
    Ignored { by: String },
    Removed { by: String },
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionRejection {
    #[error("you cannot connect with yourself")]
    SelfConnection,
    #[error("this user does not accept private chat")]
    PrivateChatDisabled,
    #[error("there is no request to answer")]
    NoRequest,
    #[error("not connected")]
    NotConnected,
    #[error("not part of this connection")]
    NotAParty,
}

/// One pair of users and their connection.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub state: PairState,
}

impl Pair {
    /// A pair of two distinct users, in a canonical order.
    pub fn new(x: &str, y: &str) -> Result<Self, ConnectionRejection> {
        if x == y {
            return Err(ConnectionRejection::SelfConnection);
        }
        let (a, b) = if x < y { (x, y) } else { (y, x) };
        Ok(Pair {
            a: a.to_owned(),
            b: b.to_owned(),
            state: PairState::None,
        })
    }

    fn is_party(&self, user: &str) -> bool {
        self.a == user || self.b == user
    }

    /// Whether the two may exchange messages (given both allow private chat).
    pub fn may_message(&self, a_allows: bool, b_allows: bool) -> bool {
        self.state == PairState::Accepted && a_allows && b_allows
    }

    /// Decides a command: events to apply (none when nothing changes).
    pub fn decide(
        &self,
        command: &ConnectionCommand,
    ) -> Result<Vec<ConnectionEvent>, ConnectionRejection> {
        let party = |user: &str| {
            if self.is_party(user) {
                Ok(())
            } else {
                Err(ConnectionRejection::NotAParty)
            }
        };
        match command {
            ConnectionCommand::Request {
                from,
                to,
                to_allows_private_chat,
            } => {
                if from == to {
                    return Err(ConnectionRejection::SelfConnection);
                }
                party(from)?;
                party(to)?;
                if !to_allows_private_chat {
                    return Err(ConnectionRejection::PrivateChatDisabled);
                }
                Ok(match &self.state {
                    PairState::None => vec![ConnectionEvent::Requested { by: from.clone() }],
                    PairState::Requested { by } if by == from => vec![],
                    // Both want it: the second request accepts the first.
                    PairState::Requested { .. } => {
                        vec![ConnectionEvent::Accepted { by: from.clone() }]
                    }
                    PairState::Accepted => vec![],
                    // Silent: the ignored requester asking again changes nothing.
                    PairState::Ignored { requester, .. } if requester == from => vec![],
                    // The one who ignored now asks: that connects them.
                    PairState::Ignored { .. } => {
                        vec![ConnectionEvent::Accepted { by: from.clone() }]
                    }
                })
            }
            ConnectionCommand::Accept { by } => {
                party(by)?;
                match &self.state {
                    PairState::Requested { by: requester } if requester != by => {
                        Ok(vec![ConnectionEvent::Accepted { by: by.clone() }])
                    }
                    PairState::Ignored { by: ignorer, .. } if ignorer == by => {
                        Ok(vec![ConnectionEvent::Accepted { by: by.clone() }])
                    }
                    PairState::Accepted => Ok(vec![]),
                    _ => Err(ConnectionRejection::NoRequest),
                }
            }
            ConnectionCommand::Ignore { by } => {
                party(by)?;
                match &self.state {
                    PairState::Requested { by: requester } if requester != by => {
                        Ok(vec![ConnectionEvent::Ignored { by: by.clone() }])
                    }
                    PairState::Ignored { by: ignorer, .. } if ignorer == by => Ok(vec![]),
                    _ => Err(ConnectionRejection::NoRequest),
                }
            }
            ConnectionCommand::Remove { by } => {
                party(by)?;
                match &self.state {
                    PairState::Accepted => Ok(vec![ConnectionEvent::Removed { by: by.clone() }]),
                    // Withdrawing one's own request, also an ignored one (the requester
                    // was never told it was ignored, so this must work the same).
                    PairState::Requested { by: requester }
                    | PairState::Ignored { requester, .. }
                        if requester == by =>
                    {
                        Ok(vec![ConnectionEvent::Removed { by: by.clone() }])
                    }
                    _ => Err(ConnectionRejection::NotConnected),
                }
            }
        }
    }

    /// Folds one event into the pair.
    pub fn apply(&mut self, event: &ConnectionEvent) {
        self.state = match event {
            ConnectionEvent::Requested { by } => PairState::Requested { by: by.clone() },
            ConnectionEvent::Accepted { .. } => PairState::Accepted,
            ConnectionEvent::Ignored { by } => PairState::Ignored {
                by: by.clone(),
                requester: if *by == self.a {
                    self.b.clone()
                } else {
                    self.a.clone()
                },
            },
            ConnectionEvent::Removed { .. } => PairState::None,
        };
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn run(
        pair: &mut Pair,
        command: ConnectionCommand,
    ) -> Result<Vec<ConnectionEvent>, ConnectionRejection> {
        let events = pair.decide(&command)?;
        for e in &events {
            pair.apply(e);
        }
        Ok(events)
    }

    fn request(from: &str, to: &str) -> ConnectionCommand {
        ConnectionCommand::Request {
            from: from.into(),
            to: to.into(),
            to_allows_private_chat: true,
        }
    }

    #[test]
    fn request_accept_chat_remove() {
        let mut p = Pair::new("nova", "constance").unwrap();
        run(&mut p, request("nova", "constance")).unwrap();
        assert!(
            !p.may_message(true, true),
            "a pending request is no connection"
        );
        assert_eq!(
            run(&mut p, ConnectionCommand::Accept { by: "nova".into() }),
            Err(ConnectionRejection::NoRequest)
        );
        run(
            &mut p,
            ConnectionCommand::Accept {
                by: "constance".into(),
            },
        )
        .unwrap();
        assert!(p.may_message(true, true));
        assert!(
            !p.may_message(true, false),
            "private chat disabled on one side stops messages"
        );
        run(
            &mut p,
            ConnectionCommand::Remove {
                by: "constance".into(),
            },
        )
        .unwrap();
        assert_eq!(p.state, PairState::None);
    }

    #[test]
    fn ignore_is_silent_and_reversible() {
        let mut p = Pair::new("a", "b").unwrap();
        run(&mut p, request("a", "b")).unwrap();
        run(&mut p, ConnectionCommand::Ignore { by: "b".into() }).unwrap();
        assert_eq!(
            run(&mut p, request("a", "b")),
            Ok(vec![]),
            "asking again does nothing"
        );
        run(&mut p, ConnectionCommand::Accept { by: "b".into() }).unwrap();
        assert_eq!(p.state, PairState::Accepted);
    }

    #[test]
    fn mutual_requests_connect_and_private_chat_can_refuse() {
        let mut p = Pair::new("a", "b").unwrap();
        assert_eq!(
            run(
                &mut p,
                ConnectionCommand::Request {
                    from: "a".into(),
                    to: "b".into(),
                    to_allows_private_chat: false
                }
            ),
            Err(ConnectionRejection::PrivateChatDisabled)
        );
        run(&mut p, request("a", "b")).unwrap();
        run(&mut p, request("b", "a")).unwrap();
        assert_eq!(p.state, PairState::Accepted);
        assert_eq!(
            Pair::new("a", "a"),
            Err(ConnectionRejection::SelfConnection)
        );
        assert_eq!(
            run(&mut p, ConnectionCommand::Remove { by: "c".into() }),
            Err(ConnectionRejection::NotAParty)
        );
    }

    fn command() -> impl Strategy<Value = ConnectionCommand> {
        let user = prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from);
        prop_oneof![
            (user.clone(), user.clone(), any::<bool>()).prop_map(|(from, to, allows)| {
                ConnectionCommand::Request {
                    from,
                    to,
                    to_allows_private_chat: allows,
                }
            }),
            user.clone().prop_map(|by| ConnectionCommand::Accept { by }),
            user.clone().prop_map(|by| ConnectionCommand::Ignore { by }),
            user.prop_map(|by| ConnectionCommand::Remove { by }),
        ]
    }

    proptest! {
        /// Whatever happens: only parties change the pair, a refused command changes
        /// nothing, nobody requests themselves, an ignored requester is never the one
        /// who ignored, and messages flow only once accepted.
        #[test]
        fn random_commands_keep_the_invariants(commands in prop::collection::vec(command(), 1..100)) {
            let mut p = Pair::new("a", "b").unwrap();
            for cmd in commands {
                let before = p.clone();
                let outsider = match &cmd {
                    ConnectionCommand::Request { from, to, .. } => from == "c" || to == "c",
                    ConnectionCommand::Accept { by } | ConnectionCommand::Ignore { by } | ConnectionCommand::Remove { by } => by == "c",
                };
                let result = run(&mut p, cmd.clone());
                if outsider {
                    prop_assert!(result.is_err());
                }
                if result.is_err() {
                    prop_assert_eq!(&p, &before, "a refused command changed the pair");
                }
                match &p.state {
                    PairState::Requested { by } => prop_assert!(by == "a" || by == "b"),
                    PairState::Ignored { by, requester } => {
                        prop_assert_ne!(by, requester);
                        prop_assert!(p.is_party(by) && p.is_party(requester));
                    }
                    PairState::None | PairState::Accepted => {}
                }
                prop_assert_eq!(p.may_message(true, true), p.state == PairState::Accepted);
            }
        }
    }
}
