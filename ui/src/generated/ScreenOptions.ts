// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AboRh } from "./AboRh";
import type { BagSetKind } from "./BagSetKind";
import type { ClassOption } from "./ClassOption";
import type { DocumentKind } from "./DocumentKind";
import type { Outcome } from "./Outcome";
import type { ReactionKind } from "./ReactionKind";
import type { Role } from "./Role";
import type { Severity } from "./Severity";

/**
 * What the screens offer, from the rules table in force and the core's constants, so
 * the UI holds no rules data of its own.
 */
export type ScreenOptions = { rules_version: string, 
/**
 * The planned volumes a whole-blood donation may have.
 */
whole_blood_volumes_ml: Array<number>, 
/**
 * The bag sets the chair may use, in the order offered.
 */
bag_sets: Array<BagSetKind>, 
/**
 * Sample tubes printed per donation.
 */
tubes: number, 
/**
 * The transport box classes with their band and processing limit.
 */
classes: Array<ClassOption>, 
/**
 * The questionnaire a screening is recorded against.
 */
questionnaire_version: string, 
/**
 * The offset from UTC of the zone the drives work in (the drive's local day and
 * the times the crew reads), in seconds.
 */
utc_offset_seconds: number, 
/**
 * The identity documents registration accepts, resident ID first.
 */
document_kinds: Array<DocumentKind>, 
/**
 * The roles a supervisor may give an account.
 */
roles: Array<Role>, 
/**
 * What a collection may be finished with.
 */
finish_outcomes: Array<Outcome>, 
/**
 * The adverse reactions the chair records, and their severities.
 */
reaction_kinds: Array<ReactionKind>, severities: Array<Severity>, 
/**
 * The groups the bus's rapid ABO/RhD typing may record.
 */
abo_rh_groups: Array<AboRh>, };
