// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ChoiceOption } from "./ChoiceOption";
import type { Condition } from "./Condition";
import type { Meaning } from "./Meaning";
import type { Sex } from "./Sex";
import type { Text } from "./Text";

/**
 * One question, shown on its own row. (Its answer type is flattened into it, which
 * serde cannot combine with refusing unknown fields.)
 */
export type Question = { id: string, text: Text, 
/**
 * Asked only when an earlier question was answered so (a "yes" asks "when?").
 */
when?: Condition | null, 
/**
 * Asked only of donors of this sex (pregnancy, breastfeeding).
 */
sex?: Sex | null, } & ({ "type": "yes_no", yes?: Meaning | null, no?: Meaning | null, } | { "type": "date" } | { "type": "choice", options: Array<ChoiceOption>, } | { "type": "number", min: number, max: number, unit?: Text | null, } | { "type": "text", max_length: number, });
