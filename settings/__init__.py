"""alphapilot settings: a typed, validated, frozen configuration object."""

from settings.loader import load_settings
from settings.model import Settings

__all__ = ["Settings", "load_settings"]
