-- Schema 11: exporting records (FHIR R4; docs/reference.md, "Exporting records"). Managers export
-- the whole clinic; clinicians (and managers) one patient's chart. Both are audited.
INSERT INTO permissions (code, description) VALUES
    ('records.export', 'Export the whole clinic''s records (FHIR R4 bulk data)'),
    ('records.export_patient', 'Export one patient''s chart (a FHIR R4 bundle)');
INSERT INTO role_permissions (role, permission) VALUES
    ('manager', 'records.export'),
    ('manager', 'records.export_patient'),
    ('clinician', 'records.export_patient');
