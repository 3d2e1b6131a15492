// The clinic's conventions for dates, times and numbers, in one place: every screen formats
// through these functions, in the clinic's time zone and locale, never the computer's.
//
// The locale follows the clinic's time zone (a Berlin clinic writes 01.12.2026, 10:05; a London
// one 1 Dec 2026, 10:05; a New York one Dec 1, 2026, 10:05 AM) until the clinic chooses its own.

export type Conventions = { locale: string; timeZone: string };

/** The locale a clinic in `timeZone` writes by (docs/reference.md, "Dates, times and numbers"). */
export function localeForTimeZone(timeZone: string): string {
  const byZone: Record<string, string> = {
    "Europe/Berlin": "de-DE", "Europe/Vienna": "de-AT", "Europe/Zurich": "de-CH", "Europe/London": "en-GB",
    "Europe/Dublin": "en-IE", "Europe/Paris": "fr-FR", "Europe/Madrid": "es-ES", "Europe/Rome": "it-IT",
    "Europe/Amsterdam": "nl-NL", "Europe/Brussels": "nl-BE", "Europe/Lisbon": "pt-PT", "Europe/Warsaw": "pl-PL",
    "Europe/Stockholm": "sv-SE", "Europe/Oslo": "nb-NO", "Europe/Copenhagen": "da-DK", "Europe/Helsinki": "fi-FI",
    "Australia/Sydney": "en-AU", "Australia/Melbourne": "en-AU", "Pacific/Auckland": "en-NZ", "Asia/Kolkata": "en-IN",
    "America/Toronto": "en-CA", "America/Vancouver": "en-CA", "America/Mexico_City": "es-MX", "America/Sao_Paulo": "pt-BR",
  };
  if (byZone[timeZone]) return byZone[timeZone];
  if (timeZone.startsWith("America/") || timeZone.startsWith("US/")) return "en-US";
  return "en-GB";
}

let current: Conventions = { locale: "en-GB", timeZone: "UTC" };

/** Sets the conventions every formatter uses (at sign-in, from the clinic's time zone). */
export function useClinicConventions(timeZone: string): void {
  current = { locale: localeForTimeZone(timeZone), timeZone };
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
