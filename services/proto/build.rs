//! Generates the Rust types for `proto/plenary/v1/*.proto` with a vendored `protoc`, so
//! no system protoc is needed. Client frames also get a serde mapping for the JSON
//! subprotocol: oneofs are flattened (`{"id":1,"send":{...}}`), enum fields are their
//! proto names (`"ERROR_CODE_FORBIDDEN"`), missing fields take proto defaults, and an
//! unknown field in a command is an error.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "client.proto",
        "events.proto",
        "admin.proto",
        "internal.proto",
        "reporting.proto",
    ]
    .map(|f| root.join("plenary/v1").join(f));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }

    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // For gRPC server reflection (`grpcurl` without the .proto files).
    config.file_descriptor_set_path(
        PathBuf::from(std::env::var("OUT_DIR")?).join("plenary_descriptor.bin"),
    );

    let mut builder = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .type_attribute(
            ".plenary",
            "#[derive(serde::Serialize, serde::Deserialize)]",
        )
        .message_attribute(".plenary", "#[serde(default)]")
        .enum_attribute(".plenary", "#[serde(rename_all = \"snake_case\")]");
    // What a client sends is strict in JSON: an unknown (say, misspelt) field in a
    // command is refused, not ignored, so `"backchanel":true` cannot post to the
    // public chat. What the server sends stays lenient, so clients can ignore fields
    // added later. (The top level of a `ClientFrame` is checked in `wire`.)
    for message in CLIENT_COMMAND_MESSAGES {
        builder = builder.message_attribute(
            format!(".plenary.v1.{message}"),
            "#[serde(deny_unknown_fields)]",
        );
    }
    for oneof in [
        ".plenary.v1.ClientFrame.command",
        ".plenary.v1.ServerFrame.frame",
        ".plenary.v1.Reply.result",
        ".plenary.v1.Push.body",
        ".plenary.v1.events.ContextEvent.kind",
        ".plenary.v1.events.ConversationEvent.kind",
        ".plenary.v1.events.UserEvent.kind",
        ".plenary.v1.InteractionSpec.kind",
        ".plenary.v1.events.InteractionSpec.kind",
    ] {
        builder = builder.field_attribute(oneof, "#[serde(flatten)]");
    }
    for (field, module) in [
        (".plenary.v1.Error.code", "error_code"),
        (".plenary.v1.JoinOk.role", "role"),
        (".plenary.v1.ContextInfo.qa_mode", "qa_mode"),
        (".plenary.v1.QaThread.state", "thread_state"),
        (".plenary.v1.ThreadAction.action", "thread_action_kind"),
        (
            ".plenary.v1.ConnectionAction.action",
            "connection_action_kind",
        ),
        (".plenary.v1.Peer.status", "peer_status"),
        (
            ".plenary.v1.InteractionAction.action",
            "interaction_action_kind",
        ),
        (".plenary.v1.Interaction.status", "interaction_status"),
        (".plenary.v1.SurveyQuestion.kind", "survey_question_kind"),
        (".plenary.v1.Person.status", "peer_status"),
        (
            ".plenary.v1.events.ConnectionChanged.change",
            "connection_change",
        ),
        (".plenary.v1.events.ContextSettings.qa_mode", "qa_mode"),
        (".plenary.v1.events.Peer.status", "peer_status"),
        (".plenary.v1.admin.Context.qa_mode", "qa_mode"),
        (".plenary.v1.React.reaction", "reaction"),
        (".plenary.v1.ReactionCount.reaction", "reaction"),
        (
            ".plenary.v1.events.SurveyQuestion.kind",
            "survey_question_kind",
        ),
        (".plenary.v1.admin.CreateContextRequest.qa_mode", "qa_mode"),
    ] {
        builder =
            builder.field_attribute(field, format!("#[serde(with = \"crate::json::{module}\")]"));
    }
    // Private chat's events are larger than the others: boxed, so every event stays
    // small.
    for field in [
        ".plenary.v1.events.UserEvent.kind.peer_notice",
        ".plenary.v1.events.ConversationEvent.kind.connection_changed",
        ".plenary.v1.events.ConversationEvent.kind.direct_message_posted",
    ] {
        builder = builder.boxed(field);
    }
    builder
        .field_attribute(
            ".plenary.v1.admin.UpdateContextRequest.qa_mode",
            "#[serde(with = \"crate::json::optional_qa_mode\")]",
        )
        .compile_with_config(config, &files, &[root])?;
    keep_flatten_on_struct_fields_only()
}

/// The messages only clients send: the command bodies of `ClientFrame` and what they
/// hold.
const CLIENT_COMMAND_MESSAGES: [&str; 42] = [
    "Connect",
    "Refresh",
    "Position",
    "Join",
    "Leave",
    "SendMessage",
    "Ask",
    "ThreadAction",
    "PublishQa",
    "Unpublish",
    "PostUpdate",
    "LikeMessage",
    "UnlikeMessage",
    "DeleteMessage",
    "PinMessage",
    "UnpinMessage",
    "BlockUser",
    "UnblockUser",
    "Ping",
    "PrivateOpen",
    "ConnectionAction",
    "DirectSend",
    "DirectDelete",
    "DirectRead",
    "DirectHistory",
    "UpdateSettings",
    "FindPeople",
    "SaveInteraction",
    "InteractionSpec",
    "PollSpec",
    "QuizSpec",
    "RatingSpec",
    "CrowdVoteSpec",
    "AnnouncementSpec",
    "OpenQuestionSpec",
    "SurveySpec",
    "SurveyQuestion",
    "SurveyAnswer",
    "InteractionAction",
    "Vote",
    "React",
    "History",
];

/// prost-build applies a field attribute given for a oneof to the oneof's struct field
/// *and* to each of its variants, where `#[serde(flatten)]` is not allowed. Drop it from
/// the variants: keep it only where the next item is a `pub` struct field.
fn keep_flatten_on_struct_fields_only() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    for entry in std::fs::read_dir(&out)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let lines: Vec<&str> = text.lines().collect();
        let mut kept = String::with_capacity(text.len());
        for (i, line) in lines.iter().enumerate() {
            if line.trim() == "#[serde(flatten)]" {
                let next_item = lines[i + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .find(|l| !l.starts_with("#["));
                if !next_item.is_some_and(|l| l.starts_with("pub ")) {
                    continue;
                }
            }
            kept.push_str(line);
            kept.push('\n');
        }
        std::fs::write(&path, kept)?;
    }
    Ok(())
}
