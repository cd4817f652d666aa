//! Private chat commands other than opening the stream: commands on a conversation,
//! history, settings and people search, each checked against the user's private
//! budgets before it reaches an actor.

use std::{sync::Arc, time::Duration};

use plenary_actors::{
    Rejection,
    user::{ConnectionAction, PairCommand},
};
use plenary_proto::v1::{PeopleOk, reply::Result as ReplyResult};

use super::{
    Session, SessionState, Transport,
    command::{PrivateCommand, check_peer},
    rate_limited, refused,
};
use crate::{
    directory::find_people,
    protocol::{self, reply},
};

impl<T: Transport> Session<T> {
    pub(super) fn private_command(
        &mut self,
        state: &mut SessionState,
        id: u64,
        command: PrivateCommand,
    ) {
        let registry = self.shared.registry.clone();
        let identity = state.identity.clone();
        let limits = &self.shared.limits;
        let refuse = |state: &mut SessionState, rejection: Rejection| {
            state.ready(refused(id, &rejection));
        };
        let rate_limited = |state: &mut SessionState, wait: Duration, what: &str| {
            state.ready(rate_limited(id, wait, what));
        };
        let (peer, pair_command) = match command {
            PrivateCommand::Pair { peer, command } => (peer, command),
            PrivateCommand::History {
                peer,
                before_id,
                limit,
            } => {
                if let Err(rejection) = check_peer(&state.user, &peer) {
                    return refuse(state, rejection);
                }
                return state.call(
                    id,
                    async move {
                        registry
                            .history(&identity.user_id, &peer, before_id, limit)
                            .await
                    },
                    |id, page| reply(id, ReplyResult::DmHistory(page)),
                );
            }
            PrivateCommand::Settings(patch) => {
                return state.call(
                    id,
                    async move { registry.update_settings(&identity.user_id, patch).await },
                    protocol::outcome_reply,
                );
            }
            PrivateCommand::People { query, limit } => {
                if let Err(wait) = limits.check_search(&state.user) {
                    return rate_limited(state, wait, "people searches");
                }
                let directory = self.shared.directory.clone();
                let contexts: Vec<Arc<str>> = state.contexts().cloned().collect();
                return state.call(
                    id,
                    async move {
                        find_people(&registry, &directory, &identity, &contexts, &query, limit)
                            .await
                    },
                    |id, people| reply(id, ReplyResult::People(PeopleOk { people })),
                );
            }
        };
        // The budgets of connection requests (to a valid peer) and messages first.
        match &pair_command {
            PairCommand::Connection(ConnectionAction::Request)
                if check_peer(&state.user, &peer).is_ok() =>
            {
                if let Err(wait) = limits.check_request(&state.user) {
                    return rate_limited(state, wait, "connection requests");
                }
            }
            PairCommand::Send { .. } => {
                if let Err(wait) = limits.check_direct(&state.user) {
                    return rate_limited(state, wait, "private messages");
                }
            }
            _ => {}
        }
        if let Err(rejection) = check_peer(&state.user, &peer) {
            return refuse(state, rejection);
        }
        let directory = self.shared.directory.clone();
        let contexts: Vec<Arc<str>> = state.contexts().cloned().collect();
        state.call(
            id,
            async move {
                // A peer who never opened private chat is known by the names a shared
                // context recorded.
                let hint = if pair_command == PairCommand::Connection(ConnectionAction::Request) {
                    directory
                        .find(&contexts, &peer)
                        .await
                        .map(|m| (m.given_name, m.family_name))
                } else {
                    None
                };
                registry
                    .pair_command(&identity, &peer, hint, pair_command)
                    .await
            },
            protocol::outcome_reply,
        );
    }
}
