"""Redaction: text safe to log, raise, store in a run's state or send, without the secrets it held.

`redact(text, secrets)` removes
- each configured secret in `secrets` (a webhook URL, an SMTP password, a storage URL) wherever it
  appears, and, for a secret that is a URL, each of its secret parts found alone (a library error
  may quote `token@host` or `/hook?token=...` instead of the whole URL);
- from every URL in the text, whatever its origin: the userinfo (`https://user:token@host` ->
  `https://<redacted>@host`), every query value (`?token=abc` -> `?token=<redacted>`), everything
  after a Slack-style `/services/`, and each token-like path segment (16 or more letters, digits,
  `_`, `-`, with letters and digits both; a UUID is kept, it names a run);
- the value of a `token=`, `key=`, `secret=`, `password=`, `sig=` ... pair outside a URL.

Pure text in, text out: it never fails, and text without a secret comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

REDACTED = "<redacted>"
MIN_PART = 6  # a shorter query value or user name alone ("json", "bot") is not searched for

URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>|`\\]+")
FRAGMENT_VALUE = re.compile(r"([#&][^=&#]*=)[^&#]*")
SLACK_PATH = re.compile(r"(/services/)[^?#]+", re.IGNORECASE)
TOKEN = re.compile(r"(?=[\w\-~%+=]*[A-Za-z])(?=[\w\-~%+=]*\d)[\w\-~%+=]{16,}", re.ASCII)
UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
NAMED_VALUE = re.compile(
    r"(?i)\b((?:access_|api_?|auth_|client_|private_)?(?:token|key|secret|password|passwd|pwd"
    r"|sig|signature|auth|credentials?)=)[^\s&'\",;)]+"
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without `secrets` (and their URL parts) and without any URL's secret parts."""
    for value in sorted(secret_values(secrets), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = URL.sub(lambda m: redact_url(m.group()), text)
    return NAMED_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


def redact_url(url: str) -> str:
    """`url` without userinfo, query values, a Slack-style path or token-like path segments."""
    scheme, _, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    tail = rest[len(authority) :]
    if "@" in authority:
        authority = f"{REDACTED}@{authority.rpartition('@')[2]}"
    path, query, fragment = split_tail(tail)
    path = SLACK_PATH.sub(lambda m: m.group(1) + REDACTED, path)
    path = "/".join(redact_segment(s) for s in path.split("/"))
    if query:
        query = "?" + "&".join(redact_param(p) for p in query[1:].split("&"))
    fragment = FRAGMENT_VALUE.sub(lambda m: m.group(1) + REDACTED, fragment)
    return f"{scheme}://{authority}{path}{query}{fragment}"


def split_tail(tail: str) -> tuple[str, str, str]:
    """The path, `?query` and `#fragment` of what follows a URL's authority."""
    tail, hash_, fragment = tail.partition("#")
    path, question, query = tail.partition("?")
    return path, question + query, hash_ + fragment


def redact_param(param: str) -> str:
    """`name=<redacted>` for `name=value`; a bare query word (`?TOKEN`) is redacted whole."""
    name, equals, value = param.partition("=")
    if equals:
        return f"{name}={REDACTED}" if value else param
    return REDACTED if param else param


def redact_segment(segment: str) -> str:
    """A path segment, or the placeholder if it looks like a random token (not a UUID)."""
    if TOKEN.fullmatch(segment) and not UUID.fullmatch(segment):
        return REDACTED
    return segment


def secret_values(secrets: Iterable[str | None]) -> set[str]:
    """The strings to remove for `secrets`: each secret, and the secret parts of a URL secret."""
    values: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        values.add(secret)
        if "://" in secret:
            values |= url_parts(secret)
    return values


def url_parts(url: str) -> set[str]:
    """The secret parts of `url` that may be quoted alone: userinfo, query values, path tokens."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # an unparsable URL is still removed whole by `redact`
        return set()
    found = {parts.netloc.rpartition("@")[0]} | {password or ""}
    if parts.username and len(parts.username) >= MIN_PART:
        found.add(parts.username)
    values = [p.partition("=")[2] or p for p in parts.query.split("&")]
    found |= {v for v in values if len(v) >= MIN_PART}
    found |= {s for s in parts.path.split("/") if redact_segment(s) == REDACTED}
    return {variant for part in found if part for variant in (part, unquote(part))}
