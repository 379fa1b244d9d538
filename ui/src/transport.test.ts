import { describe, expect, it } from "vitest";
import { errorText, ScreenOptions } from "./api";
import { options } from "./options";
import { cst, inExcursion } from "./screens/transport";

describe("transport screen helpers", () => {
  it("shows instants in China Standard Time", () => {
    // The offset screen_options reports for China Standard Time (UTC+8).
    const offset = 28_800;
    expect(cst("2026-05-01T01:05:00Z", offset)).toBe("2026-05-01 09:05");
    expect(cst("2026-05-01T20:00:00+00:00", offset)).toBe("2026-05-02 04:00");
    expect(cst("not a time", offset)).toBe("not a time");
  });

  it("shows the raw instant, never a guessed zone, until the core's options have loaded", () => {
    options.value = null;
    expect(cst("2026-05-01T01:05:00Z")).toBe("2026-05-01T01:05:00Z");
    options.value = { utc_offset_seconds: 28_800 } as ScreenOptions;
    expect(cst("2026-05-01T01:05:00Z")).toBe("2026-05-01 09:05");
    options.value = null;
  });

  it("highlights exactly the readings inside an excursion the core reported", () => {
    const excursions = [{ from: "2026-05-01T01:10:00Z", to: "2026-05-01T01:20:00Z", extreme_c: 12.5, readings: 2 }];
    expect(inExcursion("2026-05-01T01:10:00Z", excursions)).toBe(true);
    expect(inExcursion("2026-05-01T01:20:00Z", excursions)).toBe(true);
    expect(inExcursion("2026-05-01T01:09:59Z", excursions)).toBe(false);
    expect(inExcursion("2026-05-01T01:21:00Z", [])).toBe(false);
  });

  it("keeps the core's specifics for cold-chain refusals", () => {
    const text = errorText({ code: "packing_refused", field: "scan", message: "Z999926000001 不能装入单采血小板箱", detail: null });
    expect(text).toBe("不能装入此箱: Z999926000001 不能装入单采血小板箱");
    const csv = errorText({ code: "logger_csv", field: "file", message: "line 3, column \"temp\": not a number", detail: { line: 3 } });
    expect(csv).toContain("line 3");
  });
});
