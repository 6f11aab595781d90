"""Where a store's market data comes from, and which source an update uses.

A `DataSource` is a provider's name plus the fields that identify what it returns: the absolute
folder for `folder`, the size, seed and strength of `synthetic`, nothing for `bundled`. It is read
off the provider's dataclass fields, so a new provider (a keyed end-of-day vendor, say) records
its own fields by declaring them. A secret such as an API key is never part of a source: it
belongs in the settings, and a provider holding one declares that field `compare=False`.

The store records the source of its data in its manifest (`MarketStore`), so a later update with
no provider named keeps using it, and an update from another source is refused unless asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading_core.data.providers import DataProvider


@dataclass(frozen=True)
class DataSource:
    """A provider name and what identifies its data (JSON values only: paths as text).

    `inferred` marks a source read off the label of a store that predates recorded sources; it
    may lack fields (a synthetic store's seed), which are then not compared.
    """

    provider: str
    params: Mapping[str, Any] = field(default_factory=dict)
    inferred: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, provider: DataProvider) -> DataSource:
        """The source a provider reads: its name and its identifying dataclass fields."""
        params: dict[str, Any] = {}
        if dataclasses.is_dataclass(provider):
            params = {
                f.name: _plain(getattr(provider, f.name))
                for f in dataclasses.fields(provider)
                if f.compare and f.name != "name"
            }
        return cls(provider.name, params)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DataSource:
        """The source a manifest records as `{"name": provider, field: value, ...}`."""
        params = {key: value for key, value in record.items() if key != "name"}
        return cls(str(record["name"]), params)

    @classmethod
    def from_label(cls, label: str) -> DataSource | None:
        """The source an old manifest's `source` label names, as far as it tells; None if unknown.

        Labels were `bundled S&P 500`, `synthetic` and `folder <path as typed>`: a relative path
        cannot be placed any more, so only the provider is known then.
        """
        if label.startswith("bundled"):
            return cls("bundled", inferred=True)
        if label == "synthetic":
            return cls("synthetic", inferred=True)
        if label.startswith("folder "):
            path = Path(label.removeprefix("folder "))
            params = {"path": str(path)} if path.is_absolute() else {}
            return cls("folder", params, inferred=True)
        return None

    def to_record(self) -> dict[str, Any]:
        """The manifest's record of this source."""
        return {"name": self.provider, **self.params}

    def covers(self, other: DataSource) -> bool:
        """Whether `other` is this source: the same provider and every field known here equal."""
        return self.provider == other.provider and all(
            other.params.get(key) == value for key, value in self.params.items()
        )

    def describe(self) -> str:
        """`folder /data/prices`, `synthetic (symbols=50, years=8.0, seed=7, ic=0.05)`, `bundled`."""
        if set(self.params) == {"path"}:
            return f"{self.provider} {self.params['path']}"
        if self.params:
            fields = ", ".join(f"{key}={value}" for key, value in self.params.items())
            return f"{self.provider} ({fields})"
        return self.provider


def choose_source(
    layers: Mapping[str, Mapping[str, Any]], default_provider: str
) -> tuple[str, dict[str, Any], str]:
    """The provider, its arguments and the origin that named it, from layers in precedence order.

    Each layer (keyed by where it comes from, e.g. "the home's record") holds part of a source: a
    `provider` and/or some of a provider's fields. The provider is the one the first layer names
    (a `path` alone names `folder`), else `default_provider`; each field then takes the first
    value given by a layer that names that provider or none, so a recorded folder's path is never
    used for a synthetic update.
    """
    named = {origin: _provider_named(layer) for origin, layer in layers.items()}
    origin, provider = next(
        ((origin, name) for origin, name in named.items() if name is not None),
        ("the default", default_provider),
    )
    arguments: dict[str, Any] = {}
    for layer_origin, layer in reversed(list(layers.items())):
        if named[layer_origin] in (None, provider):
            given = {key: value for key, value in layer.items() if value is not None}
            arguments.update(given)
    arguments.pop("provider", None)
    return provider, arguments, origin


def _provider_named(layer: Mapping[str, Any]) -> str | None:
    if layer.get("provider"):
        return layer["provider"]
    return "folder" if layer.get("path") is not None else None


def _plain(value: Any) -> Any:
    """A JSON value: a path as its absolute text."""
    return str(Path(value).expanduser().resolve()) if isinstance(value, Path) else value
