// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Sex } from "./Sex";

/**
 * A donor as the registration screen types them: the document still as text, then the
 * donor's details (flattened, so the JSON is one object).
 */
export type DonorForm = { document_kind: string, document_number: string, name: string, 
/**
 * Required for documents that do not encode them; checked against a resident ID.
 */
sex: Sex | null, birth_date: string | null, phone: string | null, address: string | null, rural: boolean | null, };
