// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Donation } from "./Donation";
import type { Donor } from "./Donor";
import type { ProductClass } from "./ProductClass";
import type { QueueStatus } from "./QueueStatus";
import type { Screening } from "./Screening";
import type { Visit } from "./Visit";

export type QueueEntry = { visit: Visit, donor: Donor, status: QueueStatus, screening: Screening | null, donation: Donation | null, 
/**
 * Product classes this donor's blood may not become today (product-scoped
 * deferrals), for the collection screen.
 */
excluded_products: Array<ProductClass>, };
