// The donor's informed consent on the tablet: the consent text (from the core, in the
// language the donor chooses), a signature pad, and "cannot sign" with a crew witness.
// The core decides what a valid consent is (`lifebridge_domain::consent`) and the store
// refuses an acceptance without one; this panel only collects it.
import { useEffect, useRef, useState } from "preact/hooks";
import { Consent, ConsentView, Staff, call, errorText } from "../api";
import { Lang, t } from "../i18n";

/** What the panel hands the screening form: the consent, and the witness's PIN for a
 * donor who could not sign (checked by the store, never stored). */
export interface GivenConsent { consent: Consent; witnessPin: string | null }

type Point = [number, number];

export function ConsentPanel({ value, onChange }: { value: GivenConsent | null; onChange: (c: GivenConsent | null) => void }) {
  const [text, setText] = useState<ConsentView | null>(null);
  const [donorLang, setDonorLang] = useState<Lang>("zh-CN");
  const [mode, setMode] = useState<"sign" | "witness">("sign");
  const [crew, setCrew] = useState<Staff[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    call("consent_text").then(setText).catch((e) => setError(errorText(e)));
    Promise.all([call("list_staff"), call("app_status")])
      .then(([all, me]) => setCrew(all.filter((s) => s.active && s.id !== me.staff?.id)))
      .catch(() => setCrew([]));
  }, []);

  if (!text) return error ? <p class="error" id="consent-error">{error}</p> : null;
  const body = donorLang === "en" ? text.text.en : text.text["zh-CN"];
  const title = donorLang === "en" ? text.title.en : text.title["zh-CN"];
  const given = value?.consent;
  return (
    <div class="card consent" id="consent">
      <h2>{t("consent_title")}</h2>
      <div class="row">
        <span class="muted">{t("consent_read_in")}:</span>
        <button type="button" id="consent-lang-zh" class={donorLang === "zh-CN" ? "primary" : ""} onClick={() => setDonorLang("zh-CN")}>中文</button>
        <button type="button" id="consent-lang-en" class={donorLang === "en" ? "primary" : ""} onClick={() => setDonorLang("en")}>English</button>
      </div>
      <h3 id="consent-heading">{title}</h3>
      <p class="consent-text" id="consent-text" lang={donorLang}>{body}</p>
      <p class="muted" id="consent-version">{text.version}</p>
      {given ? (
        <div>
          <p class="ok" role="status" id="consent-status" data-kind={given.signature.kind}>
            {given.signature.kind === "signed" ? t("consent_signed")
              : t("consent_witnessed", { witness: crew.find((s) => s.id === (given.signature as { witness_id: string }).witness_id)?.display_name ?? "", reason: (given.signature as { reason: string }).reason })}
          </p>
          {given.signature.kind === "signed" && <SignatureImage strokes={given.signature.strokes} box={text} />}
          <button type="button" id="consent-change" onClick={() => onChange(null)}>{t("consent_change")}</button>
        </div>
      ) : mode === "sign" ? (
        <>
          <SignaturePad text={text} onSigned={(strokes) => onChange({
            consent: { version: text.version, signed_at: new Date().toISOString(), signature: { kind: "signed", strokes } },
            witnessPin: null,
          })} />
          <button type="button" id="consent-cannot-sign" onClick={() => setMode("witness")}>{t("consent_cannot_sign")}</button>
        </>
      ) : (
        <WitnessForm crew={crew} onBack={() => setMode("sign")} onConfirm={(witness, reason, pin) => onChange({
          consent: { version: text.version, signed_at: new Date().toISOString(), signature: { kind: "witnessed", witness_id: witness, reason } },
          witnessPin: pin,
        })} />
      )}
    </div>
  );
}

/** Draws `strokes` (in the core's signature box) on `c`, scaled to its size. */
function drawStrokes(c: HTMLCanvasElement | null, strokes: Point[][], box: ConsentView) {
  const ctx = c?.getContext("2d");
  if (!c || !ctx) return;
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
  const sx = c.width / box.box_width, sy = c.height / box.box_height;
  for (const s of strokes) {
    ctx.beginPath();
    s.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x * sx, y * sy) : ctx.lineTo(x * sx, y * sy)));
    if (s.length === 1) ctx.lineTo(s[0][0] * sx + 0.1, s[0][1] * sy);
    ctx.stroke();
  }
}

/** The signature as given, redrawn from its strokes (what is stored with the screening). */
function SignatureImage({ strokes, box }: { strokes: Point[][]; box: ConsentView }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => drawStrokes(canvas.current, strokes, box), [strokes]);
  return <canvas class="signature-image" id="signature-image" ref={canvas} width={box.box_width / 2} height={box.box_height / 2} />;
}

/** Pointer strokes on a canvas, scaled to the core's signature box; "confirm" enables
 * once the strokes reach the least the core asks (points, and extent across or down). */
function SignaturePad({ text, onSigned }: { text: ConsentView; onSigned: (strokes: Point[][]) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [strokes, setStrokes] = useState<Point[][]>([]);
  const drawing = useRef(false);

  const toBox = (e: PointerEvent): Point => {
    const r = canvas.current!.getBoundingClientRect();
    const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.round(v)));
    return [clamp(((e.clientX - r.left) / r.width) * text.box_width, text.box_width), clamp(((e.clientY - r.top) / r.height) * text.box_height, text.box_height)];
  };

  useEffect(() => drawStrokes(canvas.current, strokes, text), [strokes]);

  const down = (e: PointerEvent) => {
    e.preventDefault();
    canvas.current?.setPointerCapture?.(e.pointerId);
    drawing.current = true;
    setStrokes((s) => [...s, [toBox(e)]]);
  };
  const move = (e: PointerEvent) => {
    if (!drawing.current) return;
    e.preventDefault();
    const p = toBox(e);
    setStrokes((s) => {
      const total = s.reduce((n, k) => n + k.length, 0);
      if (total >= text.max_points) return s;
      const last = s[s.length - 1];
      const prev = last[last.length - 1];
      if (prev && prev[0] === p[0] && prev[1] === p[1]) return s;
      return [...s.slice(0, -1), [...last, p]];
    });
  };
  const up = () => { drawing.current = false; };

  const points = strokes.flat();
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const extent = points.length ? Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) : 0;
  const enough = points.length >= text.min_points && extent >= text.min_extent;
  return (
    <div class="signature">
      <p class="hint">{t("consent_pad_hint")}</p>
      <canvas id="signature-pad" ref={canvas} width={text.box_width} height={text.box_height}
        data-points={String(points.length)} data-strokes={String(strokes.length)}
        style={{ touchAction: "none" }}
        onPointerDown={down} onPointerMove={move} onPointerUp={up} onPointerCancel={up} onPointerLeave={up} />
      <div class="row">
        <button type="button" id="signature-clear" onClick={() => setStrokes([])}>{t("consent_clear")}</button>
        <button type="button" class="primary" id="signature-done" disabled={!enough} onClick={() => onSigned(strokes)}>{t("consent_sign")}</button>
      </div>
    </div>
  );
}

function WitnessForm({ crew, onBack, onConfirm }: { crew: Staff[]; onBack: () => void; onConfirm: (witness: string, reason: string, pin: string) => void }) {
  const [witness, setWitness] = useState("");
  const [reason, setReason] = useState("");
  const [pin, setPin] = useState("");
  return (
    <div class="witness" id="consent-witness-form">
      <label>{t("consent_witness")}<select id="consent-witness" value={witness} onChange={(e) => setWitness(e.currentTarget.value)}>
        <option value="" />
        {crew.map((s) => <option value={s.id}>{s.display_name}</option>)}</select></label>
      <label>{t("consent_reason")}<input id="consent-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} /></label>
      <label>{t("consent_witness_pin")}<input id="consent-witness-pin" type="password" inputMode="numeric" autoComplete="off" value={pin} onInput={(e) => setPin(e.currentTarget.value)} /></label>
      <div class="row">
        <button type="button" class="primary" id="consent-witness-confirm" disabled={!witness || reason.trim() === "" || pin === ""} onClick={() => onConfirm(witness, reason.trim(), pin)}>{t("consent_witness_confirm")}</button>
        <button type="button" id="consent-back" onClick={onBack}>{t("consent_back_to_pad")}</button>
      </div>
    </div>
  );
}
