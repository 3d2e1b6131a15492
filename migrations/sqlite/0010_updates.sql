-- Schema 10: signed updates of the desktop app. Who may set the update address and install an
-- update (docs/reference.md, "Updates"). The address itself is a row of `settings`
-- ('update_endpoint'), kept per workstation like the backup folder.
INSERT INTO permissions (code, description) VALUES
    ('updates.manage', 'Set the update address, check for updates and install them');
INSERT INTO role_permissions (role, permission) VALUES
    ('administrator', 'updates.manage');
