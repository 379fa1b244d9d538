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
excluded_products: Array<ProductClass>, 
/**
 * Who recorded where the donor stands (the nurse who checked them in while they
 * wait, the physician once screened, the phlebotomist from the chair on), by name
 * when this device holds the account (the station's accounts are on every tablet).
 */
recorded_by: string | null, 
/**
 * Whether that record came from another tablet (of the bus, through its hub).
 */
recorded_elsewhere: boolean, };
