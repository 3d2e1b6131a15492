-- Schema 8: the clinic's locale, how its dates, times and numbers are written on screen
-- (`de-DE`: 01.12.2026, 10:05; `en-GB`: 1 Dec 2026, 10:05; `en-US`: Dec 1, 2026, 10:05 AM).
--
-- Chosen at first run from the locales the core offers (crates/clinicdesk-core/src/clinic_locale.rs),
-- changed later by an administrator; it syncs with the clinic's row. NULL (stores made before
-- this version) means the locale that follows from the clinic's time zone.
--
-- The journal triggers of `clinics` name its columns; the core writes them anew after migrating.

DROP TRIGGER IF EXISTS clinics_journal_insert;
DROP TRIGGER IF EXISTS clinics_journal_update;

ALTER TABLE clinics ADD COLUMN locale TEXT
    CHECK (locale IS NULL OR (length(locale) BETWEEN 2 AND 16 AND locale GLOB '[a-z][a-z]*'));
