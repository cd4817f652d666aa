//! A client frame's command as the session routes it: converted once, with a typed
//! error, into what the session does itself or the actor command it sends.

use plenary_actors::{
    ChatCommand, Rejection,
    context::{
        InteractionAction,
        command::ThreadAction,
        interactions::{Ballot, Spec},
        reactions,
    },
    user::{ConnectionAction, PairCommand, SettingsPatch},
};
use plenary_proto::v1::{
    ConnectionActionKind, InteractionActionKind, Position, ThreadActionKind, client_frame::Command,
};

/// Longest user id accepted in private chat commands.
const MAX_USER_ID_BYTES: usize = 128;
/// Default and largest number of people in one search answer.
const PEOPLE_DEFAULT: usize = 20;
const PEOPLE_MAX: usize = 50;
/// Messages in a history page (group chat or private) when the client names no limit.
const HISTORY_DEFAULT: usize = 50;

/// What a command asks of the session.
#[derive(Debug, PartialEq)]
pub(super) enum SessionCommand {
    /// A second `connect`: refused.
    Connect,
    /// A fresh token for the open connection.
    Refresh {
        token: String,
    },
    Ping,
    Join {
        context_id: String,
        since: Option<Position>,
    },
    PrivateOpen {
        since: Option<Position>,
    },
    Leave {
        context_id: String,
    },
    /// For the actor of a joined context.
    Chat {
        context_id: String,
        command: ChatCommand,
    },
    /// A page of a joined context's group chat (or backchannel).
    History {
        context_id: String,
        before_id: u64,
        limit: usize,
        backchannel: bool,
        thread_id: u64,
    },
    /// For the user's private chat.
    Private(PrivateCommand),
    /// A reaction (`reaction` 0 to 4) to a joined context, counted on this node.
    React {
        context_id: String,
        reaction: usize,
        crowd: bool,
    },
}

/// A private chat command other than opening the stream.
#[derive(Debug, PartialEq)]
pub(super) enum PrivateCommand {
    /// On the conversation with `peer`.
    Pair {
        peer: String,
        command: PairCommand,
    },
    History {
        peer: String,
        before_id: u64,
        limit: usize,
    },
    Settings(SettingsPatch),
    People {
        query: String,
        limit: usize,
    },
}

/// Why a command cannot be converted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum CommandError {
    /// A missing action must not default to anything, least of all a claim.
    #[error("missing or unknown thread action")]
    ThreadAction,
    #[error("missing or unknown connection action")]
    ConnectionAction,
    #[error("missing or unknown interaction action")]
    InteractionAction,
    #[error("missing or unknown reaction: 1 to 5 (CLAP, HEART, LAUGH, THUMBS_UP, WOW)")]
    Reaction,
    #[error("{0}")]
    Spec(String),
}

impl TryFrom<Command> for SessionCommand {
    type Error = CommandError;

    fn try_from(command: Command) -> Result<Self, CommandError> {
        let chat = |context_id: String, command: ChatCommand| SessionCommand::Chat {
            context_id,
            command,
        };
        let pair = |peer: String, command: PairCommand| {
            SessionCommand::Private(PrivateCommand::Pair { peer, command })
        };
        Ok(match command {
            Command::Connect(_) => SessionCommand::Connect,
            Command::Refresh(c) => SessionCommand::Refresh { token: c.token },
            Command::Ping(_) => SessionCommand::Ping,
            Command::Join(c) => SessionCommand::Join {
                context_id: c.context_id,
                since: c.since,
            },
            Command::PrivateOpen(c) => SessionCommand::PrivateOpen { since: c.since },
            Command::Leave(c) => SessionCommand::Leave {
                context_id: c.context_id,
            },
            Command::Send(c) => chat(
                c.context_id,
                ChatCommand::Send {
                    text: c.text,
                    client_msg_id: c.client_msg_id,
                    reply_to: c.reply_to,
                    backchannel: c.backchannel,
                    thread_id: c.thread_id,
                },
            ),
            Command::PublishQa(c) => chat(
                c.context_id,
                ChatCommand::PublishQa {
                    thread_id: c.thread_id,
                    question_id: c.question_id,
                    answer_id: c.answer_id,
                },
            ),
            Command::Unpublish(c) => {
                chat(c.context_id, ChatCommand::Unpublish { item_id: c.item_id })
            }
            Command::Ask(c) => chat(
                c.context_id,
                ChatCommand::Ask {
                    text: c.text,
                    client_msg_id: c.client_msg_id,
                    thread_id: c.thread_id,
                },
            ),
            Command::ThreadAction(c) => chat(
                c.context_id,
                ChatCommand::Thread {
                    thread_id: c.thread_id,
                    action: thread_action(c.action)?,
                },
            ),
            Command::PostUpdate(c) => chat(
                c.context_id,
                ChatCommand::PostUpdate {
                    title: c.title,
                    text: c.text,
                    toast: c.toast,
                },
            ),
            Command::Like(c) => chat(
                c.context_id,
                ChatCommand::Like {
                    message_id: c.message_id,
                },
            ),
            Command::Unlike(c) => chat(
                c.context_id,
                ChatCommand::Unlike {
                    message_id: c.message_id,
                },
            ),
            Command::Delete(c) => chat(
                c.context_id,
                ChatCommand::Delete {
                    message_id: c.message_id,
                },
            ),
            Command::Pin(c) => chat(
                c.context_id,
                ChatCommand::Pin {
                    message_id: c.message_id,
                },
            ),
            Command::Unpin(c) => chat(
                c.context_id,
                ChatCommand::Unpin {
                    message_id: c.message_id,
                },
            ),
            Command::Block(c) => chat(c.context_id, ChatCommand::Block { user_id: c.user_id }),
            Command::Unblock(c) => chat(c.context_id, ChatCommand::Unblock { user_id: c.user_id }),
            Command::Connection(c) => pair(
                c.user_id,
                PairCommand::Connection(connection_action(c.action)?),
            ),
            Command::DmSend(c) => pair(
                c.user_id,
                PairCommand::Send {
                    text: c.text,
                    client_msg_id: c.client_msg_id,
                },
            ),
            Command::DmDelete(c) => pair(
                c.user_id,
                PairCommand::Delete {
                    message_id: c.message_id,
                },
            ),
            Command::DmRead(c) => pair(
                c.user_id,
                PairCommand::Read {
                    message_id: c.message_id,
                },
            ),
            Command::DmHistory(c) => SessionCommand::Private(PrivateCommand::History {
                peer: c.user_id,
                before_id: c.before_id,
                limit: match c.limit {
                    0 => HISTORY_DEFAULT,
                    n => n as usize,
                },
            }),
            Command::Settings(c) => {
                SessionCommand::Private(PrivateCommand::Settings(SettingsPatch {
                    toast: c.toast,
                    private_chat: c.private_chat,
                    show_last_name: c.show_last_name,
                }))
            }
            Command::SaveInteraction(c) => chat(
                c.context_id,
                ChatCommand::SaveInteraction {
                    client_save_id: c.client_save_id,
                    interaction_id: c.interaction_id,
                    spec: Spec::from_wire(&c.spec.unwrap_or_default())
                        .map_err(|e| CommandError::Spec(e.to_string()))?,
                },
            ),
            Command::InteractionAction(c) => chat(
                c.context_id,
                ChatCommand::Interaction {
                    interaction_id: c.interaction_id,
                    action: interaction_action(c.action)?,
                },
            ),
            Command::Vote(c) => chat(
                c.context_id,
                ChatCommand::Vote {
                    interaction_id: c.interaction_id,
                    client_vote_id: c.client_vote_id,
                    answer: Ballot {
                        options: c.options,
                        rating: c.rating,
                        text: c.text,
                        survey: c.survey.iter().map(plenary_proto::recode).collect(),
                    },
                },
            ),
            Command::React(c) => SessionCommand::React {
                context_id: c.context_id,
                reaction: reactions::index_of(c.reaction).ok_or(CommandError::Reaction)?,
                crowd: c.crowd,
            },
            Command::History(c) if c.backchannel && c.thread_id != 0 => {
                return Err(CommandError::Spec(
                    "history of the backchannel or of a thread, not both".into(),
                ));
            }
            Command::History(c) => SessionCommand::History {
                context_id: c.context_id,
                thread_id: c.thread_id,
                before_id: c.before_id,
                limit: match c.limit {
                    0 => HISTORY_DEFAULT,
                    n => n as usize,
                },
                backchannel: c.backchannel,
            },
            Command::People(c) => SessionCommand::Private(PrivateCommand::People {
                query: c.query,
                limit: match c.limit {
                    0 => PEOPLE_DEFAULT,
                    n => (n as usize).min(PEOPLE_MAX),
                },
            }),
        })
    }
}

fn thread_action(kind: i32) -> Result<ThreadAction, CommandError> {
    match ThreadActionKind::try_from(kind) {
        Ok(ThreadActionKind::Claim) => Ok(ThreadAction::Claim),
        Ok(ThreadActionKind::Release) => Ok(ThreadAction::Release),
        Ok(ThreadActionKind::Resolve) => Ok(ThreadAction::Resolve),
        Ok(ThreadActionKind::Clear) => Ok(ThreadAction::Clear),
        Ok(ThreadActionKind::Unspecified) | Err(_) => Err(CommandError::ThreadAction),
    }
}

fn interaction_action(kind: i32) -> Result<InteractionAction, CommandError> {
    use InteractionActionKind as K;
    Ok(match K::try_from(kind) {
        Ok(K::Publish) => InteractionAction::Publish,
        Ok(K::ShowResults) => InteractionAction::ShowResults,
        Ok(K::HideResults) => InteractionAction::HideResults,
        Ok(K::End) => InteractionAction::End,
        Ok(K::Unpublish) => InteractionAction::Unpublish,
        Ok(K::Delete) => InteractionAction::Delete,
        Ok(K::Unspecified) | Err(_) => return Err(CommandError::InteractionAction),
    })
}

fn connection_action(kind: i32) -> Result<ConnectionAction, CommandError> {
    match ConnectionActionKind::try_from(kind) {
        Ok(ConnectionActionKind::Request) => Ok(ConnectionAction::Request),
        Ok(ConnectionActionKind::Accept) => Ok(ConnectionAction::Accept),
        Ok(ConnectionActionKind::Ignore) => Ok(ConnectionAction::Ignore),
        Ok(ConnectionActionKind::Remove) => Ok(ConnectionAction::Remove),
        Ok(ConnectionActionKind::Unspecified) | Err(_) => Err(CommandError::ConnectionAction),
    }
}

/// The command's name in metrics.
pub(super) fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Connect(_) => "connect",
        Command::Refresh(_) => "refresh",
        Command::Join(_) => "join",
        Command::Leave(_) => "leave",
        Command::Send(_) => "send",
        Command::Like(_) => "like",
        Command::Unlike(_) => "unlike",
        Command::Delete(_) => "delete",
        Command::Pin(_) => "pin",
        Command::Unpin(_) => "unpin",
        Command::Block(_) => "block",
        Command::Unblock(_) => "unblock",
        Command::Ping(_) => "ping",
        Command::PostUpdate(_) => "post_update",
        Command::Ask(_) => "ask",
        Command::ThreadAction(_) => "thread_action",
        Command::PublishQa(_) => "publish_qa",
        Command::Unpublish(_) => "unpublish",
        Command::PrivateOpen(_) => "private_open",
        Command::Connection(_) => "connection",
        Command::DmSend(_) => "dm_send",
        Command::DmDelete(_) => "dm_delete",
        Command::DmRead(_) => "dm_read",
        Command::DmHistory(_) => "dm_history",
        Command::Settings(_) => "settings",
        Command::People(_) => "people",
        Command::SaveInteraction(_) => "save_interaction",
        Command::InteractionAction(_) => "interaction_action",
        Command::Vote(_) => "vote",
        Command::React(_) => "react",
        Command::History(_) => "history",
    }
}

/// Checks the other user named in a private chat command.
pub(super) fn check_peer(me: &str, peer: &str) -> Result<(), Rejection> {
    if peer.is_empty() || peer.len() > MAX_USER_ID_BYTES || peer.chars().any(char::is_control) {
        return Err(Rejection::BadRequest(format!(
            "user_id must be 1 to {MAX_USER_ID_BYTES} bytes without control characters"
        )));
    }
    if peer == me {
        return Err(Rejection::BadRequest(
            "that is you: pick another user".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use plenary_proto::v1::{
        ConnectionAction as ConnectionFrame, DirectHistory, FindPeople, SendMessage,
        ThreadAction as ThreadActionFrame,
    };

    use super::*;

    #[test]
    fn chat_commands_keep_their_context_and_fields() {
        let send = Command::Send(SendMessage {
            context_id: "c1".into(),
            text: "hello".into(),
            client_msg_id: "m1".into(),
            reply_to: 7,
            backchannel: true,
            thread_id: 3,
        });
        assert_eq!(
            SessionCommand::try_from(send),
            Ok(SessionCommand::Chat {
                context_id: "c1".into(),
                command: ChatCommand::Send {
                    text: "hello".into(),
                    client_msg_id: "m1".into(),
                    reply_to: 7,
                    backchannel: true,
                    thread_id: 3,
                },
            })
        );
    }

    #[test]
    fn a_missing_or_unknown_action_is_refused_not_defaulted() {
        let thread = |action| {
            SessionCommand::try_from(Command::ThreadAction(ThreadActionFrame {
                context_id: "c1".into(),
                thread_id: 1,
                action,
            }))
        };
        assert_eq!(thread(0), Err(CommandError::ThreadAction));
        assert_eq!(thread(99), Err(CommandError::ThreadAction));
        assert!(matches!(
            thread(ThreadActionKind::Claim as i32),
            Ok(SessionCommand::Chat {
                command: ChatCommand::Thread {
                    action: ThreadAction::Claim,
                    ..
                },
                ..
            })
        ));
        let connection = |action| {
            SessionCommand::try_from(Command::Connection(ConnectionFrame {
                user_id: "u2".into(),
                action,
            }))
        };
        assert_eq!(connection(0), Err(CommandError::ConnectionAction));
        assert_eq!(
            connection(ConnectionActionKind::Accept as i32),
            Ok(SessionCommand::Private(PrivateCommand::Pair {
                peer: "u2".into(),
                command: PairCommand::Connection(ConnectionAction::Accept),
            }))
        );
    }

    #[test]
    fn a_reaction_is_one_of_the_five() {
        let react = |reaction| {
            SessionCommand::try_from(Command::React(plenary_proto::v1::React {
                context_id: "c1".into(),
                reaction,
                crowd: true,
            }))
        };
        assert_eq!(react(0), Err(CommandError::Reaction));
        assert_eq!(react(6), Err(CommandError::Reaction));
        assert_eq!(
            react(plenary_proto::v1::Reaction::Wow as i32),
            Ok(SessionCommand::React {
                context_id: "c1".into(),
                reaction: 4,
                crowd: true,
            })
        );
    }

    #[test]
    fn page_sizes_default_and_people_are_capped() {
        let people = |limit| {
            SessionCommand::try_from(Command::People(FindPeople {
                query: "no".into(),
                limit,
            }))
        };
        let people_limit = |limit| match people(limit) {
            Ok(SessionCommand::Private(PrivateCommand::People { limit, .. })) => limit,
            other => panic!("not a people search: {other:?}"),
        };
        assert_eq!(people_limit(0), PEOPLE_DEFAULT);
        assert_eq!(people_limit(5), 5);
        assert_eq!(people_limit(1_000), PEOPLE_MAX);
        let history = SessionCommand::try_from(Command::DmHistory(DirectHistory {
            user_id: "u2".into(),
            before_id: 9,
            limit: 0,
        }));
        assert_eq!(
            history,
            Ok(SessionCommand::Private(PrivateCommand::History {
                peer: "u2".into(),
                before_id: 9,
                limit: HISTORY_DEFAULT,
            }))
        );
        let chat_history = |backchannel, thread_id| {
            SessionCommand::try_from(Command::History(plenary_proto::v1::History {
                context_id: "w".into(),
                before_id: 0,
                limit: 0,
                backchannel,
                thread_id,
            }))
        };
        assert_eq!(
            chat_history(false, 7),
            Ok(SessionCommand::History {
                context_id: "w".into(),
                before_id: 0,
                limit: HISTORY_DEFAULT,
                backchannel: false,
                thread_id: 7,
            })
        );
        assert!(matches!(chat_history(true, 7), Err(CommandError::Spec(_))));
    }

    #[test]
    fn a_peer_is_someone_else_with_a_sane_id() {
        assert!(check_peer("me", "you").is_ok());
        assert!(check_peer("me", "me").is_err());
        assert!(check_peer("me", "").is_err());
        assert!(check_peer("me", "a\nb").is_err());
        assert!(check_peer("me", &"x".repeat(MAX_USER_ID_BYTES + 1)).is_err());
    }
}
