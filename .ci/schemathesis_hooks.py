"""Schemathesis hooks for .ci/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

They do two things, and nothing else. No check is disabled, no operation is excluded, no
failure is filtered.

1. Keep the callers the run authenticates as alive (the issue: "keep the kwh_admin it tests
   with from being deleted (exclude only that, and say so)"). A generated case is dropped when
   it would delete, edit (demote, and so revoke the tokens of) one of the protected users:
     - DELETE /users/{id} and PATCH /users/{id} with a protected id;
     - POST /users/batch with an item whose email is a protected user's (batch updates match on
       the email address).
   No endpoint changes a password without a secret link token from an email
   (POST /invitations/accept, POST /auth/password-reset/confirm), so nothing else can lock the
   callers out; API tokens (DELETE /api-tokens/{id}) are not what the run authenticates with.
   The protected ids and emails come from MIJNKWH_PROTECTED_IDS / MIJNKWH_PROTECTED_EMAILS
   (comma-separated). A `before_call` guard fails the run loudly if such a request is about to
   be sent anyway (e.g. by a phase that bypasses the filter), instead of silently locking out.

2. Behave like a correct client with `Idempotency-Key`: a key is a fresh value per distinct
   request ("A key of your choice ... e.g. a UUID"). Schemathesis draws keys from a tiny space
   ("0", "A", ...) and reuses them across different bodies, which the service rightly answers
   with 422 (key reused with another body). So a generated key that the service would accept
   and store (1..255 characters of tab, space or visible ASCII, not only whitespace) is
   replaced with a fresh UUID before the request is sent. Keys it does not accept (empty, too
   long, control or non-ASCII characters) are sent as generated, so the service's rejection of
   bad keys, and what the document says about them, are still tested.
"""

from __future__ import annotations

import atexit
import collections
import os
import uuid

import schemathesis


def _csv(name: str) -> set[str]:
    return {v.strip() for v in os.environ.get(name, "").split(",") if v.strip()}


def _canonical_id(value: object) -> str:
    text = str(value).strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text.lower()


PROTECTED_IDS = {_canonical_id(v) for v in _csv("MIJNKWH_PROTECTED_IDS")}
PROTECTED_EMAILS = {v.lower() for v in _csv("MIJNKWH_PROTECTED_EMAILS")}
if not PROTECTED_IDS or not PROTECTED_EMAILS:
    raise RuntimeError("set MIJNKWH_PROTECTED_IDS and MIJNKWH_PROTECTED_EMAILS")

_USER_ITEM = "/users/{id}"
_BATCH = "/users/batch"


def _targets_protected_user(case) -> str | None:
    """Why this case would touch a protected caller, or None."""
    method = case.method.upper()
    path = case.operation.path
    if path == _USER_ITEM and method in ("DELETE", "PATCH"):
        user_id = (case.path_parameters or {}).get("id")
        if user_id is not None and _canonical_id(user_id) in PROTECTED_IDS:
            return f"{method} {path} on protected user {user_id}"
    if path == _BATCH and method == "POST" and isinstance(case.body, dict):
        items = case.body.get("items")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("email"), str):
                    if item["email"].strip().lower() in PROTECTED_EMAILS:
                        return f"POST {path} updating protected user {item['email']!r}"
    return None


_DROPPED: collections.Counter = collections.Counter()


def _report_dropped() -> None:
    path = os.environ.get("MIJNKWH_DROPPED_LOG")
    if path:
        with open(path, "w") as out:
            for what, count in sorted(_DROPPED.items()):
                out.write(f"{count} x {what}\n")


atexit.register(_report_dropped)


@schemathesis.hook
def filter_case(ctx, case) -> bool:
    reason = _targets_protected_user(case)
    if reason is None:
        return True
    _DROPPED[f"{case.method.upper()} {case.operation.path}"] += 1
    return False


def _acceptable_key(value: object) -> bool:
    """A key the service takes and stores: what actix reads as text (tab, space and visible
    ASCII), not empty once HTTP strips the surrounding whitespace, at most 255 bytes."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 255
        and value.strip(" \t") != ""
        and all(c == "\t" or 0x20 <= ord(c) <= 0x7E for c in value)
    )


@schemathesis.hook
def before_call(ctx, case, kwargs) -> None:
    reason = _targets_protected_user(case)
    if reason is not None:
        raise RuntimeError(f"refusing to send a request that would lock the run out: {reason}")
    headers = case.headers
    if headers and "Idempotency-Key" in headers and _acceptable_key(headers["Idempotency-Key"]):
        headers["Idempotency-Key"] = str(uuid.uuid4())
