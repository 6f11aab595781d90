"""The one error hierarchy: every refusal names the offending item so a person can act on it."""


class AlphapilotError(Exception):
    """Base of every error the product raises on purpose; the CLI prints it on one line."""


class DataError(AlphapilotError):
    """Market data is missing, malformed or inconsistent (names the symbol, date and source)."""


class ModelError(AlphapilotError):
    """A model cannot be trained, found, verified or loaded."""


class ConfigError(AlphapilotError):
    """Settings are invalid (names the field)."""


class SafetyViolation(AlphapilotError):
    """A trade list or portfolio breaks a safety rule; nothing may be applied."""
