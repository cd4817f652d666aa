//! Who is acting: the verified claims of a connection.

use std::collections::HashSet;

use plenary_proto::v1::{Author, events::Actor};

/// A user's role in one context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Attendee,
    Moderator,
}

/// A verified user, from the JWT claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// Context ids this user moderates.
    pub moderates: HashSet<String>,
    /// Moderates every context.
    pub admin: bool,
}

impl Identity {
    /// The user's role in a context.
    pub fn role_in(&self, context_id: &str) -> Role {
        if self.admin || self.moderates.contains(context_id) {
            Role::Moderator
        } else {
            Role::Attendee
        }
    }

    /// The actor recorded on events this user causes in a context.
    pub fn actor_in(&self, context_id: &str) -> Actor {
        Actor {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            moderator: self.role_in(context_id) == Role::Moderator,
        }
    }
}

/// How an event's actor is shown to clients: never with the email.
pub(crate) fn author_of(actor: &Actor) -> Author {
    Author {
        user_id: actor.user_id.clone(),
        given_name: actor.given_name.clone(),
        family_name: actor.family_name.clone(),
        moderator: actor.moderator,
        as_context: false,
    }
}
