//! The per-field merge rule for records several devices edit (donors): last writer wins,
//! field by field, ordered by hybrid logical clocks. The device store and the station
//! apply it alike, so every replica that has seen the same versions holds the same record.

use std::collections::BTreeMap;

use crate::hlc::Hlc;

/// Clock of the last change of each top-level field of a record (donors only).
pub type FieldClocks = BTreeMap<String, Hlc>;

/// Per-field last-writer-wins merge of two versions of the same JSON object.
///
/// For each top-level field, the version whose clock for it is later wins; a field
/// without a clock loses to any clock. Equal clocks with different values (which only a
/// broken writer can produce) are settled by the larger JSON text, so the result never
/// depends on the order of the arguments: every replica that has seen the same versions
/// holds the same record.
pub fn merge_fields(
    a: &serde_json::Map<String, serde_json::Value>,
    a_clocks: &FieldClocks,
    b: &serde_json::Map<String, serde_json::Value>,
    b_clocks: &FieldClocks,
) -> (serde_json::Map<String, serde_json::Value>, FieldClocks) {
    let mut out = serde_json::Map::new();
    let mut clocks = FieldClocks::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (ca, cb) = (a_clocks.get(key), b_clocks.get(key));
        let (va, vb) = (a.get(key), b.get(key));
        let take_b = match ca.cmp(&cb) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => {
                let ta = va.map(|v| v.to_string());
                let tb = vb.map(|v| v.to_string());
                tb > ta
            }
        };
        let (value, clock) = if take_b { (vb, cb) } else { (va, ca) };
        if let Some(v) = value {
            out.insert(key.clone(), v.clone());
        }
        if let Some(c) = clock {
            clocks.insert(key.clone(), *c);
        }
    }
    (out, clocks)
}

/// Field clocks of a record whose every field was written at `hlc`.
pub fn uniform_clocks(body: &serde_json::Map<String, serde_json::Value>, hlc: Hlc) -> FieldClocks {
    body.keys().map(|k| (k.clone(), hlc)).collect()
}

/// The later clock of each field found in either set.
pub fn max_clocks(a: &FieldClocks, b: &FieldClocks) -> FieldClocks {
    let mut out = a.clone();
    for (k, c) in b {
        let entry = out.entry(k.clone()).or_insert(*c);
        if *c > *entry {
            *entry = *c;
        }
    }
    out
}
