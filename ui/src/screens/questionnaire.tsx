// The donor health questionnaire as the core gives it: whatever document is current is
// rendered here (sections, one question per row, the answer type's widget), so no
// question text lives in the UI. Which questions apply follows the document's own rules
// (follow-ups only when their `when` holds, sex-specific questions only for that sex),
// as the core evaluates them; what the answers mean is the core's decision, shown by the
// screening screen. The donor may switch the document's language here alone.
import { useEffect, useState } from "preact/hooks";
import type { JsonValue } from "../generated/serde_json/JsonValue";
import type { Meaning, Question, Questionnaire as QuestionnaireDoc, Sex, Text } from "../api";
import { Key, Lang, lang, translations } from "../i18n";

export type Answers = Record<string, JsonValue>;

const AGO_UNITS = ["days", "weeks", "months", "years"] as const;
type AgoUnit = (typeof AGO_UNITS)[number];
const UNIT_KEYS: Record<AgoUnit, Key> = { days: "q_days", weeks: "q_weeks", months: "q_months", years: "q_years" };
/** Choices with more options than this are a select, not a row of buttons. */
const MAX_CHOICE_BUTTONS = 4;

/** Whether `q` is asked of a donor of `sex` with these answers (the core's rule). */
export function applies(doc: QuestionnaireDoc, q: Question, sex: Sex, answers: Answers): boolean {
  if (q.sex && q.sex !== sex) return false;
  if (!q.when) return true;
  const parent = doc.sections.flatMap((s) => s.questions).find((p) => p.id === q.when!.question);
  return !!parent && applies(doc, parent, sex, answers) && answers[q.when.question] === q.when.is;
}

/** The answers with those to questions that no longer apply dropped (a "yes" changed to
 * "no" takes its "when?" with it). Follow-ups come after their question, so one pass in
 * document order settles every chain. */
export function pruned(doc: QuestionnaireDoc, sex: Sex, answers: Answers): Answers {
  const out: Answers = {};
  for (const q of doc.sections.flatMap((s) => s.questions)) {
    if (q.id in answers && applies(doc, q, sex, out)) out[q.id] = answers[q.id];
  }
  return out;
}

export function Questionnaire({ doc, sex, initial, onChange }: {
  doc: QuestionnaireDoc; sex: Sex;
  /** Answers given beforehand (the donor's pre-filled phone QR), changed here as the donor corrects them. */
  initial?: Record<string, unknown>;
  onChange: (answers: Answers) => void;
}) {
  const [answers, setAnswers] = useState<Answers>(() => pruned(doc, sex, (initial ?? {}) as Answers));
  const [docLang, setDocLang] = useState<Lang>(lang.value);
  useEffect(() => onChange(answers), [answers]);

  const text = (t: Text) => (docLang === "en" ? t.en : t.zh);
  const word = (key: Key) => translations[docLang][key];
  const answer = (id: string, value: JsonValue | undefined) => {
    const next = { ...answers };
    if (value === undefined) delete next[id]; else next[id] = value;
    setAnswers(pruned(doc, sex, next));
  };

  return (
    <section class="questionnaire" id="questionnaire" lang={docLang === "en" ? "en" : "zh-CN"} data-version={doc.version}>
      <div class="q-head">
        <h2>{text(doc.title)}</h2>
        <div class="q-lang" role="group" aria-label={word("q_language")}>
          {(["zh-CN", "en"] as Lang[]).map((l) => (
            <button type="button" class={docLang === l ? "q-option chosen" : "q-option"} aria-pressed={docLang === l}
              id={`q-lang-${l}`} onClick={() => setDocLang(l)}>{l === "en" ? "English" : "中文"}</button>
          ))}
        </div>
      </div>
      {doc.intro && <p class="muted">{text(doc.intro)}</p>}
      {doc.sections.map((section) => {
        const shown = section.questions.filter((q) => applies(doc, q, sex, answers));
        if (shown.length === 0) return null;
        return (
          <fieldset class="q-section" data-section={section.id}>
            <legend>{text(section.title)}</legend>
            {shown.map((q) => (
              <div class={`q-row${q.id in answers ? " answered" : ""}${q.when ? " follow-up" : ""}`} data-question={q.id} data-type={q.type}>
                <p class="q-text">{text(q.text)}</p>
                <AnswerInput q={q} value={answers[q.id]} text={text} word={word} onAnswer={(v) => answer(q.id, v)} />
              </div>
            ))}
          </fieldset>
        );
      })}
    </section>
  );
}

function AnswerInput({ q, value, text, word, onAnswer }: {
  q: Question; value: JsonValue | undefined;
  text: (t: Text) => string; word: (k: Key) => string;
  onAnswer: (v: JsonValue | undefined) => void;
}) {
  // `data-means` says what the document makes of an answer (a deferral code, or
  // "review"): never shown to the donor, it lets the crew's tests pick "nothing to declare".
  const button = (label: string, v: JsonValue, answerId: string, means: Meaning | null | undefined) => (
    <button type="button" class={value === v ? "q-option chosen" : "q-option"} aria-pressed={value === v}
      data-answer={answerId} data-means={meaningOf(means)} onClick={() => onAnswer(v)}>{label}</button>
  );
  switch (q.type) {
    case "yes_no":
      return <div class="q-answers">{button(word("q_yes"), true, "yes", q.yes)}{button(word("q_no"), false, "no", q.no)}</div>;
    case "choice":
      return q.options.length <= MAX_CHOICE_BUTTONS
        ? <div class="q-answers">{q.options.map((o) => button(text(o.text), o.id, o.id, o.means))}</div>
        : (
          <select class="q-select" data-answer="choice" value={typeof value === "string" ? value : ""}
            onChange={(e) => onAnswer(e.currentTarget.value || undefined)}>
            <option value="" />
            {q.options.map((o) => <option value={o.id} data-means={meaningOf(o.means)}>{text(o.text)}</option>)}
          </select>
        );
    case "date":
      return <DateAnswer value={value} word={word} onAnswer={onAnswer} />;
    case "number":
      return (
        <label class="q-number">
          <input inputMode="decimal" data-answer="number" min={q.min} max={q.max}
            value={typeof value === "number" ? String(value) : ""}
            onInput={(e) => { const s = e.currentTarget.value.trim(); const n = Number(s); onAnswer(s === "" || Number.isNaN(n) ? undefined : n); }} />
          {q.unit && <span>{text(q.unit)}</span>}
        </label>
      );
    case "text":
      return (
        <input class="q-text-answer" data-answer="text" maxLength={q.max_length} value={typeof value === "string" ? value : ""}
          onInput={(e) => onAnswer(e.currentTarget.value === "" ? undefined : e.currentTarget.value)} />
      );
  }
}

function meaningOf(m: Meaning | null | undefined): string | undefined {
  if (!m) return undefined;
  return m.defer ?? (m.review ? "review" : undefined);
}

/** A day, or how long ago (number + unit → `{"ago", "unit"}`, counted back from the
 * screening day by the core); the one typed last is the answer. */
function DateAnswer({ value, word, onAnswer }: {
  value: JsonValue | undefined; word: (k: Key) => string; onAnswer: (v: JsonValue | undefined) => void;
}) {
  const ago = value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  const [count, setCount] = useState(ago && typeof ago.ago === "number" ? String(ago.ago) : "");
  const [unit, setUnit] = useState<AgoUnit>(ago && AGO_UNITS.includes(ago.unit as AgoUnit) ? (ago.unit as AgoUnit) : "months");
  const setAgo = (c: string, u: AgoUnit) => {
    setCount(c); setUnit(u);
    // A unit chosen before the number leaves a typed date alone.
    if (c.trim() === "" && !ago) return;
    const n = Number(c);
    onAnswer(c.trim() === "" || !Number.isInteger(n) || n < 0 ? undefined : { ago: n, unit: u });
  };
  return (
    <div class="q-answers q-date">
      <input type="date" data-answer="date" value={typeof value === "string" ? value : ""}
        onInput={(e) => { setCount(""); onAnswer(e.currentTarget.value || undefined); }} />
      <span class="muted">{word("q_ago")}</span>
      <input class="q-ago" inputMode="numeric" data-answer="ago" value={count} onInput={(e) => setAgo(e.currentTarget.value, unit)} />
      <select data-answer="ago-unit" value={unit} onChange={(e) => setAgo(count, e.currentTarget.value as AgoUnit)}>
        {AGO_UNITS.map((u) => <option value={u}>{word(UNIT_KEYS[u])}</option>)}
      </select>
    </div>
  );
}
