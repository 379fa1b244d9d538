// What the screens offer (volumes, bag sets, tubes, box classes, the questionnaire, the
// drives' time zone, identity documents, roles, finish outcomes, adverse reactions)
// comes from the core, computed from the rules table in force: the UI holds no rules
// data or option lists of its own.
import { signal } from "@preact/signals";
import { ScreenOptions, call } from "./api";

/** The core's `screen_options`; null until the store is unlocked and they are loaded. */
export const options = signal<ScreenOptions | null>(null);

/** The loaded options, for an action that cannot go on without them (they load at
 * unlock, before any screen that acts). */
export function loaded(): ScreenOptions {
  if (!options.value) throw new Error("the screen options have not loaded yet");
  return options.value;
}

export const loadOptions = () =>
  call("screen_options").then((o) => { options.value = o; });
