// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelKind } from "./LabelKind";

/**
 * One physical label of a donation's set.
 *
 * `piece` numbers containers 1..=n across the bag set (the primary bag is container 1,
 * satellites 2..=n) and tubes 1..=n; the record sheet is always piece 1.
 */
export type LabelPiece = { kind: LabelKind, piece: number, };
