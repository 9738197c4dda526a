"""Provisioning 10,000 users: through POST /users/batch (500 a call) against POST /users one
by one, on the same fresh service, in one run. Prints a Markdown table row per way."""

import os
import sys
import time

import httpx

BASE = os.environ["MIJNKWH_URL"]
COUNT = int(os.environ.get("BENCH_USERS", "10000"))


def person(prefix, i):
    return {"email": f"{prefix}{i:05d}@bench.example.nl", "first_name": "Bench", "last_name": f"Gebruiker {i}",
            "corporation_code": "BENCH1", "external_id": f"{prefix}-{i:05d}"}


def main():
    with httpx.Client(base_url=BASE, timeout=60) as client:
        token = client.post("/auth/login", json={"email": os.environ["ADMIN_EMAIL"], "password": os.environ["ADMIN_PASSWORD"]}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        client.post("/corporations", json={"code": "BENCH1", "name": "Bench", "active_parts": []})

        started = time.perf_counter()
        calls = 0
        for start in range(0, COUNT, 500):
            items = [person("batch", i) for i in range(start, min(start + 500, COUNT))]
            answer = client.post("/users/batch", json={"items": items})
            calls += 1
            assert answer.status_code == 200 and answer.json()["summary"]["created"] == len(items), answer.text
        batch_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for i in range(COUNT):
            answer = client.post("/users", json=person("single", i))
            assert answer.status_code == 201, answer.text
        single_seconds = time.perf_counter() - started

    print(f"| batch (500 per call) | {COUNT} | {calls} | {batch_seconds:.1f} s | {COUNT / batch_seconds:.0f} users/s |")
    print(f"| single POST /users | {COUNT} | {COUNT} | {single_seconds:.1f} s | {COUNT / single_seconds:.0f} users/s |")
    print(f"| ratio | | {COUNT / calls:.0f}× fewer calls | {single_seconds / batch_seconds:.1f}× faster | |")


if __name__ == "__main__":
    sys.exit(main())
