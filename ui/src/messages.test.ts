import { describe, expect, it } from "vitest";
import { className, renderMessage } from "./messages";
import { errorText } from "./api";
import { setLang } from "./i18n";

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

describe("chair refusals and names", () => {
  it("show the core's refusal in the screen's language", () => {
    const refused = {
      code: "scan_refused", field: "scan", detail: null,
      message: "this label belongs to ANOTHER DONATION (G123426000002), not to G123426000001 in this chair; remove it and find the right label",
      text: { code: "chair.other_donation", params: { din: "G123426000002", expected: "G123426000001" } },
    };
    expect(errorText(refused)).toBe("扫描被拒绝: 此标签属于其他献血者（G123426000002），不是本次采血 G123426000001 的：请取下，找到正确的标签");
    setLang("en");
    expect(errorText(refused)).toBe(`Scan refused: ${refused.message}`);
    // A refusal without a title of its own still shows the core's words.
    const released = {
      code: "labels", field: null, detail: null, message: "donation X was already released from the chair",
      text: { code: "chair.already_released", params: { din: "X" } },
    };
    expect(errorText(released)).toBe("Not done: donation X was already released from the chair");
    setLang("zh-CN");
    expect(errorText(released)).toBe("操作未完成: X 的血袋已经离开采血位（已放行）");
  });

  it("name product classes and label pieces from the catalogue", () => {
    expect(className("red_cell_whole_blood", "zh-CN")).toBe("全血（制备红细胞）");
    expect(className("red_cell_whole_blood", "en")).toBe("Whole blood for red cells");
    expect(renderMessage({ code: "piece.tube", params: { n: "2" } }, "zh-CN")).toBe("标本管 2");
  });
});
