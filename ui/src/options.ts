// What the screens offer (volumes, bag sets, tubes, box classes, the questionnaire, the
// drives' time zone) comes from the core, computed from the rules table in force: the
// UI holds no rules data of its own.
import { signal } from "@preact/signals";
import { ScreenOptions, call } from "./api";

/** The core's `screen_options`; null until the store is unlocked and they are loaded. */
export const options = signal<ScreenOptions | null>(null);

export const loadOptions = () =>
  call<ScreenOptions>("screen_options").then((o) => { options.value = o; });
