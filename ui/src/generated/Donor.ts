// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AboRh } from "./AboRh";
import type { IdentityDocument } from "./IdentityDocument";
import type { Sex } from "./Sex";

export type Donor = { id: string, document: IdentityDocument, name: string, sex: Sex, birth_date: string, phone: string | null, address: string | null, 
/**
 * Unknown until typed at the station, or from a bedside rapid test; never guessed.
 */
abo_rh: AboRh | null, 
/**
 * Rural residence, for the station's statistics (domain.md section 7).
 */
rural: boolean | null, registered_at: string, };
