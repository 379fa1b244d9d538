// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { BoxView } from "./BoxView";
import type { ClassOption } from "./ClassOption";
import type { Drive } from "./Drive";
import type { SignedManifest } from "./SignedManifest";
import type { UnpackedBag } from "./UnpackedBag";

/**
 * Everything the driver's screen shows for one drive.
 */
export type TransportView = { drive: Drive, 
/**
 * Open boxes first, then dispatched ones; by code within each.
 */
boxes: Array<BoxView>, unpacked: Array<UnpackedBag>, 
/**
 * What a dispatch now would sign (open boxes with bags), unsigned; `None` when
 * there is nothing to dispatch.
 */
preview: SignedManifest | null, 
/**
 * Signed manifests of this drive, oldest first.
 */
manifests: Array<SignedManifest>, 
/**
 * The box classes, in [`ProductClass::ALL`] order, with the rules' bands.
 */
classes: Array<ClassOption>, };
