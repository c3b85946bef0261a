"""The JSON Schema shipped for users agrees with the validator on the documented cases."""

import json
from pathlib import Path

import jsonschema
import orjson
import pytest

from buzzwatch.contract.mention import Mention, validate_mention

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schema" / "mention.schema.json").read_text())

GOOD = [
    {"id": "1", "text": "Acme rocks", "created_at": "2026-11-23T10:00:00Z"},
    {"id": 570306133677760513, "text": "Acme", "created_at": 1795428900, "lang": "fr",
     "author": {"id": 3, "name": "x", "followers": 10, "verified": False},
     "engagement": {"likes": 1, "shares": 0, "replies": 2}, "custom_field": [1, 2]},
]
BAD = [
    {"text": "no id", "created_at": "2026-11-23T10:00:00Z"},
    {"id": "1", "created_at": "2026-11-23T10:00:00Z"},
    {"id": "1", "text": "no time"},
    {"id": "", "text": "empty id", "created_at": 1795428900},
    {"id": "1", "text": "   ", "created_at": 1795428900},
    {"id": "1", "text": "x" * 10_001, "created_at": 1795428900},
    {"id": "1", "text": "neg followers", "created_at": 1795428900, "author": {"followers": -1}},
    {"id": "1", "text": "bad lang", "created_at": 1795428900, "lang": 3},
]


@pytest.mark.parametrize("obj", GOOD)
def test_schema_and_validator_accept(obj):
    jsonschema.validate(obj, SCHEMA)
    assert isinstance(validate_mention(orjson.loads(orjson.dumps(obj))), Mention)


@pytest.mark.parametrize("obj", BAD)
def test_schema_and_validator_reject(obj):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(obj, SCHEMA)
    assert not isinstance(validate_mention(obj), Mention)
