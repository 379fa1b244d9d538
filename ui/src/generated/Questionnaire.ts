// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ConsentText } from "./ConsentText";
import type { Section } from "./Section";
import type { Text } from "./Text";

/**
 * A versioned questionnaire with its consent text.
 */
export type Questionnaire = { 
/**
 * Stored with every screening answered against it; never reused for other content.
 */
version: string, 
/**
 * The standard its questions follow.
 */
standard?: string | null, title: Text, intro?: Text | null, consent: ConsentText, sections: Array<Section>, };
