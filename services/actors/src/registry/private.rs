//! Private chat through the registry: a user's stream (`~u/<user>`) and the
//! conversation of two users (`~dm/<a>/<b>`), each one actor like a context.

use std::sync::Arc;

use plenary_proto::v1::{DirectHistoryOk, Position, PrivateOk};
use tracing::debug;

use super::{
    ContextRegistry,
    call::{Card, History, Pair, PrivateOpen, UserSettings},
};
use crate::{
    context::{CommandOutcome, Rejection},
    identity::Identity,
    user::{
        ConnectionAction, PairCommand, SettingsPatch, UserCard, inbox::display_name,
        pair_stream_id, user_stream_id,
    },
};

/// Most messages in one page of private history.
pub const MAX_HISTORY_PAGE: usize = 100;

/// Private chat.
impl ContextRegistry {
    /// Opens a user's private stream: a snapshot, or the pushes missed since a
    /// position. Records the profile the identity shows.
    pub async fn private_open(
        &self,
        identity: Arc<Identity>,
        since: Option<Position>,
    ) -> Result<PrivateOk, Rejection> {
        let stream = user_stream_id(&identity.user_id);
        self.run(&stream, PrivateOpen { identity, since }).await
    }

    /// Changes a user's settings; every device of the user gets them pushed.
    pub async fn update_settings(
        &self,
        user_id: &str,
        patch: SettingsPatch,
    ) -> Result<CommandOutcome, Rejection> {
        let renamed = patch.show_last_name.is_some();
        let outcome = self
            .run(&user_stream_id(user_id), UserSettings(patch))
            .await?;
        if renamed && outcome != (CommandOutcome::Done { seq: 0 }) {
            self.refresh_peers(user_id);
        }
        Ok(outcome)
    }

    /// The user's name changed: every conversation of theirs tells both sides, so
    /// their peers see the new name at once. In the background, one conversation at a
    /// time, and one refresh per user at a time: changes while it runs make it go
    /// round once more, however many there were.
    fn refresh_peers(&self, user_id: &str) {
        let Some(registry) = self.me.upgrade() else {
            return;
        };
        match self.refreshing.entry(user_id.to_owned()) {
            dashmap::Entry::Occupied(mut again) => {
                *again.get_mut() = true;
                return;
            }
            dashmap::Entry::Vacant(slot) => {
                slot.insert(false);
            }
        }
        let user_id = user_id.to_owned();
        tokio::spawn(async move {
            loop {
                registry.refresh_once(&user_id).await;
                // Done unless the name changed again meanwhile.
                let finished = registry.refreshing.remove_if(&user_id, |_, again| !*again);
                if finished.is_some() {
                    return;
                }
                if let Some(mut again) = registry.refreshing.get_mut(&user_id) {
                    *again = false;
                }
            }
        });
    }

    async fn refresh_once(&self, user_id: &str) {
        let Ok(card) = self.user_card(user_id, true).await else {
            return;
        };
        let identity = Identity {
            user_id: user_id.to_owned(),
            ..Identity::default()
        };
        for peer in card.statuses.keys() {
            if let Err(e) = self
                .pair_command(&identity, peer, None, PairCommand::Refresh)
                .await
            {
                debug!(error = %e, %peer, "refreshing a conversation's names failed");
            }
        }
    }

    /// A user as others see them (and, with `with_peers`, their peers' statuses).
    pub async fn user_card(&self, user_id: &str, with_peers: bool) -> Result<UserCard, Rejection> {
        let card = Card {
            with_peers,
            about: None,
        };
        self.run(&user_stream_id(user_id), card).await
    }

    /// Runs a command of `identity` on the conversation with `peer_id`. Both users'
    /// cards are read first (settings apply at once); a peer who never opened private
    /// chat is known by `peer_hint` (given and family name from a shared context) or
    /// not at all.
    pub async fn pair_command(
        &self,
        identity: &Identity,
        peer_id: &str,
        peer_hint: Option<(String, String)>,
        command: PairCommand,
    ) -> Result<CommandOutcome, Rejection> {
        let (me, peer) = tokio::join!(
            self.user_card(&identity.user_id, false),
            self.user_card(peer_id, false)
        );
        let (me_card, mut peer) = (me?, peer?);
        let mut me = me_card.party;
        if !me_card.known {
            // Not opened yet on any device: the token's names, if it has any. An empty
            // name leaves the conversation's record of it as it was.
            let named = !(identity.given_name.is_empty() && identity.family_name.is_empty());
            me.name = if named {
                display_name(
                    &identity.user_id,
                    &identity.given_name,
                    &identity.family_name,
                    true,
                )
            } else {
                String::new()
            };
        }
        if !peer.known {
            peer.party.name = match peer_hint {
                Some((given, family)) => display_name(peer_id, &given, &family, true),
                None if command == PairCommand::Connection(ConnectionAction::Request) => {
                    return Err(Rejection::NotFound("user".into()));
                }
                None => String::new(),
            };
        }
        let call = Pair {
            me,
            peer: peer.party,
            command,
        };
        self.run(&pair_stream_id(&identity.user_id, peer_id), call)
            .await
    }

    /// A page of the conversation between `viewer` and `peer_id`.
    pub async fn history(
        &self,
        viewer: &str,
        peer_id: &str,
        before_id: u64,
        limit: usize,
    ) -> Result<DirectHistoryOk, Rejection> {
        let call = History {
            viewer: viewer.to_owned(),
            before_id,
            limit: limit.clamp(1, MAX_HISTORY_PAGE),
        };
        self.run(&pair_stream_id(viewer, peer_id), call).await
    }
}
