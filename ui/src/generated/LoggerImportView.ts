// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LoggerImport } from "./LoggerImport";
import type { TransportView } from "./TransportView";

export type LoggerImportView = { import: LoggerImport, view: TransportView, };
