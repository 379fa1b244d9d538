// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
export type ScanResult = "matched" | "other_donation" | "unknown_din" | "duplicate" | "unreadable" | "not_scanned" | "no_piece";
