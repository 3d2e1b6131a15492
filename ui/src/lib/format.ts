// The clinic's conventions for dates, times and numbers, in one place: every screen formats
// through these functions, in the clinic's time zone and locale, never the computer's.
//
// The clinic chooses its locale at first run (a Berlin clinic writes 01.12.2026, 10:05; a London
// one 1 Dec 2026, 10:05; a New York one Dec 1, 2026, 10:05 AM); the core keeps it and the
// default that follows from the time zone (crates/clinicdesk-core/src/clinic_locale.rs).

export type Conventions = { locale: string; timeZone: string };

let current: Conventions = { locale: "en-GB", timeZone: "UTC" };

/** Sets the conventions every formatter uses (at sign-in, and when an administrator changes them). */
export function useClinicConventions(timeZone: string, locale: string): void {
  current = { locale, timeZone };
}

/** The clinic's time zone, as the formatters use it. */
export function clinicTimeZone(): string {
  return current.timeZone;
}

/** The clinic's locale, for components that format by themselves (the calendar). */
export function clinicLocale(): string {
  return current.locale;
}

const at = (value: string | Date) => (value instanceof Date ? value : new Date(value));

/** A moment's date: "01.12.2026", "1 Dec 2026", "Dec 1, 2026". */
export function formatDate(value: string | Date, conventions: Conventions = current): string {
  return new Intl.DateTimeFormat(conventions.locale, { dateStyle: "medium", timeZone: conventions.timeZone }).format(at(value));
}

/** A moment's time of day: "10:05", "10:05 AM". */
export function formatTime(value: string | Date, conventions: Conventions = current): string {
  return new Intl.DateTimeFormat(conventions.locale, { timeStyle: "short", timeZone: conventions.timeZone }).format(at(value));
}

/** A moment: date and time of day. */
export function formatDateTime(value: string | Date, conventions: Conventions = current): string {
  return new Intl.DateTimeFormat(conventions.locale, { dateStyle: "medium", timeStyle: "short", timeZone: conventions.timeZone }).format(at(value));
}

/** A calendar date without a time (a birth date, `YYYY-MM-DD`): never shifted by a time zone. */
export function formatCalendarDate(day: string, conventions: Conventions = current): string {
  const [year, month, date] = day.split("-").map(Number);
  if (!year || !month || !date) return day;
  return new Intl.DateTimeFormat(conventions.locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, date)));
}

/** A count or a measured value: "1.234,5" or "1,234.5". */
export function formatNumber(value: number, conventions: Conventions = current, decimals?: number): string {
  return new Intl.NumberFormat(conventions.locale, decimals === undefined ? {} : { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
}

/** The moment (UTC, ISO 8601) a calendar day `YYYY-MM-DD` begins in the clinic's time zone, or
 *  `null` if `day` is not such a day. `daysLater` moves to a later day first (1: the day's end). */
export function startOfClinicDay(day: string, daysLater = 0, conventions: Conventions = current): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const wall = Date.UTC(year, month - 1, date + daysLater);
  const check = new Date(Date.UTC(year, month - 1, date));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) return null;
  // The zone's offset at that wall-clock time, read back through Intl (twice: the offset at the
  // guess may differ from the one at the answer across a clock change).
  const offsetAt = (moment: number) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone: conventions.timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
        .formatToParts(new Date(moment))
        .map((part) => [part.type, part.value]),
    );
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - moment;
  };
  let moment = wall - offsetAt(wall);
  moment = wall - offsetAt(moment);
  return new Date(moment).toISOString();
}

/** How `conventions` write now and a number, for choosing a locale: "01.12.2026, 10:05 · 1.234,5". */
export function conventionsExample(conventions: Conventions): string {
  return `${formatDateTime(new Date(), conventions)} · ${formatNumber(1234.5, conventions, 1)}`;
}
