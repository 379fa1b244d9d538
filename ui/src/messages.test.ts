import { describe, expect, it } from "vitest";
import { renderMessage } from "./messages";

describe("core messages", () => {
  it("render from the catalogue in both languages, as the core does", () => {
    const hb = {
      code: "eligibility.hemoglobin_low",
      params: { value: "114", min: "115", sex: { code: "eligibility.women" } },
    };
    expect(renderMessage(hb, "zh-CN")).toBe("血红蛋白 114 g/L，低于女性最低要求 115 g/L");
    expect(renderMessage(hb, "en")).toBe("Haemoglobin 114 g/L is below the 115 g/L minimum for women");
  });

  it("joins lists, capitalises and takes the rules table's own words", () => {
    const interval = {
      code: "eligibility.interval_not_met",
      params: {
        from: { code: "procedure.whole_blood" }, to: { code: "procedure.whole_blood" },
        period: { "zh-CN": "6个月", en: "6 months" }, previous: "2026-01-01", next: "2026-07-01",
      },
    };
    expect(renderMessage(interval, "en")).toBe(
      "Whole blood → whole blood needs 6 months: last whole blood donation 2026-01-01, eligible from 2026-07-01");
    const volume = { code: "eligibility.volume_not_allowed", params: { volume: "250", allowed: ["200", "300", "400"] } };
    expect(renderMessage(volume, "zh-CN")).toBe("采集量 250 mL 不符合规定，只能为 200、300、400 mL");
    expect(renderMessage({ code: "no.such" }, "en")).toBe("no.such");
  });
});
