// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Sex } from "./Sex";

/**
 * A donor as the registration screen types them: the document still as text.
 */
export type DonorForm = { document_kind: string, document_number: string, name: string, sex: Sex | null, birth_date: string | null, phone: string | null, address: string | null, rural: boolean | null, };
