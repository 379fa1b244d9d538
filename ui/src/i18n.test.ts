import { describe, expect, it } from "vitest";
import { errorText } from "./api";
import { clockTime, lang, setLang, t, translations } from "./i18n";

describe("translations", () => {
  it("every string exists, non-empty, in zh-CN and English", () => {
    const zh = translations["zh-CN"];
    const en = translations.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const [key, value] of Object.entries(zh)) {
      expect(value.trim(), `zh-CN ${key}`).not.toBe("");
      expect(en[key as keyof typeof en].trim(), `en ${key}`).not.toBe("");
    }
  });

  it("zh-CN is the default and placeholders are filled", () => {
    expect(lang.value).toBe("zh-CN");
    expect(t("err_wrong_pin", { remaining: 3 })).toBe("PIN 码错误，还可尝试 3 次");
    setLang("en");
    expect(t("err_wrong_pin", { remaining: 3 })).toBe("Wrong PIN: 3 attempts left");
    setLang("zh-CN");
  });
});

describe("errorText", () => {
  it("translates known command errors with their figures", () => {
    expect(errorText({ code: "wrong_pin", field: "pin", message: "wrong PIN", detail: { remaining: 2 } }))
      .toBe("PIN 码错误，还可尝试 2 次");
    expect(errorText({ code: "forbidden", field: null, message: "x", detail: { role: "physician" } }))
      .toBe("您的岗位无权执行此操作（需要：体检医生）");
  });

  it("keeps the core's specifics for refused scans and validation errors", () => {
    const scan = errorText({ code: "scan_refused", field: "scan", message: "this label belongs to ANOTHER DONATION", detail: null });
    expect(scan).toBe("扫描被拒绝: this label belongs to ANOTHER DONATION");
    const invalid = errorText({ code: "invalid", field: "name", message: "name: must not be empty", detail: null });
    expect(invalid).toContain("name: must not be empty");
  });

  it("renders a refusal in the catalogue's words in the screen's language", () => {
    const pin = errorText({
      code: "invalid", field: "pin", message: "PIN: …", detail: null,
      text: { code: "staff_account.pin_too_short_to_sign", params: { roles: "driver", digits: "6" } },
    });
    expect(pin).toContain("driver 的账户用 PIN 签字");
    expect(pin).toContain("须至少 6 位数字");
  });

  it("never loses an unexpected error", () => {
    expect(errorText(new Error("boom"))).toContain("boom");
  });
});

describe("clockTime", () => {
  it("is 24-hour with no AM/PM in either language", () => {
    for (const l of ["zh-CN", "en"] as const) {
      setLang(l);
      const shown = clockTime("2026-11-25T09:00:37Z");
      expect(shown, l).toMatch(/^\d{2}:\d{2}:\d{2}$/);
      expect(shown.endsWith(":00:37"), l).toBe(true);
    }
    setLang("zh-CN");
  });
});

