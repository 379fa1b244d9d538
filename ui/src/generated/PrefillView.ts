// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Appointment } from "./Appointment";
import type { DocumentCheck } from "./DocumentCheck";
import type { Donor } from "./Donor";
import type { Message } from "./Message";
import type { PrefillAnswer } from "./PrefillAnswer";
import type { QuestionnaireAnswers } from "./QuestionnaireAnswers";
import type { Sex } from "./Sex";

/**
 * What the check-in screen shows of a scanned pre-fill code: who, what it holds, and
 * whether this device already knows the donor or has them booked today.
 */
export type PrefillView = { valid_on: string, document: DocumentCheck, name: string, sex: Sex, birth_date: string | null, phone: string | null, 
/**
 * The donor this device holds under that document; `None`: checking in registers
 * them from the code.
 */
donor: Donor | null, 
/**
 * The station's booking of this document at this drive, if any.
 */
appointment: Appointment | null, prefill: QuestionnaireAnswers, 
/**
 * Every answer in question order.
 */
answers: Array<PrefillAnswer>, 
/**
 * Questions that apply to this donor and the code leaves unanswered (filled on the
 * tablet at screening).
 */
unanswered: Array<string>, 
/**
 * What the nurse should check before checking in (a name that differs from the
 * one on record).
 */
notes: Array<Message>, };
