// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AboRh } from "./AboRh";
import type { Din } from "./Din";
import type { LabelPiece } from "./LabelPiece";
import type { Procedure } from "./Procedure";
import type { UnitAssessment } from "./UnitAssessment";

/**
 * One bag as the manifest lists it.
 */
export type ManifestBag = { din: Din, donation_id: string, procedure: Procedure, collected_volume_ml: number | null, 
/**
 * Known only when typed at registration or from a bedside rapid test.
 */
abo_rh: AboRh | null, 
/**
 * End of collection (start, if the end was never recorded): the time limits to
 * processing run from here.
 */
collected_at: string, 
/**
 * The sample tubes released with the bag, which travel with it and are scanned at
 * the desk. Empty on manifests written before tubes were listed.
 */
tubes?: Array<LabelPiece>, 
/**
 * What the unit may still become at dispatch, and why (slow draw, products excluded
 * at screening, the box's excursion, a time limit already missed). Omitted when
 * suitable, so manifests written before it keep their bytes.
 */
unit?: UnitAssessment, 
/**
 * Labels of this unit verified by manual entry (DIN typed with its check character,
 * a reason and a second crew member's PIN) instead of a scan: at the chair, or the
 * bag's own label at packing. Omitted when every label was scanned, so manifests
 * written before it keep their bytes.
 */
manual_labels?: Array<LabelPiece>, };
