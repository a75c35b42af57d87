"""The OpenAPI document describes exactly the /api/v1 routes the app registers."""

import re

import pytest

from workshop.api import openapi

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
OPERATION_KEYS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def registered_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        operations |= {(path, m.lower()) for m in rule.methods - IGNORED_METHODS}
    return operations


def documented_operations(document) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in OPERATION_KEYS
    }


def test_document_lists_exactly_the_registered_routes(app, document):
    registered = registered_operations(app)
    assert ("/events/{event_id}", "patch") in registered  # the conversion works
    assert documented_operations(document) == registered


def test_document_basics(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["servers"] == [{"url": "/api/v1"}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    schemas = document["components"]["schemas"]
    assert {"Event", "EventInput", "Unit", "Error"} <= set(schemas)
    assert set(schemas["Error"]["properties"]) == {"error", "message", "fields"}


def test_every_reference_resolves(document):
    text = repr(document)
    refs = set(re.findall(r"'\$ref': '([^']+)'", text))
    assert refs
    for ref in refs:
        node = document
        assert ref.startswith("#/")
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_every_operation_is_documented_with_errors(document):
    for path, item in document["paths"].items():
        placeholders = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert placeholders == declared, path
        for method, operation in item.items():
            if method not in OPERATION_KEYS:
                continue
            assert operation["operationId"]
            assert operation["summary"]
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (path, method)
            assert "401" in responses, (path, method)  # a bad token is refused everywhere
            if method in ("post", "patch", "put"):
                assert operation["requestBody"]["content"]["application/json"]["schema"]
                assert {"400", "403", "422"} <= set(responses), (path, method)
                assert operation["security"] == [{"bearer": []}]


def test_schema_fields_match_what_the_api_answers(client, document, make_event, make_unit):
    make_unit()
    event = make_event()
    schemas = document["components"]["schemas"]
    body = client.get(f"{PREFIX}/events/{event.id}").get_json()
    assert set(schemas["Event"]["properties"]) == set(body)
    assert set(schemas["Event"]["required"]) == set(body)
    writable = set(body) - {"id", "owner_id", "confirmed", "waitlisted", "checked_in"}
    assert set(schemas["EventInput"]["properties"]) == writable
    unit = client.get(f"{PREFIX}/units").get_json()["items"][0]
    assert set(schemas["Unit"]["properties"]) == set(unit)


def test_document_is_a_fresh_copy_and_names_are_not_reused():
    first = openapi.document()
    first["paths"]["/events"].clear()
    first["components"]["schemas"].clear()
    second = openapi.document()
    assert "get" in second["paths"]["/events"]
    assert "Event" in second["components"]["schemas"]
    with pytest.raises(ValueError, match="/events"):
        openapi.add({"/events": {}})
    with pytest.raises(ValueError, match="Event"):
        openapi.add({}, {"Event": {}})
