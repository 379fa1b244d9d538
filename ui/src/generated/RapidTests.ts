// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AboRh } from "./AboRh";
import type { TestResult } from "./TestResult";

export type RapidTests = { hemoglobin_g_l: number | null, alt_u_l: number | null, hbsag: TestResult | null, abo_rh: AboRh | null, hematocrit: number | null, platelet_count_10e9_l: number | null, };
