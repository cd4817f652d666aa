//! Test samples built from the schema itself: one frame of every command, every reply
//! result and every push body, with every field set to a value other than its default
//! (nested messages too, a few levels deep; the first member of each nested oneof).

use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value,
};

use crate::v1::{ClientFrame, ServerFrame};

/// A frame either way (test samples: their size does not matter).
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Sample {
    Client(ClientFrame),
    Server(ServerFrame),
}

impl Sample {
    /// `text` read as a frame of this sample's direction.
    pub(crate) fn read_json(&self, text: &str) -> Result<Sample, crate::DecodeError> {
        Ok(match self {
            Sample::Client(_) => Sample::Client(crate::wire::decode_client_frame_json(text)?),
            Sample::Server(_) => Sample::Server(crate::wire::decode_json(text)?),
        })
    }
}

fn message(pool: &DescriptorPool, name: &str) -> MessageDescriptor {
    pool.get_message_by_name(name)
        .unwrap_or_else(|| panic!("{name} in the schema"))
}

/// Every sample, named after its oneof member (`command.send`, `reply.join`,
/// `push.message`), in schema order.
pub(crate) fn samples() -> Vec<(String, Sample)> {
    let pool = crate::wire::descriptors();
    let mut out = Vec::new();
    let client = message(pool, "plenary.v1.ClientFrame");
    for member in oneof_members(&client, "command") {
        let mut frame = DynamicMessage::new(client.clone());
        frame.set_field_by_name("id", Value::U64(7));
        frame.set_field(&member, value(&member, 3).expect("a command"));
        let frame = ClientFrame::decode(frame.encode_to_vec().as_slice()).unwrap();
        out.push((format!("command.{}", member.name()), Sample::Client(frame)));
    }
    let server = message(pool, "plenary.v1.ServerFrame");
    for (wrapper, key, oneof, envelope) in [
        ("plenary.v1.Reply", "reply", "result", &["id"][..]),
        (
            "plenary.v1.Push",
            "push",
            "body",
            &["context_id", "epoch", "seq"][..],
        ),
    ] {
        let wrapper = message(pool, wrapper);
        for member in oneof_members(&wrapper, oneof) {
            let mut inner = DynamicMessage::new(wrapper.clone());
            for name in envelope {
                let field = wrapper.get_field_by_name(name).unwrap();
                inner.set_field(&field, value(&field, 0).unwrap());
            }
            inner.set_field(&member, value(&member, 3).expect("a result or body"));
            let mut frame = DynamicMessage::new(server.clone());
            frame.set_field_by_name(key, Value::Message(inner));
            let frame = ServerFrame::decode(frame.encode_to_vec().as_slice()).unwrap();
            out.push((format!("{key}.{}", member.name()), Sample::Server(frame)));
        }
    }
    out
}

fn oneof_members(message: &MessageDescriptor, oneof: &str) -> Vec<FieldDescriptor> {
    let oneof = message
        .oneofs()
        .find(|o| o.name() == oneof)
        .unwrap_or_else(|| panic!("{}.{oneof}", message.full_name()));
    oneof.fields().collect()
}

/// `desc` with every field set (the first member of each oneof); message fields
/// `depth` levels down at most.
pub(crate) fn filled(desc: &MessageDescriptor, depth: u32) -> DynamicMessage {
    let mut message = DynamicMessage::new(desc.clone());
    for field in desc.fields() {
        let first_of_its_oneof = field.containing_oneof().is_none_or(|o| {
            o.fields()
                .next()
                .is_some_and(|f| f.number() == field.number())
        });
        if !first_of_its_oneof {
            continue;
        }
        if let Some(v) = value(&field, depth) {
            message.set_field(&field, v);
        }
    }
    message
}

/// A value for `field` other than its default: two elements for a list.
fn value(field: &FieldDescriptor, depth: u32) -> Option<Value> {
    if field.is_map() {
        return None;
    }
    if field.is_list() {
        return Some(Value::List(vec![
            one(field, 0, depth)?,
            one(field, 1, depth)?,
        ]));
    }
    one(field, 0, depth)
}

/// The `i`th sample value of `field`'s type.
fn one(field: &FieldDescriptor, i: u32, depth: u32) -> Option<Value> {
    let n = field.number() + i;
    // Past 2^53, where a JSON number would lose precision in JavaScript.
    let big = 9_007_199_254_740_993 + u64::from(n);
    Some(match field.kind() {
        Kind::Double => Value::F64(f64::from(n) + 0.5),
        Kind::Float => Value::F32(n as f32 + 0.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-(n as i32)),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(n),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-(big as i64)),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(big),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String(format!("{}-{i}", field.name())),
        Kind::Bytes => Value::Bytes(vec![0, 1, 0xfe, 0xff].into()),
        Kind::Enum(e) => {
            let known: Vec<i32> = e.values().map(|v| v.number()).filter(|&v| v != 0).collect();
            Value::EnumNumber(*known.get(i as usize).or(known.first())?)
        }
        Kind::Message(m) => Value::Message(filled(&m, depth.checked_sub(1)?)),
    })
}
