-- A housing association (woningcorporatie): the tenant of this system.
-- active_parts is a JSON array of survey part keys, kept as TEXT so both backends share it.
CREATE TABLE corporations (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    active_parts TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
