"""scim2-tester (PyPI) against a running /scim/v2, through its library rather than its CLI.

Usage: scim_tester.py BASE_URL  (the token comes in SCIM_TOKEN, so it stays off `ps`).

Why not the `scim2 test` CLI: its data generator gives `userName` a random UUID, and our
userName is the user's email address (PRODUCT.md rule 1), which the server rightly refuses
to be anything else; every create would fail for that alone. Here the generator is the
tester's own, except that a userName it makes is turned into an address. Nothing else is
changed, and the bar is the CLI's: every result SUCCESS (a SKIPPED fails too).
"""

import os
import sys
import uuid

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
import scim2_tester.filling as filling

generate = filling.generate_random_value


def generate_with_address_user_names(context, path, mutability=None, required=None):
    value = generate(context, path, mutability=mutability, required=required)
    if value is not None and str(path) == "userName":
        return f"scim2-tester-{uuid.uuid4().hex[:12]}@example.com"
    return value


# fill_with_random_values looks the generator up in the module, so this is where it is swapped.
filling.generate_random_value = generate_with_address_user_names

base_url = sys.argv[1]
client = SyncSCIMClient(Client(base_url=base_url, headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"}))
results = check_server(client, resource_types=["User"])
failed = [result for result in results if result.status != Status.SUCCESS]
for result in results:
    print(f"{result.status.name:9} {result.title}" + (f": {result.reason}" if result.status != Status.SUCCESS else ""))
print(f"scim2-tester: {len(results)} checks, {len(results) - len(failed)} SUCCESS, {len(failed)} not")
sys.exit(1 if failed or len(results) < 40 else 0)
