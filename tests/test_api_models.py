"""The API's response models derived from the marts reader's and the programs module's row types keep those
types' fields in their order, with the API's own types where a value goes out otherwise (times as ISO strings)."""

from __future__ import annotations

import dataclasses

import pytest

from viewtrail.api import schemas
from viewtrail.warehouse import marts, programs


@pytest.mark.parametrize(
    ("model", "row"),
    [
        (schemas.VideoPayout, marts.VideoPayout),
        (schemas.GoalStatus, marts.GoalStatusRow),
        (schemas.CreatorBalance, marts.CreatorPayout),
        (schemas.PaymentMade, programs.Payment),
    ],
)
def test_a_derived_model_has_the_row_s_fields_in_order(model, row) -> None:
    assert list(model.model_fields) == [field.name for field in dataclasses.fields(row)]
    assert all(field.is_required() for field in model.model_fields.values())


def test_the_api_s_own_types_are_kept_where_a_value_goes_out_otherwise() -> None:
    properties = schemas.VideoPayout.model_json_schema()["properties"]
    assert properties["posted_at"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert properties["state"]["enum"][0] == "active"
    assert properties["amount_minor"]["description"] == "integer minor units (cents) of currency"
    status = schemas.GoalStatus.model_json_schema()["properties"]
    assert status["period_start"] == {"title": "Period Start", "type": "string"}


def test_an_override_of_a_field_the_row_lacks_is_refused() -> None:
    with pytest.raises(AssertionError, match="no field"):
        schemas._row_model("Nope", programs.Payment, posted_at=(str, ...))
