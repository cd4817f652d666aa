//! The moderators' backchannel: chat messages in an area only moderators see (the
//! visibility rule is `view::audience_of_area`). Its messages are stored and shown as
//! any chat message (`chat`); these are the rules in which it differs.

use plenary_proto::v1::events::Actor;

use super::{chat::MessageRecord, command::Rejection};

/// A post to the backchannel: moderators only, and never in a Q&A thread.
pub(super) fn check_post(actor: &Actor, thread_id: u64) -> Result<(), Rejection> {
    if !actor.moderator {
        return Err(Rejection::Forbidden);
    }
    if thread_id != 0 {
        return Err(Rejection::BadRequest(
            "a message goes to the backchannel or to a Q&A thread, not both".into(),
        ));
    }
    Ok(())
}

/// Whether a moderator may delete someone else's `message`: yes, except in the
/// backchannel, where everyone deletes only their own.
pub(super) fn may_delete_others(message: &MessageRecord) -> bool {
    !message.backchannel
}

/// A backchannel message cannot be pinned to the feed everyone sees.
pub(super) fn check_pin(message: &MessageRecord) -> Result<(), Rejection> {
    if message.backchannel {
        return Err(Rejection::BadRequest(
            "backchannel messages cannot be pinned to the feed".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(moderator: bool) -> Actor {
        Actor {
            user_id: "u".into(),
            moderator,
            ..Default::default()
        }
    }

    #[test]
    fn only_moderators_post_and_never_in_a_thread() {
        assert_eq!(check_post(&actor(false), 0), Err(Rejection::Forbidden));
        assert_eq!(check_post(&actor(false), 7), Err(Rejection::Forbidden));
        assert!(matches!(
            check_post(&actor(true), 7),
            Err(Rejection::BadRequest(_))
        ));
        assert_eq!(check_post(&actor(true), 0), Ok(()));
    }
}
