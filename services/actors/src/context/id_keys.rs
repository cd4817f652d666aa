//! Maps keyed by id (message ids, interaction ids) in snapshots. JSON keys are strings,
//! and a part flattened into the context's snapshot is read through serde's buffered
//! content, which does not turn `"42"` back into a number: the keys are parsed here.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned, de::Error};

pub(crate) fn serialize<V: Serialize, S: Serializer>(
    map: &BTreeMap<u64, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    map.serialize(s)
}

pub(crate) fn deserialize<'de, V: DeserializeOwned, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<u64, V>, D::Error> {
    BTreeMap::<String, V>::deserialize(d)?
        .into_iter()
        .map(|(id, v)| Ok((id.parse().map_err(D::Error::custom)?, v)))
        .collect()
}
