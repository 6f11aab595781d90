"""Every flow survives the trip `alphapilot serve` gives it: cloudpickled into a fresh process.

Prefect's runner starts each served run by cloudpickling the flow object into a spawned process.
The flow's function is pickled by value (the module attribute of its name is the Flow, not the
function), with only the globals its code uses: a name that appears only in a string annotation
(`from __future__ import annotations`) is lost there, and the run fails before its first task
with "<Flow>Model is not fully defined". This test validates each flow's parameters on the far
side of that trip, with the values a deployment or a user would send.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing
import pkgutil
from concurrent.futures import ProcessPoolExecutor

import cloudpickle

import flows


def all_flows() -> dict[str, object]:
    """Every Prefect flow defined in the flows package, by flow name."""
    from prefect import Flow

    found = {}
    for module in pkgutil.iter_modules(flows.__path__):
        loaded = importlib.import_module(f"flows.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, Flow) and value.fn.__module__ == loaded.__name__:
                found[value.name] = value
    return found


def sample_parameters(flow) -> dict[str, object]:
    """JSON values for every parameter, as the Prefect API would send them (dates as strings)."""
    values = {"date": "2024-01-05", "bool": True, "str": "/tmp/alphapilot-home"}
    parameters = {}
    for name, parameter in inspect.signature(flow.fn).parameters.items():
        annotation = str(parameter.annotation)
        parameters[name] = next((v for k, v in values.items() if k in annotation), None)
    return parameters


def validate_in_this_process(payload: bytes, parameters: dict) -> str:
    """Unpickle a flow and validate `parameters` against its signature; "ok" or the error."""
    flow = cloudpickle.loads(payload)
    try:
        validated = flow.validate_parameters(parameters)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    dates = [v for k, v in validated.items() if "date" in str(flow.fn.__annotations__.get(k))]
    return (
        "ok"
        if all(type(v).__name__ == "date" for v in dates if v is not None)
        else (f"dates not parsed: {validated}")
    )


def test_every_flow_is_found():
    assert {"data-update", "daily-live", "champion-selection", "daily-replay"} <= set(all_flows())


def test_every_flow_validates_its_parameters_after_cloudpickle_into_a_spawned_process():
    found = all_flows()
    calls = {name: (cloudpickle.dumps(f), sample_parameters(f)) for name, f in found.items()}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcomes = {
            name: pool.submit(validate_in_this_process, *call).result(timeout=120)
            for name, call in calls.items()
        }
    assert outcomes == {name: "ok" for name in found}


FUTURE_FLOW = """
from __future__ import annotations

from datetime import date

from prefect import flow


@flow(name="dated")
def dated(run_date: date | None = None, home: str | None = None) -> dict:
    return {}
"""


def test_the_check_catches_a_name_known_only_to_a_string_annotation(tmp_path, monkeypatch):
    """The test above can fail: the same trip for a flow module written with string annotations
    (`from __future__ import annotations`), whose pickled globals lack `date`."""
    (tmp_path / "future_flow.py").write_text(FUTURE_FLOW)
    monkeypatch.syspath_prepend(str(tmp_path))
    flow = importlib.import_module("future_flow").dated
    payload = cloudpickle.dumps(flow)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcome = pool.submit(validate_in_this_process, payload, sample_parameters(flow))
        assert "not fully defined" in outcome.result(timeout=120)
