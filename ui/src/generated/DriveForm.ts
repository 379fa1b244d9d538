// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { SiteKind } from "./SiteKind";

/**
 * A drive started on this tablet today, with no crew listed yet.
 */
export type DriveForm = { site_name: string, site_kind: SiteKind, vehicle: string | null, };
