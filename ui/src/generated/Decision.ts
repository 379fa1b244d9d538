// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ProductClass } from "./ProductClass";
import type { Reason } from "./Reason";
import type { ReviewItem } from "./ReviewItem";

/**
 * Outcome of [`evaluate`].
 */
export type Decision = { eligible: boolean, reasons: Array<Reason>, 
/**
 * `date` when eligible; otherwise the latest `eligible_from` of the reasons when all
 * of them are fixed by time; `None` when any is not.
 */
eligible_from: string | null, 
/**
 * [`RuleSet::version`] the decision was made with.
 */
rules_version: string, 
/**
 * Product classes this donor's blood may not become today (product-scoped
 * deferrals such as antiplatelet drugs), whether or not the donation may go ahead.
 */
excluded_products: Array<ProductClass>, 
/**
 * Questionnaire answers the physician must review and record a finding for.
 */
review: Array<ReviewItem>, };
