"""Every scheduled flow's parameters are typed and documented, so the Prefect UI shows a form."""

from __future__ import annotations

import pytest


def flows():
    from flows.champion_selection import champion_selection
    from flows.daily_live import daily_live
    from flows.data_update import data_update

    return [data_update, daily_live, champion_selection]


@pytest.mark.parametrize("index", range(3))
def test_each_parameter_has_a_type_and_a_description_in_the_ui_schema(index):
    import inspect

    from prefect.utilities.callables import parameter_schema

    flow = flows()[index]
    schema = parameter_schema(flow.fn).model_dump()["properties"]

    assert list(schema) == list(inspect.signature(flow.fn).parameters)
    for name, field in schema.items():
        types = {t.get("type") for t in field.get("anyOf", [field])}
        assert types - {None, "null"}, f"{flow.name}.{name} has no type"
        assert len(field.get("description", "")) > 10, f"{flow.name}.{name} is undocumented"


def test_dates_are_dates_in_the_form():
    from prefect.utilities.callables import parameter_schema

    from flows.daily_live import daily_live

    run_date = parameter_schema(daily_live.fn).model_dump()["properties"]["run_date"]
    assert {"type": "string", "format": "date"} in run_date["anyOf"]
