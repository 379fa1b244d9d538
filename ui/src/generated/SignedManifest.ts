// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Manifest } from "./Manifest";
import type { ManifestCounts } from "./ManifestCounts";
import type { UnitLine } from "./UnitLine";

export type SignedManifest = { manifest: Manifest, counts: ManifestCounts, 
/**
 * Units not suitable as collected, in manifest order, with the core's words.
 */
units: Array<UnitLine>, };
