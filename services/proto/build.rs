//! Generates the Rust types for `proto/plenary/v1/*.proto` with a vendored `protoc`, so
//! no system protoc is needed, and their JSON mapping (serde) with pbjson from the same
//! descriptors: the canonical proto3 JSON mapping, with proto field names.

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

    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_path = out.join("plenary_descriptor.bin");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // For gRPC server reflection (`grpcurl` without the .proto files), and for the
    // JSON mapping below.
    config.file_descriptor_set_path(&descriptor_path);
    // `prost::Name`: a message's full name, to find it in the descriptors.
    config.enable_type_names();

    let mut builder = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true);
    // Private chat's events are larger than the others: boxed, so every event stays
    // small.
    for field in [
        ".plenary.v1.events.UserEvent.kind.peer_notice",
        ".plenary.v1.events.ConversationEvent.kind.connection_changed",
        ".plenary.v1.events.ConversationEvent.kind.direct_message_posted",
    ] {
        builder = builder.boxed(field);
    }
    builder.compile_with_config(config, &files, &[root])?;

    // The JSON subprotocol is the canonical proto3 JSON mapping, generated from the
    // same schema by pbjson (proto field names kept; 64-bit integers written as
    // strings and read from strings or numbers; enums by name; fields at their
    // default left out). What a client sends is strict: an unknown (say, misspelt)
    // field in a command is refused, not ignored, so `"backchanel":true` cannot post
    // to the public chat. Everything else is lenient, so a client reading a server
    // frame ignores fields added later. (The top level of a `ClientFrame` is read in
    // `wire`.)
    let descriptors = std::fs::read(&descriptor_path)?;
    let strict: Vec<String> = std::iter::once("ClientFrame")
        .chain(CLIENT_COMMAND_MESSAGES)
        .map(|m| format!(".plenary.v1.{m}"))
        .collect();
    for (prefixes, exclude, lenient, suffix) in [
        (strict.clone(), Vec::new(), false, "strict.serde.rs"),
        (vec![".plenary".to_owned()], strict, true, "serde.rs"),
    ] {
        let mut json = pbjson_build::Builder::new();
        json.register_descriptors(&descriptors)?
            .preserve_proto_field_names()
            .exclude(exclude);
        if lenient {
            json.ignore_unknown_fields();
        }
        let written = json.generate(&prefixes, |package| {
            let path = out.join(format!("{package}.{suffix}"));
            Ok(std::io::BufWriter::new(std::fs::File::create(path)?))
        })?;
        for (_, mut file) in written {
            std::io::Write::flush(&mut file)?;
        }
    }
    Ok(())
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
