// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ReactionKind } from "./ReactionKind";
import type { Severity } from "./Severity";

export type AdverseReaction = { kind: ReactionKind, severity: Severity, onset: string, note: string | null, };
