import { describe, expect, it } from "vitest";
import builtIn from "../../crates/domain/questionnaire/gb18467-2011-q1.json";
import type { Questionnaire } from "./api";
import { applies, pruned } from "./screens/questionnaire";

// The built-in document as the core sends it: the screen's rules of which questions are
// asked must be the core's (crates/domain/src/questionnaire/answers.rs `applies`).
const doc = builtIn as unknown as Questionnaire;
const question = (id: string) => doc.sections.flatMap((s) => s.questions).find((q) => q.id === id)!;

describe("which questions are asked", () => {
  it("a follow-up only when its question is answered so", () => {
    expect(applies(doc, question("tattoo_when"), "male", {})).toBe(false);
    expect(applies(doc, question("tattoo_when"), "male", { tattoo: false })).toBe(false);
    expect(applies(doc, question("tattoo_when"), "male", { tattoo: true })).toBe(true);
  });

  it("sex-specific questions only for that sex, follow-ups included", () => {
    expect(applies(doc, question("pregnant"), "male", {})).toBe(false);
    expect(applies(doc, question("pregnant"), "female", {})).toBe(true);
    expect(applies(doc, question("miscarriage_when"), "male", { miscarriage: true })).toBe(false);
    expect(applies(doc, question("miscarriage_when"), "female", { miscarriage: true })).toBe(true);
  });

  it("a follow-up's answer is dropped when it stops applying", () => {
    const answers = { tattoo: true, tattoo_when: { ago: 3, unit: "months" }, feel_well: true };
    expect(pruned(doc, "male", answers)).toEqual(answers);
    expect(pruned(doc, "male", { ...answers, tattoo: false })).toEqual({ tattoo: false, feel_well: true });
    expect(pruned(doc, "male", { pregnant: false, feel_well: true })).toEqual({ feel_well: true });
  });
});
