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
    merge_fields_until(a, a_clocks, b, b_clocks, u64::MAX)
}

/// [`merge_fields`] as a replica whose clock reads `latest_ms` (its wall time plus the
/// lead it tolerates) applies it: a clock stamped after `latest_ms` ranks below every
/// clock that is not, so one version stamped by a clock set far ahead cannot win every
/// later merge for ever; the next honest write of that field replaces it. Between two
/// such clocks, or two honest ones, the later wins as usual.
pub fn merge_fields_until(
    a: &serde_json::Map<String, serde_json::Value>,
    a_clocks: &FieldClocks,
    b: &serde_json::Map<String, serde_json::Value>,
    b_clocks: &FieldClocks,
    latest_ms: u64,
) -> (serde_json::Map<String, serde_json::Value>, FieldClocks) {
    let mut out = serde_json::Map::new();
    let mut clocks = FieldClocks::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let rank = |c: Option<&Hlc>| c.map(|c| (c.wall_ms <= latest_ms, *c));
    for key in keys {
        let (ca, cb) = (a_clocks.get(key), b_clocks.get(key));
        let (va, vb) = (a.get(key), b.get(key));
        let take_b = match rank(ca).cmp(&rank(cb)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(wall_ms: u64, node: u128) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            node: Uuid::from_u128(node),
        }
    }

    fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        match value {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn a_clock_past_the_replicas_latest_loses_to_a_later_honest_write() {
        let year_ahead = at(1_000 + 365 * 86_400_000, 1);
        let bad = object(serde_json::json!({"phone": "bad"}));
        let bad_clocks = uniform_clocks(&bad, year_ahead);
        let honest = object(serde_json::json!({"phone": "13800000000"}));
        let honest_clocks = uniform_clocks(&honest, at(2_000, 2));
        // Without a bound the far-future stamp wins, whichever order they arrive in.
        let (plain, _) = merge_fields(&bad, &bad_clocks, &honest, &honest_clocks);
        assert_eq!(plain["phone"], "bad");
        // A replica whose clock reads 2 000 (plus its tolerated lead) lets the honest
        // write win, in either order, and keeps the honest clock.
        for (a, ac, b, bc) in [
            (&bad, &bad_clocks, &honest, &honest_clocks),
            (&honest, &honest_clocks, &bad, &bad_clocks),
        ] {
            let (merged, clocks) = merge_fields_until(a, ac, b, bc, 2_000 + 3_600_000);
            assert_eq!(merged["phone"], "13800000000");
            assert_eq!(clocks["phone"], at(2_000, 2));
        }
        // A field only the bad version has is still kept (there is nothing to prefer).
        let mut bad_more = bad.clone();
        bad_more.insert("address".into(), "x".into());
        let bad_more_clocks = uniform_clocks(&bad_more, year_ahead);
        let (merged, _) =
            merge_fields_until(&bad_more, &bad_more_clocks, &honest, &honest_clocks, 5_000);
        assert_eq!(merged["address"], "x");
    }

    #[test]
    fn within_the_bound_the_later_clock_wins_as_before() {
        let a = object(serde_json::json!({"name": "甲"}));
        let b = object(serde_json::json!({"name": "乙"}));
        let (ac, bc) = (uniform_clocks(&a, at(10, 1)), uniform_clocks(&b, at(20, 2)));
        let bounded = merge_fields_until(&a, &ac, &b, &bc, 1_000);
        assert_eq!(bounded, merge_fields(&a, &ac, &b, &bc));
        assert_eq!(bounded.0["name"], "乙");
    }
}
