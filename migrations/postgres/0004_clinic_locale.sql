-- Central schema 4: the clinic's locale (see migrations/sqlite/0008_clinic_locale.sql), carried
-- with the clinic's row like its name and time zone.

ALTER TABLE clinicdesk.clinics ADD COLUMN locale text
    CHECK (locale IS NULL OR (length(locale) BETWEEN 2 AND 16 AND locale ~ '^[a-z][a-z]'));
