// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ProductClass } from "./ProductClass";

export type ClassCount = { class: ProductClass, bags: number, };
