//! Property test: the per-field merge rule converges whatever order versions arrive in.

use std::collections::BTreeMap;

use lifebridge_domain::hlc::Hlc;
use proptest::prelude::*;
use uuid::Uuid;

fn versioned() -> impl Strategy<
    Value = (
        serde_json::Map<String, serde_json::Value>,
        BTreeMap<String, Hlc>,
    ),
> {
    proptest::collection::btree_map(
        proptest::sample::select(vec!["name", "phone", "address", "rural"]),
        (any::<u8>(), 0u64..5, 0u128..3),
        0..4,
    )
    .prop_map(|fields| {
        let mut map = serde_json::Map::new();
        let mut clocks = BTreeMap::new();
        for (k, (v, wall, node)) in fields {
            map.insert(k.to_owned(), serde_json::json!(v));
            clocks.insert(
                k.to_owned(),
                Hlc {
                    wall_ms: wall,
                    counter: 0,
                    node: Uuid::from_u128(node),
                },
            );
        }
        (map, clocks)
    })
}

proptest! {
    /// Per-field last-writer-wins is commutative, associative and idempotent, so every
    /// replica that has seen the same versions holds the same record, in any order.
    #[test]
    fn donor_merge_converges_in_any_order(a in versioned(), b in versioned(), c in versioned()) {
        use lifebridge_domain::merge::merge_fields as m;
        let ab = m(&a.0, &a.1, &b.0, &b.1);
        let ba = m(&b.0, &b.1, &a.0, &a.1);
        prop_assert_eq!(&ab, &ba);
        let ab_c = m(&ab.0, &ab.1, &c.0, &c.1);
        let bc = m(&b.0, &b.1, &c.0, &c.1);
        let a_bc = m(&a.0, &a.1, &bc.0, &bc.1);
        prop_assert_eq!(&ab_c, &a_bc);
        prop_assert_eq!(m(&ab.0, &ab.1, &ab.0, &ab.1), ab.clone());
        prop_assert_eq!(m(&ab.0, &ab.1, &a.0, &a.1), ab);
    }
}
