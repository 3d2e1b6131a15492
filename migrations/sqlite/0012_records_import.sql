-- Schema 12: importing records from another system (FHIR R4; docs/reference.md, "FHIR import").
-- Administrators import; every import is audited with what it created, found and refused.
INSERT INTO permissions (code, description) VALUES
    ('records.import', 'Import records from another system (FHIR R4)');
INSERT INTO role_permissions (role, permission) VALUES
    ('administrator', 'records.import');
