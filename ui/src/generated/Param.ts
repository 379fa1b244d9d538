// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Localized } from "./Localized";
import type { Message } from "./Message";

/**
 * One parameter of a [`Message`].
 */
export type Param = string | Array<Param> | Localized | Message;
