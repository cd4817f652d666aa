//! One user's private side — settings, profile, and what their devices were told about
//! each peer — as a pure state machine. The user actor runs it on the user's own
//! stream (`~u/<user>`), whose `(epoch, seq)` is the position clients recover from.

use std::collections::BTreeMap;

use plenary_proto::recode;
use plenary_proto::v1::{
    Peer, PeerUpdate, PrivateSnapshot, UserSettings,
    events::{PeerNotice, ProfileChanged, SettingsChanged, UserEvent, user_event::Kind},
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::pair::{Party, escape};
use crate::identity::Identity;

/// Stream ids of users start with this; context ids may not.
pub const USER_PREFIX: &str = "~u/";

/// The stream id of a user.
pub fn user_stream_id(user: &str) -> String {
    format!("{USER_PREFIX}{}", escape(user))
}

/// Settings a user has before changing any.
pub fn default_settings() -> UserSettings {
    UserSettings {
        toast: true,
        private_chat: true,
        show_last_name: true,
    }
}

/// Settings to change; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub toast: Option<bool>,
    pub private_chat: Option<bool>,
    pub show_last_name: Option<bool>,
}

/// The user's profile, from their token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub moderator: bool,
}

impl Profile {
    /// The profile an identity shows (moderator: moderates any context).
    pub fn of(identity: &Identity) -> Self {
        Profile {
            email: identity.email.clone(),
            given_name: identity.given_name.clone(),
            family_name: identity.family_name.clone(),
            moderator: identity.admin || !identity.moderates.is_empty(),
        }
    }
}

/// The name others see: the given name, plus the family name if the user shows it.
pub fn display_name(user_id: &str, given: &str, family: &str, show_last_name: bool) -> String {
    let name = match (given.trim(), family.trim()) {
        ("", "") => String::new(),
        (g, f) if show_last_name && !f.is_empty() && !g.is_empty() => format!("{g} {f}"),
        ("", f) if show_last_name => f.to_owned(),
        (g, _) => g.to_owned(),
    };
    if name.is_empty() {
        user_id.to_owned()
    } else {
        name
    }
}

/// What the user's devices know about one peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct PeerEntry {
    /// The conversation's epoch and seq this was told at.
    #[serde(default)]
    pair_epoch: u64,
    pair_seq: u64,
    peer: Peer,
    /// This stream's seq of the last change (most recent first in snapshots).
    changed_at: u64,
}

/// A user's private state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    pub user_id: String,
    pub epoch: u64,
    pub seq: u64,
    pub settings: UserSettings,
    /// `None` until the user opened private chat once.
    pub profile: Option<Profile>,
    peers: BTreeMap<String, PeerEntry>,
}

impl UserState {
    pub fn new(user_id: &str) -> Self {
        UserState {
            user_id: user_id.to_owned(),
            epoch: 0,
            seq: 0,
            settings: default_settings(),
            profile: None,
            peers: BTreeMap::new(),
        }
    }

    /// This user as a party of a conversation.
    pub fn party(&self) -> Party {
        let profile = self.profile.clone().unwrap_or_default();
        Party {
            user_id: self.user_id.clone(),
            name: display_name(
                &self.user_id,
                &profile.given_name,
                &profile.family_name,
                self.settings.show_last_name,
            ),
            email: profile.email,
            moderator: profile.moderator,
            allows_private_chat: self.settings.private_chat,
        }
    }

    /// The event recording a new profile, if it changed.
    pub fn decide_profile(&self, profile: Profile) -> Option<Kind> {
        if self.profile.as_ref() == Some(&profile) {
            return None;
        }
        Some(Kind::ProfileChanged(ProfileChanged {
            email: profile.email,
            given_name: profile.given_name,
            family_name: profile.family_name,
            moderator: profile.moderator,
        }))
    }

    /// The event recording new settings, if they change anything.
    pub fn decide_settings(&self, patch: &SettingsPatch) -> Option<Kind> {
        let next = UserSettings {
            toast: patch.toast.unwrap_or(self.settings.toast),
            private_chat: patch.private_chat.unwrap_or(self.settings.private_chat),
            show_last_name: patch.show_last_name.unwrap_or(self.settings.show_last_name),
        };
        (next != self.settings).then(|| {
            Kind::SettingsChanged(SettingsChanged {
                settings: Some(recode(&next)),
            })
        })
    }

    /// The event recording what a conversation told this user, unless the user was
    /// already told. Conversations deliver in order, and repeat themselves after a
    /// retry or a restart: a message or a removal is new when its seq is past what
    /// the user was told; a change of the peer alone (a connection change, a read
    /// marker, a new name) when it is not older and changes what the user sees —
    /// so a conversation restating where it stands never tells a requester that
    /// their request was ignored.
    pub fn decide_notice(
        &self,
        pair_epoch: u64,
        pair_seq: u64,
        update: &PeerUpdate,
    ) -> Option<Kind> {
        let peer_id = update.peer.as_ref()?.user_id.as_str();
        let fresh = match self.peers.get(peer_id) {
            None => true,
            Some(entry) if entry.pair_epoch != pair_epoch => true,
            Some(entry) if update.message.is_some() || update.removed.is_some() => {
                pair_seq > entry.pair_seq
            }
            Some(entry) => pair_seq >= entry.pair_seq && update.peer.as_ref() != Some(&entry.peer),
        };
        fresh.then(|| {
            Kind::PeerNotice(Box::new(PeerNotice {
                pair_seq,
                update: Some(recode(update)),
                pair_epoch,
            }))
        })
    }

    /// The conversation position this user was last told about `peer`, as
    /// `(epoch, seq)`; `(0, 0)` if never.
    pub fn told(&self, peer: &str) -> (u64, u64) {
        self.peers
            .get(peer)
            .map_or((0, 0), |e| (e.pair_epoch, e.pair_seq))
    }

    /// Folds one committed event into the state.
    pub fn apply(&mut self, event: &UserEvent) {
        self.seq = event.seq;
        self.epoch = event.epoch;
        match &event.kind {
            Some(Kind::SettingsChanged(s)) => {
                if let Some(settings) = &s.settings {
                    self.settings = recode(settings);
                }
            }
            Some(Kind::ProfileChanged(p)) => {
                self.profile = Some(Profile {
                    email: p.email.clone(),
                    given_name: p.given_name.clone(),
                    family_name: p.family_name.clone(),
                    moderator: p.moderator,
                });
            }
            Some(Kind::PeerNotice(n)) => {
                if let Some(peer) = n.update.as_ref().and_then(|u| u.peer.as_ref()) {
                    let peer: Peer = recode(peer);
                    self.peers.insert(
                        peer.user_id.clone(),
                        PeerEntry {
                            pair_epoch: n.pair_epoch,
                            pair_seq: n.pair_seq,
                            peer,
                            changed_at: event.seq,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// The push an event of this stream becomes, if any.
    pub fn push_body(event: &UserEvent) -> Option<Body> {
        match &event.kind {
            Some(Kind::SettingsChanged(s)) => {
                s.settings.as_ref().map(|s| Body::Settings(recode(s)))
            }
            Some(Kind::PeerNotice(n)) => n.update.as_ref().map(|u| Body::PeerUpdate(recode(u))),
            _ => None,
        }
    }

    /// Settings and every peer, most recently changed first.
    pub fn snapshot(&self) -> PrivateSnapshot {
        let mut peers: Vec<&PeerEntry> = self.peers.values().collect();
        peers.sort_by_key(|p| std::cmp::Reverse(p.changed_at));
        PrivateSnapshot {
            settings: Some(self.settings),
            peers: peers.into_iter().map(|p| p.peer.clone()).collect(),
        }
    }

    /// The status of each peer (a `PeerStatus` number), for people search.
    pub fn statuses(&self) -> BTreeMap<String, i32> {
        self.peers
            .iter()
            .map(|(id, p)| (id.clone(), p.peer.status))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use plenary_proto::v1::{DirectMessage, PeerStatus};

    use super::*;

    fn event(state: &UserState, kind: Kind) -> UserEvent {
        UserEvent {
            stream_id: user_stream_id(&state.user_id),
            epoch: 1,
            seq: state.seq + 1,
            at_ms: 0,
            actor: None,
            kind: Some(kind),
        }
    }

    fn peer(id: &str, status: PeerStatus) -> Peer {
        Peer {
            user_id: id.into(),
            name: id.into(),
            status: status as i32,
            ..Default::default()
        }
    }

    #[test]
    fn names_follow_the_show_last_name_setting() {
        assert_eq!(display_name("u", "Nova", "Jones", true), "Nova Jones");
        assert_eq!(display_name("u", "Nova", "Jones", false), "Nova");
        assert_eq!(display_name("u", "", "", true), "u");
        let mut s = UserState::new("u");
        let kind = s
            .decide_profile(Profile {
                given_name: "Nova".into(),
                family_name: "Jones".into(),
                ..Default::default()
            })
            .unwrap();
        s.apply(&event(&s, kind));
        assert_eq!(s.party().name, "Nova Jones");
        let kind = s
            .decide_settings(&SettingsPatch {
                show_last_name: Some(false),
                ..Default::default()
            })
            .unwrap();
        s.apply(&event(&s, kind));
        assert_eq!(s.party().name, "Nova");
        assert!(
            s.decide_settings(&SettingsPatch {
                show_last_name: Some(false),
                ..Default::default()
            })
            .is_none(),
            "no event when nothing changes"
        );
    }

    #[test]
    fn notices_are_taken_once_and_in_order() {
        let mut s = UserState::new("u");
        let update = |status, text: Option<&str>| PeerUpdate {
            peer: Some(peer("p", status)),
            message: text.map(|t| DirectMessage {
                text: t.into(),
                ..Default::default()
            }),
            removed: None,
        };
        let first = update(PeerStatus::RequestReceived, None);
        let kind = s.decide_notice(7, 1, &first).unwrap();
        s.apply(&event(&s, kind));
        assert!(
            s.decide_notice(7, 1, &first).is_none(),
            "a repeat is dropped"
        );
        let message = update(PeerStatus::Connected, Some("hi"));
        let kind = s.decide_notice(7, 3, &message).unwrap();
        s.apply(&event(&s, kind));
        assert_eq!(s.told("p"), (7, 3));
        assert!(s.decide_notice(7, 3, &message).is_none());
        assert!(
            s.decide_notice(7, 2, &first).is_none(),
            "an older notice is dropped"
        );
        // A restatement of where things stand that changes nothing is dropped, even
        // at a later seq (the conversation moved on with events this user may not
        // hear of).
        let same = update(PeerStatus::Connected, None);
        assert!(s.decide_notice(7, 9, &same).is_none());
        // Another epoch of the conversation (its log was rebuilt) starts over.
        assert!(s.decide_notice(8, 1, &message).is_some());
        assert_eq!(s.snapshot().peers[0].status, PeerStatus::Connected as i32);
        // A refresh at the same seq that changes the summary is taken.
        let mut renamed = update(PeerStatus::Connected, None);
        renamed.peer.as_mut().unwrap().name = "P".into();
        assert!(s.decide_notice(7, 3, &renamed).is_some());
    }
}
