"""The OpenAPI document is complete: a person can work from /docs alone.

Every operation has a summary and a description; every field of every
schema says what it is; every field a caller types (a string, number or date
in a request body) has an example. Enumerations, booleans and nested objects
explain themselves through their own schema.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.settings import Settings
from api.app import create_app

FRAMEWORK_SCHEMAS = {"HTTPValidationError", "ValidationError"}  # replaced by problem documents


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(Settings(storage="memory", data_dir=tmp_path_factory.mktemp("openapi")))
    try:
        return app.openapi()
    finally:
        app.state.context.close()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/v1")
    ]


def schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if name not in FRAMEWORK_SCHEMAS
    }


def request_schemas(document: dict[str, Any]) -> set[str]:
    """Names of the schemas used as request bodies, and the schemas nested in them."""
    found: set[str] = set()
    pending = [
        part.split("'")[0]
        for _, _, op in operations(document)
        if "requestBody" in op
        for part in str(op["requestBody"]).split("#/components/schemas/")[1:]
    ]
    all_schemas = document["components"]["schemas"]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        text = str(all_schemas[name])
        pending.extend(part.split("'")[0] for part in text.split("#/components/schemas/")[1:])
    return found


def test_every_operation_has_a_summary_and_a_description(document):
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if not operation.get("summary") or not operation.get("description")
    ]
    assert [] == missing


def test_every_field_of_every_schema_has_a_description(document):
    missing = [
        f"{name}.{field}"
        for name, schema in schemas(document).items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert [] == missing


def is_typed_by_hand(prop: dict[str, Any]) -> bool:
    """A string (not an enumeration), number or integer the caller writes."""
    kinds = [prop, *prop.get("anyOf", [])]
    return any(
        kind.get("type") in {"string", "number", "integer"} and "enum" not in kind
        for kind in kinds
        if "$ref" not in kind
    )


def test_every_field_a_caller_types_has_an_example(document):
    all_schemas = document["components"]["schemas"]
    missing = [
        f"{name}.{field}"
        for name in sorted(request_schemas(document))
        for field, prop in all_schemas[name].get("properties", {}).items()
        if is_typed_by_hand(prop) and not (prop.get("examples") or prop.get("example"))
    ]
    assert [] == missing


def test_the_document_states_the_conventions(document):
    description = document["info"]["description"]
    for convention in ("Bearer", "If-Match", "Idempotency-Key", "RFC 9457"):
        assert convention in description
