//! The rule for text people see, applied where it enters (docs/PROTOCOL.md, "Text and
//! names"): display names from tokens are cleaned, texts in commands are checked.
//!
//! - **Names** (`given_name`, `family_name`, `email`): control characters, bidi
//!   controls and invisible characters are removed, white space (newlines and tabs
//!   included) becomes a plain space, and the ends are trimmed. Nothing is refused: the token is the identity
//!   provider's, and an empty name is shown as the user id (as before).
//! - **Texts** (`send`, `ask`, `dm_send`, `post_update`'s title and text): a control
//!   character other than newline and tab is refused (`BAD_REQUEST`; CRLF counts as a
//!   newline and becomes LF). Bidi embeddings, overrides and isolates are removed. A
//!   text with nothing visible left (only white space and invisible characters) is
//!   refused (`INVALID_TEXT`), as an empty text is; `post_update`'s optional title
//!   becomes empty instead. The length limit stays where it was, in the actors.

use plenary_proto::v1::{ErrorCode, client_frame::Command};

/// Why a text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error(
        "{field} contains the control character U+{code:04X}: only newline and tab are allowed"
    )]
    Control { field: &'static str, code: u32 },
    #[error("{field} has no visible character")]
    Blank { field: &'static str },
    #[error("{field} contains U+{code:04X}: ids must be plain printable text")]
    Unprintable { field: &'static str, code: u32 },
}

impl TextError {
    /// The protocol error code: a control character is a malformed command; a blank
    /// text is refused like an empty one.
    pub fn code(&self) -> ErrorCode {
        match self {
            TextError::Control { .. } | TextError::Unprintable { .. } => ErrorCode::BadRequest,
            TextError::Blank { .. } => ErrorCode::InvalidText,
        }
    }
}

/// Checks and neutralises the free texts of a command, in place. Commands without
/// free text are left alone.
pub fn check_command(command: &mut Command) -> Result<(), TextError> {
    match command {
        Command::Send(c) => {
            check_id("client_msg_id", &c.client_msg_id)?;
            check_text("text", &mut c.text)
        }
        Command::Ask(c) => {
            check_id("client_msg_id", &c.client_msg_id)?;
            check_text("text", &mut c.text)
        }
        Command::DmSend(c) => {
            check_id("client_msg_id", &c.client_msg_id)?;
            check_text("text", &mut c.text)
        }
        Command::PostUpdate(c) => {
            if !c.title.is_empty() {
                match check_text("title", &mut c.title) {
                    Err(TextError::Blank { .. }) => c.title.clear(),
                    other => other?,
                }
            }
            check_text("text", &mut c.text)
        }
        Command::SaveInteraction(c) => {
            use plenary_proto::v1::interaction_spec::Kind;
            check_id("client_save_id", &c.client_save_id)?;
            let check_all =
                |texts: &mut [String]| texts.iter_mut().try_for_each(|t| check_text("options", t));
            match c.spec.as_mut().and_then(|s| s.kind.as_mut()) {
                Some(Kind::Poll(p)) => {
                    check_text("question", &mut p.question)?;
                    check_all(&mut p.options)
                }
                Some(Kind::Quiz(q)) => {
                    check_text("question", &mut q.question)?;
                    check_all(&mut q.options)
                }
                Some(Kind::Rating(r)) => check_text("statement", &mut r.statement),
                Some(Kind::CrowdVote(v)) => check_text("statement", &mut v.statement),
                Some(Kind::OpenQuestion(o)) => check_text("question", &mut o.question),
                Some(Kind::Survey(v)) => {
                    for text in [&mut v.name, &mut v.intro, &mut v.start_label] {
                        if !text.is_empty() {
                            check_text("survey", text)?;
                        }
                    }
                    for q in &mut v.questions {
                        if !q.text.is_empty() {
                            check_text("questions", &mut q.text)?;
                        }
                        q.options
                            .iter_mut()
                            .try_for_each(|o| check_text("options", o))?;
                    }
                    Ok(())
                }
                Some(Kind::Announcement(a)) => {
                    if !a.title.is_empty() {
                        match check_text("title", &mut a.title) {
                            Err(TextError::Blank { .. }) => a.title.clear(),
                            other => other?,
                        }
                    }
                    if !a.cta_label.is_empty() {
                        check_text("cta_label", &mut a.cta_label)?;
                    }
                    check_text("text", &mut a.text)
                }
                None => Ok(()),
            }
        }
        Command::Vote(c) => {
            check_id("client_vote_id", &c.client_vote_id)?;
            if !c.text.is_empty() {
                check_text("text", &mut c.text)?;
            }
            c.survey
                .iter_mut()
                .filter(|a| !a.text.is_empty())
                .try_for_each(|a| check_text("text", &mut a.text))
        }
        _ => Ok(()),
    }
}

/// Checks an id the client chose and others see (`client_msg_id` is pushed with the
/// message to everyone): no control, bidi or invisible character, nothing to clean.
pub fn check_id(field: &'static str, id: &str) -> Result<(), TextError> {
    match id.chars().find(|&c| c.is_control() || is_invisible(c)) {
        Some(c) => Err(TextError::Unprintable {
            field,
            code: c as u32,
        }),
        None => Ok(()),
    }
}

/// Checks a text and removes its bidi embeddings, overrides and isolates.
pub fn check_text(field: &'static str, text: &mut String) -> Result<(), TextError> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\n' | '\t' => true,
            // Only as the first half of CRLF.
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !allowed {
            return Err(TextError::Control {
                field,
                code: c as u32,
            });
        }
    }
    if text.contains('\r') {
        *text = text.replace("\r\n", "\n");
    }
    if text.contains(is_bidi_override) {
        text.retain(|c| !is_bidi_override(c));
    }
    if text.chars().all(looks_blank) {
        return Err(TextError::Blank { field });
    }
    Ok(())
}

/// Cleans a display name (or an email) from a token; the result may be empty.
pub fn clean_name(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() || c == '\u{2800}' {
                Some(' ')
            } else if c.is_control() || (is_invisible(c) && !joins_visible(c)) {
                None
            } else {
                Some(c)
            }
        })
        .collect();
    kept.trim_matches(|c: char| c == ' ' || joins_visible(c))
        .to_owned()
}

/// Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they
/// reorder the text after them, and can reach past the text into what a client
/// shows around it. The marks (LRM, RLM, ALM) reorder nothing and stay.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters shown as nothing: Unicode's Default_Ignorable_Code_Point (zero-width
/// space and joiners, word joiner, BOM, bidi controls, soft hyphen, variation
/// selectors, tags, Hangul fillers, ...).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Invisible characters that shape the visible ones next to them (joiners in some
/// scripts and emoji, variation selectors, emoji tag sequences): kept inside a name.
fn joins_visible(c: char) -> bool {
    matches!(
        c,
        '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0020}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}'
    )
}

/// White space, invisible characters, and the blank-looking braille pattern.
fn looks_blank(c: char) -> bool {
    c.is_whitespace() || is_invisible(c) || c == '\u{2800}'
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn checked(text: &str) -> Result<String, TextError> {
        let mut text = text.to_owned();
        check_text("text", &mut text).map(|()| text)
    }

    #[test]
    fn texts_by_category() {
        let control = |c: char| {
            Err(TextError::Control {
                field: "text",
                code: c as u32,
            })
        };
        let blank = Err(TextError::Blank { field: "text" });
        let table: &[(&str, Result<&str, TextError>)] = &[
            ("hello", Ok("hello")),
            ("  indented\n\tcode ", Ok("  indented\n\tcode ")),
            ("windows\r\nline", Ok("windows\nline")),
            ("emoji 👍🏽 👨‍👩‍👧 ❤️", Ok("emoji 👍🏽 👨‍👩‍👧 ❤️")),
            ("עברית\u{200F} and marks", Ok("עברית\u{200F} and marks")),
            // Controls: C0, DEL, C1; a CR not followed by LF.
            ("nul\u{0}", control('\0')),
            ("bell\u{7}", control('\u{7}')),
            ("\u{1b}[2Jescape", control('\u{1b}')),
            ("del\u{7f}", control('\u{7f}')),
            ("c1\u{85}", control('\u{85}')),
            ("c1\u{9b}", control('\u{9b}')),
            ("over\rwrite", control('\r')),
            ("trailing\r", control('\r')),
            // Bidi embeddings, overrides and isolates are removed.
            ("abc\u{202E}fed", Ok("abcfed")),
            ("\u{2066}x\u{2069}\u{202A}y\u{202C}", Ok("xy")),
            // Blank-looking.
            ("", blank.clone()),
            (" \n\t ", blank.clone()),
            ("\u{200B}\u{200C}\u{200D}", blank.clone()),
            ("\u{FEFF}", blank.clone()),
            ("\u{2060}\u{3000}\u{00A0}", blank.clone()),
            ("\u{202E}", blank.clone()),
            ("\u{2800}\u{3164}\u{115F}", blank.clone()),
            ("\u{FE0F}\u{E0041}", blank.clone()),
        ];
        for (input, expected) in table {
            assert_eq!(
                checked(input),
                expected.clone().map(str::to_owned),
                "{input:?}"
            );
        }
    }

    #[test]
    fn names_by_category() {
        let table = [
            ("Alice", "Alice"),
            ("  Alice  Bob ", "Alice  Bob"),
            ("Al\u{0}ice\u{1b}[31m\u{7}", "Alice[31m"),
            ("Alice\u{202E}nimda", "Alicenimda"),
            ("\u{2067}Bob\u{2069}\u{200E}", "Bob"),
            ("Ali\u{200B}ce\u{FEFF}", "Alice"),
            ("new\nline\ttab", "new line tab"),
            ("no\u{00A0}break\u{2028}sep", "no break sep"),
            ("\u{200D}Zoë\u{200C}", "Zoë"),
            ("می\u{200C}خواهم", "می\u{200C}خواهم"),
            ("👨‍👩‍👧", "👨‍👩‍👧"),
            ("\u{202E}\u{200B} \u{0}", ""),
            ("", ""),
        ];
        for (input, expected) in table {
            assert_eq!(clean_name(input), expected, "{input:?}");
        }
    }

    #[test]
    fn client_chosen_ids_must_be_printable() {
        assert_eq!(check_id("client_msg_id", "c-1.é_👍"), Ok(()));
        assert_eq!(check_id("client_msg_id", ""), Ok(()));
        for (id, code) in [
            ("a\u{0}", 0),
            ("\u{1b}[2J", 0x1b),
            ("x\u{202E}y", 0x202E),
            ("\u{200B}", 0x200B),
        ] {
            assert_eq!(
                check_id("client_msg_id", id),
                Err(TextError::Unprintable {
                    field: "client_msg_id",
                    code
                }),
                "{id:?}"
            );
        }
        let mut send = Command::Send(plenary_proto::v1::SendMessage {
            text: "hello".into(),
            client_msg_id: "\u{202E}gnp.exe".into(),
            ..Default::default()
        });
        assert_eq!(
            check_command(&mut send).map_err(|e| e.code()),
            Err(ErrorCode::BadRequest)
        );
    }

    #[test]
    fn commands_are_checked_field_by_field() {
        use plenary_proto::v1::{LikeMessage, PostUpdate, SendMessage};
        let mut send = Command::Send(SendMessage {
            text: "a\u{202E}b".into(),
            ..Default::default()
        });
        check_command(&mut send).unwrap();
        assert!(matches!(&send, Command::Send(s) if s.text == "ab"));

        let update = |title: &str, text: &str| {
            Command::PostUpdate(PostUpdate {
                title: title.into(),
                text: text.into(),
                ..Default::default()
            })
        };
        let mut blank_title = update("\u{200B} ", "body");
        check_command(&mut blank_title).unwrap();
        assert!(matches!(&blank_title, Command::PostUpdate(u) if u.title.is_empty()));
        let e = check_command(&mut update("T\u{7}", "body")).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().starts_with("title")),
            (ErrorCode::BadRequest, true)
        );
        let e = check_command(&mut update("", "\u{FEFF}")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidText);

        let mut like = Command::Like(LikeMessage::default());
        check_command(&mut like).unwrap();
    }

    /// Strings mixing every category the rule treats differently.
    fn mixed() -> impl Strategy<Value = String> {
        let char = prop_oneof![
            any::<char>(),
            prop::char::range('a', 'z'),
            prop::char::range('\0', '\u{1f}'),
            prop::char::range('\u{7f}', '\u{9f}'),
            prop::char::range('\u{2000}', '\u{206f}'),
            prop::sample::select(vec![
                ' ',
                '\n',
                '\r',
                '\t',
                '\u{FEFF}',
                '\u{FE0F}',
                '\u{2800}',
                '\u{3164}',
                '\u{E0041}',
                '\u{00AD}',
                'é',
                '👍',
            ]),
        ];
        prop::collection::vec(char, 0..16).prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn an_accepted_text_is_clean_and_visible(input in mixed()) {
            if let Ok(text) = checked(&input) {
                prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                prop_assert!(!text.chars().any(is_bidi_override));
                prop_assert!(!text.chars().all(looks_blank));
                // Checking again changes nothing.
                prop_assert_eq!(checked(&text), Ok(text.clone()));
            } else {
                let has_control = input.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
                let blank = input.chars().all(|c| looks_blank(c) || c == '\r');
                prop_assert!(has_control || blank, "refused {input:?}");
            }
        }

        #[test]
        fn a_cleaned_name_is_clean_trimmed_and_stable(input in mixed()) {
            let name = clean_name(&input);
            prop_assert!(!name.chars().any(char::is_control));
            prop_assert!(!name.chars().any(|c| is_invisible(c) && !joins_visible(c)));
            prop_assert_eq!(name.trim(), name.as_str());
            prop_assert_eq!(clean_name(&name), name.clone());
        }

        #[test]
        fn visible_text_passes_unchanged(input in "[a-zA-Z0-9 .,!?äéßж中👍]{0,40}[a-z]") {
            prop_assert_eq!(checked(&input), Ok(input.clone()));
            prop_assert_eq!(clean_name(&input), input.trim());
        }
    }
}
