"""The telemedicine API's request bodies are described in its OpenAPI document with every nested
model written out: no reference to pydantic's ``#/$defs/...``, which points nowhere from inside
an OpenAPI document (ReDoc refuses such a document; tests/browser/test_api_docs_pages.py opens
it)."""

from __future__ import annotations

import json

from services.telemedicine.adapters.recommendation_input import RecommendationIn
from services.telemedicine.bootstrap import create_app
from services.telemedicine.entrypoints.deps import json_body_schema


def test_the_openapi_document_holds_no_reference_to_defs() -> None:
    document = json.dumps(create_app().openapi())
    assert "#/$defs/" not in document
    assert '"$defs"' not in document


def test_a_nested_model_is_written_out_where_it_is_used() -> None:
    schema = json_body_schema(RecommendationIn)["requestBody"]["content"]["application/json"][
        "schema"
    ]
    findings = schema["properties"]["findings"]
    assert findings["type"] == "object"
    assert {"systolic_mmhg", "glucose_mg_dl", "haemorrhage"} <= set(findings["properties"])
    assert findings["properties"]["systolic_mmhg"]["maximum"] == 300
