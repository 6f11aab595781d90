"""The base of every settings section: frozen, and unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A settings section: unknown keys are errors, not silently ignored typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def fraction(default: float) -> float:
    """A field holding a fraction in [0, 1]."""
    return Field(default, ge=0.0, le=1.0)
