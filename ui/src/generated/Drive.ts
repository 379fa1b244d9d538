// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { SiteKind } from "./SiteKind";

/**
 * One collection session: a site, on one date, with one crew.
 */
export type Drive = { id: string, site_name: string, site_kind: SiteKind, 
/**
 * The vehicle's plate or call sign when `site_kind` is a vehicle.
 */
vehicle: string | null, date: string, crew: Array<string>, started_at: string, ended_at: string | null, };
