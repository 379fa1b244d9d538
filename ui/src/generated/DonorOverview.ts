// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { CheckInStatus } from "./CheckInStatus";
import type { Deferral } from "./Deferral";
import type { Donation } from "./Donation";
import type { Donor } from "./Donor";

/**
 * A donor at check-in: record, history and whether they may give whole blood today.
 */
export type DonorOverview = { donor: Donor, donations: Array<Donation>, active_deferrals: Array<Deferral>, cumulative_volume_ml: number, next_eligible: string | null, 
/**
 * Time and history allow a donation today (the day's measurements still decide).
 */
eligible_today: boolean, 
/**
 * Why not, when not: the check-in screen shows it in red with the date, and
 * checking the donor in then needs a confirmation.
 */
check_in: CheckInStatus, probable_duplicates: Array<Donor>, };
