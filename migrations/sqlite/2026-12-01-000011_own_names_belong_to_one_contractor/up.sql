-- Rule 8: an own name ("eigen notatie") belongs to at most one contractor of a corporation, in
-- force or pending, so that no two contractors can receive Excel over the same respondents. A
-- contractor's rows are the union of the own names in force and in its pending request.
CREATE TABLE contractor_own_names (
    corporation_code TEXT NOT NULL REFERENCES corporations (code),
    name TEXT NOT NULL,
    contractor_id TEXT NOT NULL REFERENCES contractors (id) ON DELETE CASCADE,
    PRIMARY KEY (corporation_code, name)
);
CREATE INDEX contractor_own_names_contractor ON contractor_own_names (contractor_id);

-- What is in force and pending now. Where two contractors claimed one name already, the
-- first keeps it here; the other's next request or approval is refused until it is resolved.
INSERT INTO contractor_own_names (corporation_code, name, contractor_id)
SELECT c.corporation_code, j.value, c.id
FROM report_settings r JOIN contractors c ON c.id = r.contractor_id, json_each(r.own_names) j
WHERE true
ON CONFLICT DO NOTHING;
INSERT INTO contractor_own_names (corporation_code, name, contractor_id)
SELECT a.corporation_code, j.value, a.contractor_id
FROM approvals a, json_each(a.proposed, '$.own_names') j
WHERE a.status = 'pending'
ON CONFLICT DO NOTHING;
