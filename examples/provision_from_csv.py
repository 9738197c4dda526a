"""Provision a corporation's users from an HR export (CSV), with a client generated from
openapi/openapi.json by openapi-python-client.

Run by examples/run.sh (and so by .ci/run). Reads people.csv (200 people), creates them in
two batch calls, runs again and checks that nothing changes, then applies 10 edits.
"""

import csv
import os
import sys
import uuid

from mijn_kwh_gebruikersbeheer_api_client import AuthenticatedClient, Client
from mijn_kwh_gebruikersbeheer_api_client.api.corporations import create_corporation
from mijn_kwh_gebruikersbeheer_api_client.api.integrations import create_token, provision_users
from mijn_kwh_gebruikersbeheer_api_client.api.session import login
from mijn_kwh_gebruikersbeheer_api_client.models import (
    BatchRequest,
    CreateApiTokenRequest,
    CreateCorporationRequest,
    CreateUserRequest,
    LoginRequest,
    Problem,
    SurveyPart,
    TokenScope,
)

BASE_URL = os.environ["MIJNKWH_URL"]
CORPORATION = "VOORB1"
CHUNK = 100


def expect(value, kind):
    if not isinstance(value, kind):
        sys.exit(f"unexpected answer: {value!r}")
    return value


def read_people(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def provision(client, people):
    """Sends the people in chunks, each with its own Idempotency-Key (safe to retry)."""
    totals = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for start in range(0, len(people), CHUNK):
        items = [
            CreateUserRequest(
                email=p["email"],
                first_name=p["first_name"],
                last_name=p["last_name"],
                job_title=p["job_title"] or None,
                phone=p["phone"] or None,
                external_id=p["external_id"],
                corporation_code=CORPORATION,
            ).to_dict()
            # The batch takes any value per item (one that is no user fails on its own), so the
            # generated client leaves each item as given: send the users as their JSON.
            for p in people[start : start + CHUNK]
        ]
        answer = expect(
            provision_users.sync(client=client, body=BatchRequest(items=items), idempotency_key=str(uuid.uuid4())),
            provision_users.BatchResponse,
        )
        for name in totals:
            totals[name] += getattr(answer.summary, name)
        for result in answer.results:
            if result.status == "failed":
                print(f"  item {start + result.index} failed: {result.problem.code} {result.problem.detail}")
    return totals


def main():
    anonymous = Client(base_url=BASE_URL)
    session = expect(
        login.sync(client=anonymous, body=LoginRequest(email=os.environ["ADMIN_EMAIL"], password=os.environ["ADMIN_PASSWORD"])),
        login.AccessToken,
    )
    admin = AuthenticatedClient(base_url=BASE_URL, token=session.access_token)
    created = create_corporation.sync(
        client=admin, body=CreateCorporationRequest(code=CORPORATION, name="Woonstichting Voorbeeld", active_parts=[SurveyPart.REPAIRS])
    )
    if isinstance(created, Problem) and created.code != "corporation_exists":
        sys.exit(f"cannot create the corporation: {created.code}")
    token = expect(create_token.sync(client=admin, body=CreateApiTokenRequest(name="HR-koppeling", scope=TokenScope.PROVISION)), create_token.ApiTokenResponse)
    integrator = AuthenticatedClient(base_url=BASE_URL, token=token.token)

    people = read_people(os.path.join(os.path.dirname(__file__), "people.csv"))
    first = provision(integrator, people)
    print(f"first run:  {first}")
    second = provision(integrator, people)
    print(f"second run: {second}")
    for person in people[:10]:
        person["job_title"] = "Teamleider verhuur"
    third = provision(integrator, people)
    print(f"after 10 edits: {third}")

    ok = (
        first == {"created": 200, "updated": 0, "unchanged": 0, "failed": 0}
        and second == {"created": 0, "updated": 0, "unchanged": 200, "failed": 0}
        and third == {"created": 0, "updated": 10, "unchanged": 190, "failed": 0}
    )
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
