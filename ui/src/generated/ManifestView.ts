// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { HandoffRecord } from "./HandoffRecord";
import type { SignedManifest } from "./SignedManifest";

/**
 * A signed manifest as the store gives it ([`ManifestSheet`]) with its QR code(s)
 * drawn for the screen.
 */
export type ManifestView = { signed: SignedManifest, qr_texts: Array<string>, qr_svgs: Array<string>, handoffs: Array<HandoffRecord>, };
