//! Serde helpers so enum fields appear in JSON as their proto names
//! (`"ERROR_CODE_FORBIDDEN"`, `"ROLE_MODERATOR"`), as the proto3 JSON mapping does.
//! Deserialising also accepts the number, and an unknown name is an error.

use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrNumber {
    Name(String),
    Number(i32),
}

macro_rules! proto_enum_serde {
    ($module:ident, $ty:path) => {
        #[doc = concat!("JSON mapping of [`", stringify!($ty), "`] fields.")]
        pub mod $module {
            use super::*;
            use $ty as E;

            /// Writes the enum's proto name (the number if it is not a known value).
            pub fn serialize<S: Serializer>(value: &i32, s: S) -> Result<S::Ok, S::Error> {
                match E::try_from(*value) {
                    Ok(e) => s.serialize_str(e.as_str_name()),
                    Err(_) => s.serialize_i32(*value),
                }
            }

            /// Reads a proto name or a number.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
                match NameOrNumber::deserialize(d)? {
                    NameOrNumber::Name(n) => E::from_str_name(&n)
                        .map(|e| e as i32)
                        .ok_or_else(|| D::Error::custom(format!("unknown enum value `{n}`"))),
                    NameOrNumber::Number(n) => Ok(n),
                }
            }
        }
    };
}

proto_enum_serde!(error_code, crate::v1::ErrorCode);
proto_enum_serde!(role, crate::v1::Role);
proto_enum_serde!(qa_mode, crate::v1::QaMode);
proto_enum_serde!(thread_state, crate::v1::ThreadState);
proto_enum_serde!(thread_action_kind, crate::v1::ThreadActionKind);
proto_enum_serde!(connection_action_kind, crate::v1::ConnectionActionKind);
proto_enum_serde!(peer_status, crate::v1::PeerStatus);
proto_enum_serde!(connection_change, crate::v1::events::ConnectionChange);
proto_enum_serde!(interaction_action_kind, crate::v1::InteractionActionKind);
proto_enum_serde!(interaction_status, crate::v1::InteractionStatus);
proto_enum_serde!(survey_question_kind, crate::v1::SurveyQuestionKind);
proto_enum_serde!(reaction, crate::v1::Reaction);

/// JSON mapping of an `optional QaMode` field.
pub mod optional_qa_mode {
    use super::*;

    /// Writes the proto name, or null.
    pub fn serialize<S: Serializer>(value: &Option<i32>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => qa_mode::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Reads a proto name, a number or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        match Option::<NameOrNumber>::deserialize(d)? {
            None => Ok(None),
            Some(NameOrNumber::Number(n)) => Ok(Some(n)),
            Some(NameOrNumber::Name(n)) => crate::v1::QaMode::from_str_name(&n)
                .map(|e| Some(e as i32))
                .ok_or_else(|| D::Error::custom(format!("unknown enum value `{n}`"))),
        }
    }
}
