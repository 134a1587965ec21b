"""schemathesis hooks for .ci/fuzz: the few rules OpenAPI cannot state.

The spec states every rule a schema can express (lengths, patterns, ranges, enums, which
combinations of fields go together). What is left are rules that depend on another parameter,
on the caller, on today's date, on a checksum, or on which objects exist. A schema-valid request
that breaks one is rightly answered 400, and the `positive_data_acceptance` check would report it.

`filter_failure` drops such a report only when the 400 names nothing but these rules AND the
request really breaks them (each rule is re-checked here against the request that was sent), so
any other 400 still fails the run. Every rule is also described in the spec's text.
"""

import datetime
import json
import os
import re

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.file_samples import MEDIA_TYPE_FILE_SAMPLES
from schemathesis.openapi.checks import RejectedPositiveData

# Photos are judged by their content (the spec says so; a schema cannot): a part declared
# `image/png` must be a PNG. Well-formed samples of each accepted type, for schema-valid uploads.
for _media_type in ("image/jpeg", "image/png", "image/webp"):
    schemathesis.openapi.media_type(_media_type, st.just(MEDIA_TYPE_FILE_SAMPLES[_media_type]))


def _today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _time(value):
    try:
        return datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _body(case):
    return case.body if isinstance(case.body, dict) else {}


# Body fields that refer to another object, and the codes for one the caller may not use (it
# does not exist, or is not in the same community, street, compound or not the caller's upload).
# A schema can say what an id looks like, not that it names such an object; for an id in the
# path the API answers 404, which the check accepts.
REFERENCE_FIELDS = {
    "attachment_ids",
    "building_id",
    "building_ids",
    "category_id",
    "compound_ids",
    "into_id",
    "property_company_id",
    "resident_id",
    "scope_id",
    "source_ticket_id",
}
REFERENCE_CODES = {"not_found"}


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


# What each kind of pledge or target must state.
NEEDS = {"money": ("amount_fen",), "labour": ("minutes",), "material": ("item", "quantity")}


def _lacks(thing, field):
    """Whether `thing` (a pledge or a target) is of a kind that needs `field` and leaves it out."""
    return isinstance(thing, dict) and field in NEEDS.get(thing.get("kind"), ()) and _blank(thing.get(field))


def _explained(case, error):
    """Whether this field error is one of the rules a schema cannot state, and the request
    breaks it."""
    path, method = case.operation.path, case.method.upper()
    field, code = error.get("field"), error.get("code")
    body, query = _body(case), case.query or {}
    if field in REFERENCE_FIELDS and code in REFERENCE_CODES:
        return True
    # One-time codes (a staff member's WeChat binding code, a household's invitation) exist
    # only once the server has issued them, and a password is right only for its account: a
    # generated one is rightly "invalid" (the spec's text says so).
    if (path, field, code) in {
        ("/api/v1/auth/wechat/bind", "binding_code", "invalid"),
        ("/api/v1/me/household-invitation", "code", "invalid"),
        ("/api/v1/me/password", "current_password", "wrong_password"),
    }:
        return True
    # A content-check keyword of punctuation and spaces only would match every text.
    if path == "/api/v1/content-keywords" and field == "word" and code == "invalid":
        return not any(c.isalnum() for c in str(body.get("word") or ""))
    # A ticket is not merged into itself (a rule between the path and the body).
    if path == "/api/v1/tickets/{id}/merge" and field == "into_ticket_id" and code == "invalid":
        ticket = (case.path_parameters or {}).get("id")
        return str(body.get("into_ticket_id")) == str(ticket)
    # Fund movements happen on a day not in the future (China time) and not before 2000; a
    # transfer goes to another account than the one in the path.
    if path.startswith("/api/v1/fund-") and field == "occurred_on" and code == "out_of_range":
        day = _date(body.get("occurred_on"))
        return day is None or day.year < 2000 or day >= _today()
    if path == "/api/v1/fund-accounts/{id}/transfers" and field == "to_account_id":
        account = (case.path_parameters or {}).get("id")
        return code == "invalid" and str(body.get("to_account_id")) == str(account)
    # A poll with the custom preset states its own rules; a late roll addition names exactly
    # one of a resident and a household (rules between two fields).
    if path in ("/api/v1/polls", "/api/v1/polls/{id}") and field == "rules" and code == "required":
        return body.get("preset") == "custom" and not body.get("rules")
    if path == "/api/v1/polls/{id}/roll" and field == "resident_id" and code == "exactly_one":
        return (body.get("resident_id") is None) == (body.get("household_id") is None)
    # Proposals: a new place names its level and the place together; a lead is a resident or
    # an account, not both; a failing 验收 says what is to be redone.
    if path == "/api/v1/proposals/{id}" and field == "scope_id" and code == "required":
        return (body.get("scope_type") is None) != (body.get("scope_id") is None)
    # A community's consultation policy names a preset for its decisions: custom rules are
    # given when a decision opens, not once for all.
    if path == "/api/v1/consultation-policies/{community_id}" and field == "decision_preset":
        return code == "not_allowed" and body.get("decision_preset") == "custom"
    if path == "/api/v1/proposals/{id}/set-lead" and field == "resident_id" and code == "exactly_one":
        return (body.get("resident_id") is None) == (body.get("user_id") is None)
    if path == "/api/v1/proposals/{id}/acceptances" and field == "note" and code == "required":
        return body.get("verdict") == "fail" and _blank(body.get("note"))
    # A pledge, and each of a proposal's targets, gives the figure its kind needs: money an
    # amount, labour minutes, materials an item and a quantity.
    if code == "required":
        if path == "/api/v1/proposals/{id}/pledges":
            return _lacks(body, field)
        match = re.fullmatch(r"targets\[(\d+)\]\.(\w+)", str(field))
        if match and path in ("/api/v1/proposals", "/api/v1/proposals/{id}"):
            targets = body.get("targets") or []
            index = int(match.group(1))
            return index < len(targets) and _lacks(targets[index], match.group(2))
    # Tickets' cursors encode the sort they were issued for: only one the API returned works.
    if path == "/api/v1/tickets" and field == "cursor" and code == "invalid":
        return True
    # A purpose has at least two letters or digits (in any script), and an unmasked export
    # needs one (a rule between two query parameters).
    if field == "purpose":
        if path == "/api/v1/residents/export":
            purpose = str(query.get("purpose") or "").strip()
            if code == "required":
                return str(query.get("unmasked")).lower() == "true" and not purpose
        else:
            purpose = str(body.get("purpose") or "").strip()
        return code == "invalid" and sum(c.isalnum() for c in purpose) < 2
    # A time window must not end before it starts.
    if path in ("/api/v1/tickets/stats", "/api/v1/tickets/export") and field == "from":
        start, end = _time(query.get("from")), _time(query.get("to"))
        return start is not None and end is not None and start > end
    # Staff (no household of their own) file on a resident's behalf and say how it reached them.
    if path == "/api/v1/tickets" and method == "POST" and field == "channel":
        return code == "required" and body.get("channel") in (None, "mini_program")
    # Green (urgent) deadlines are not longer than orange ones.
    if path.endswith("/ticket-policy") and field == "green_days":
        return body.get("green_days", 0) > body.get("orange_days", 0)
    if path.startswith("/api/v1/residents") and method in ("POST", "PATCH"):
        # The ID number's check digit and the birth date it encodes.
        if field == "id_number" and code == "id_number_invalid":
            return True
        # A birth date not in the future, and agreeing with the ID number.
        if field == "birth_date" and code == "mismatch":
            return bool(body.get("id_number"))
        if field == "birth_date" and code == "invalid":
            born = _date(body.get("birth_date"))
            return born is None or born > _today()
        # Moving out before moving in (against the stored date on an update).
        if field == "moved_out_on" and code == "invalid":
            return True
    return False


def _note(case, errors):
    """With FUZZ_REPORT_DIR set, what was dropped goes to filtered.txt there, for review."""
    directory = os.environ.get("FUZZ_REPORT_DIR")
    if directory:
        with open(os.path.join(directory, "filtered.txt"), "a") as f:
            for e in errors:
                f.write(f"{case.method.upper()} {case.operation.path} {e.get('field')} {e.get('code')}\n")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        return True
    if errors and all(_explained(case, e) for e in errors):
        _note(case, errors)
        return False
    return True
