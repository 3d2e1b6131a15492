import { describe, expect, it } from "vitest";
import { formatCalendarDate, formatDate, formatDateTime, formatNumber, formatTime, startOfClinicDay } from "./format";

const berlin = { locale: "de-DE", timeZone: "Europe/Berlin" };
const london = { locale: "en-GB", timeZone: "Europe/London" };
const newYork = { locale: "en-US", timeZone: "America/New_York" };
// 09:05 UTC on 1 December 2026: 10:05 in Berlin, 09:05 in London, 04:05 in New York.
const moment = "2026-12-01T09:05:00.000Z";
const plain = (text: string) => text.replace(/\u202f|\u00a0/g, " ");

describe("the clinic's conventions", () => {
  it("write a moment in the clinic's zone and locale", () => {
    expect(plain(formatDateTime(moment, berlin))).toBe("01.12.2026, 10:05");
    expect(plain(formatDateTime(moment, london))).toBe("1 Dec 2026, 09:05");
    expect(plain(formatDateTime(moment, newYork))).toBe("Dec 1, 2026, 4:05 AM");
    expect(plain(formatTime(moment, berlin))).toBe("10:05");
    expect(plain(formatTime(moment, newYork))).toBe("4:05 AM");
    expect(formatDate(moment, london)).toBe("1 Dec 2026");
  });

  it("never shift a birth date by a time zone", () => {
    expect(formatCalendarDate("1982-03-03", berlin)).toBe("03.03.1982");
    expect(formatCalendarDate("1982-03-03", london)).toBe("3 Mar 1982");
    expect(formatCalendarDate("1982-03-03", newYork)).toBe("Mar 3, 1982");
  });

  it("write numbers as the locale does", () => {
    expect(plain(formatNumber(1234.5, berlin))).toBe("1.234,5");
    expect(formatNumber(1234.5, london)).toBe("1,234.5");
    expect(formatNumber(37.25, newYork, 1)).toBe("37.3");
  });
});

describe("a day typed in a filter", () => {
  it("begins at midnight in the clinic's zone, not the computer's", () => {
    expect(startOfClinicDay("2026-12-01", 0, berlin)).toBe("2026-11-30T23:00:00.000Z");
    expect(startOfClinicDay("2026-07-01", 0, berlin)).toBe("2026-06-30T22:00:00.000Z");
    expect(startOfClinicDay("2026-12-01", 1, newYork)).toBe("2026-12-02T05:00:00.000Z");
    expect(startOfClinicDay("2026-03-29", 1, berlin)).toBe("2026-03-29T22:00:00.000Z");
  });

  it("is refused when it is not a day", () => {
    expect(startOfClinicDay("1.12.2026", 0, berlin)).toBeNull();
    expect(startOfClinicDay("2026-02-30", 0, berlin)).toBeNull();
  });
});
