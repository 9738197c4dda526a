"""Seeds BENCH_USERS users through the batch endpoint and writes their ids to IDS_FILE."""

import os

import httpx

BASE = os.environ["MIJNKWH_URL"]
COUNT = int(os.environ.get("BENCH_USERS", "10000"))

with httpx.Client(base_url=BASE, timeout=120) as client:
    client.headers["Authorization"] = f"Bearer {os.environ['TOKEN']}"
    client.post("/corporations", json={"code": "BENCH1", "name": "Bench", "active_parts": []})
    ids = []
    for start in range(0, COUNT, 500):
        items = [{"email": f"u{i:07d}@bench.example.nl", "first_name": "Bench", "last_name": f"Gebruiker {i:07d}",
                  "corporation_code": "BENCH1"} for i in range(start, min(start + 500, COUNT))]
        answer = client.post("/users/batch", json={"items": items}).json()
        ids += [r["id"] for r in answer["results"] if r["id"]]
    with open(os.environ["IDS_FILE"], "w") as handle:
        handle.write("\n".join(ids) + "\n")
    print(f"seeded {len(ids)} users")
