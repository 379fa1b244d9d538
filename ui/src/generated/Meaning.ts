// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * What an answer means.
 */
export type Meaning = { 
/**
 * A code of the rules table's deferral catalogue: its period and scope apply (a
 * product-scoped entry excludes products rather than deferring the donor).
 */
defer?: string | null, 
/**
 * The date question the period counts from; absent: from the screening day.
 */
from?: string | null, 
/**
 * The physician must review this answer and record what they found.
 */
review?: boolean, };
