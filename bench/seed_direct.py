"""Adds users numbered START..END-1 to corporation BENCH1 straight into the database.

Only for the 1,000,000-user deep-page scenario: through the API that many users take too long
to seed. The rows are what the API would store for a plain corporation user.
Usage: seed_direct.py DATABASE_URL START END
"""

import subprocess
import sys

url, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if end <= start:
    sys.exit(0)
if url.startswith("sqlite://"):
    import sqlite3

    db = sqlite3.connect(url[len("sqlite://"):], timeout=60)
    with db:
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
            INSERT INTO users (id, email, user_type, corporation_code, first_name, last_name, role,
                access, email_notifications, excel_download, token_version, version, created_at, updated_at)
            SELECT printf('00000000-0000-4000-8000-%012d', i), printf('u%07d@bench.example.nl', i),
                'corporation', 'BENCH1', 'Bench', printf('Gebruiker %07d', i), 'user', '[]', '[]', 0, 0, 1,
                '2026-01-01 00:00:00', '2026-01-01 00:00:00'
            FROM n""",
            (start, end),
        )
    db.close()
else:
    sql = f"""INSERT INTO users (id, email, user_type, corporation_code, first_name, last_name, role,
            access, email_notifications, excel_download, token_version, version, created_at, updated_at)
        SELECT '00000000-0000-4000-8000-' || lpad(i::text, 12, '0'), 'u' || lpad(i::text, 7, '0') || '@bench.example.nl',
            'corporation', 'BENCH1', 'Bench', 'Gebruiker ' || lpad(i::text, 7, '0'), 'user', '[]', '[]', false, 0, 1,
            now(), now()
        FROM generate_series({start}, {end - 1}) AS i; ANALYZE users;"""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)
print(f"seeded users {start}..{end - 1} directly", file=sys.stderr)
