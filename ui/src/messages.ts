// The core's messages (refusals, findings, eligibility reasons) arrive as a catalogue
// code with parameters; the text is the one catalogue, crates/domain/messages/
// catalogue.json, exported to ./messages.json at build time (a Rust test fails
// when the copy is stale). Same rules as lifebridge_domain::messages::render.
import catalogue from "./messages.json";
import { lang, type Lang } from "./i18n";

// The wire shape is generated from lifebridge_domain::messages (src-tauri/src/bindings.rs).
import type { Message, Param } from "./generated";
export type { Localized, Message, Param } from "./generated";

const entries: Record<string, { "zh-CN": string; en: string }> = catalogue;

function isMessage(p: Param): p is Message {
  return typeof p === "object" && !Array.isArray(p) && "code" in p;
}

function renderParam(p: Param, l: Lang, filter = ""): string {
  if (typeof p === "string") return p;
  if (Array.isArray(p)) {
    const sep = filter === "semi" ? (l === "en" ? "; " : "；") : l === "en" ? ", " : "、";
    return p.map((q) => renderParam(q, l)).join(sep);
  }
  if (isMessage(p)) return renderMessage(p, l);
  return p[l];
}

/** `message` in `l` (the screen's language by default); an unknown code shows as itself. */
export function renderMessage(message: Message, l: Lang = lang.value): string {
  const entry = entries[message.code];
  if (!entry) return message.code;
  const params = message.params ?? {};
  return entry[l].replace(/\{([^{}|]*)(?:\|(cap|semi))?\}/g, (whole, name: string, filter?: string) => {
    const p = params[name];
    if (p === undefined) return whole;
    const text = renderParam(p, l, filter);
    return filter === "cap" ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  });
}

/** A product class's name (`product_class.*` in the catalogue, as the core names it),
 * capitalised in English where a screen shows it on its own. */
export function className(c: string, l: Lang = lang.value): string {
  const text = renderMessage({ code: `product_class.${c}`, params: {} }, l);
  return l === "en" ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
