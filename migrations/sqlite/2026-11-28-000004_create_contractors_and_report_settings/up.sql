-- A maintenance partner (aannemer) of one corporation. name_key is the name folded to lower
-- case, unique per corporation, so "Installatietechniek" exists once per corporation.
CREATE TABLE contractors (
    id TEXT PRIMARY KEY NOT NULL,
    corporation_code TEXT NOT NULL REFERENCES corporations (code),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contractors_corporation_name_key ON contractors (corporation_code, name_key);

-- "Alle aannemers": every spelling of a contractor name seen in a corporation's delivered files.
CREATE TABLE contractor_names (
    id TEXT PRIMARY KEY NOT NULL,
    corporation_code TEXT NOT NULL REFERENCES corporations (code),
    name TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    seen_count INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX contractor_names_corporation_name_key ON contractor_names (corporation_code, name);

-- The report settings in force for a contractor; changed only by an approved request.
-- Lists are JSON arrays in TEXT. version counts approvals, so a request can be pinned to it.
CREATE TABLE report_settings (
    contractor_id TEXT PRIMARY KEY NOT NULL REFERENCES contractors (id) ON DELETE CASCADE,
    parts TEXT NOT NULL,
    own_names TEXT NOT NULL,
    partner_names TEXT NOT NULL,
    excel_download BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    approval_id TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- A requested change of report settings and KWH's decision about it.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY NOT NULL,
    contractor_id TEXT NOT NULL REFERENCES contractors (id) ON DELETE CASCADE,
    corporation_code TEXT NOT NULL,
    status TEXT NOT NULL,
    proposed TEXT NOT NULL,
    -- The version of the settings in force when requested (0: none yet).
    based_on_version INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    reason TEXT
);
CREATE INDEX approvals_contractor_status ON approvals (contractor_id, status);
CREATE INDEX approvals_corporation ON approvals (corporation_code, id);
-- At most one pending request per contractor: the backstop of "a newer request supersedes".
CREATE UNIQUE INDEX approvals_one_pending ON approvals (contractor_id) WHERE status = 'pending';
