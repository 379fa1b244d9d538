// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * How long a deferral lasts, counted from its start (the day of the procedure, the end
 * of the illness, the last vaccination…, as the entry's text says).
 *
 * JSON: `{"days": 14}`, `{"months": 6}`, `"permanent"`, `"station_set"` (the station
 * records an explicit end date for each donor, e.g. after a transfusion) or
 * `"until_eligible"` (until the day the rules themselves name: an interval, an age, a
 * yearly limit).
 */
export type DeferralPeriod = { "days": number } | { "months": number } | "permanent" | "station_set" | "until_eligible";
