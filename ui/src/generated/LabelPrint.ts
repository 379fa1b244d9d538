// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { LabelKind } from "./LabelKind";

export type LabelPrint = { id: string, donation_id: string, din: Din, kind: LabelKind, 
/**
 * Which piece of the set: bag 1..n, tube 1..n.
 */
piece: number, printed_by: string, printed_at: string, supersedes: string | null, };
