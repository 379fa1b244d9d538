// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ProductClass } from "./ProductClass";

/**
 * What a deferral rules out: every donation (the default), or only the listed product
 * classes (antiplatelet drugs within 5 days rule out platelets, not whole blood).
 *
 * JSON: `"all"` or `{"products": ["platelet_whole_blood", "apheresis_platelets"]}`.
 */
export type DeferralScope = "all" | { "products": Array<ProductClass> };
