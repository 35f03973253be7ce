"""Redaction: which names are secret, and how values, URLs and bodies lose their secrets.

How it works. A *name* (an HTTP header, a URL query parameter, a metadata key) is secret
by rule, not by a list: it is cut into words at every character that is not an ASCII
letter or digit, and it is secret when one of its words, ignoring case and trailing
digits, is or ends with one of :data:`SECRET_WORDS`. ``x-goog-api-key`` has the word
``key``; ``apikey`` ends with ``key``; ``x-ratelimit-remaining-tokens`` has ``tokens``,
which is neither ``token`` nor ends with it, so that count of tokens is kept. The rule
is one regular expression, so a name costs one search.

A secret name's value is replaced whole by :data:`REDACTED`. Any other value keeps its
text but loses what looks like a secret wherever it appears in it: ChatKit client secrets
(``ek_...``), the string value of a ``"client_secret"`` JSON field, and the credentials of
every URL written in it (``user:password@`` and the values of secret query parameters,
see :func:`redact_url`). Response bodies are never touched unless asked; then
:class:`BodySecretRedactor`, a byte-level state machine, rewrites ``"client_secret"``
values across chunk boundaries. :class:`Scrubber` removes one request's known secrets
from free text such as an error message.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

__all__ = [
    "REDACTED",
    "SECRET_WORDS",
    "BodySecretRedactor",
    "Redactor",
    "Scrubber",
    "is_secret",
    "redact_text",
    "redact_url",
]

REDACTED: Final = "[REDACTED]"
"""What a redacted secret is replaced with."""

SECRET_WORDS: Final = (
    "key",
    "token",
    "secret",
    "auth",
    "authorization",
    "authentication",
    "password",
    "passwd",
    "cookie",
    "signature",
    "sig",
    "credential",
    "credentials",
)
"""A name is secret when one of its words is, or ends with, one of these."""

# A secret word ends where the name's word ends (after optional digits): "key", "apikey",
# "key2" match; "keyboard", "keep", "tokens", "authority" do not.
_SECRET_NAME: Final = re.compile(
    r"(?:" + "|".join(sorted(SECRET_WORDS, key=len, reverse=True)) + r")[0-9]*(?![a-z0-9])",
    re.IGNORECASE | re.ASCII,
)
# A ChatKit / ephemeral client secret: "ek_" and at least 8 token characters, not glued to
# a preceding word ("week_..." is not one).
_EK_SECRET: Final = re.compile(r"(?<![A-Za-z0-9_])ek_[A-Za-z0-9_-]{8,}")
# A JSON string field named client_secret inside a text value.
_JSON_CLIENT_SECRET: Final = re.compile(r'("client_secret"\s*:\s*")(?:[^"\\]|\\.)*(")')
# A URL inside free text: a scheme, "://", and everything up to a space or a quote.
_URL_IN_TEXT: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
# RFC 3986, appendix B: scheme, authority, path, query, fragment; matches any string.
_URL_PARTS: Final = re.compile(
    r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL
)


def is_secret(name: str) -> bool:
    """Whether a header, query parameter or metadata key called ``name`` holds a secret.

    One of its words (split at anything but ASCII letters and digits, case ignored,
    trailing digits ignored) is, or ends with, one of :data:`SECRET_WORDS`.
    """
    return _SECRET_NAME.search(name) is not None


def _redact_params(params: str) -> str:
    """``a=1&api_key=2`` -> ``a=1&api_key=[REDACTED]``: the values of secret names."""
    if "=" not in params:
        return params
    out = []
    for part in params.split("&"):
        name, eq, _ = part.partition("=")
        if eq and is_secret(urllib.parse.unquote_plus(name)):
            part = f"{name}={REDACTED}"
        out.append(part)
    return "&".join(out)


def redact_url(url: str) -> str:
    """``url`` without its user information (``user:password@``) and with the value of
    every secret query (or fragment) parameter replaced by :data:`REDACTED`.

    Works on the text of any string, valid URL or not, and never raises; the rest of the
    URL is kept as written.
    """
    match = _URL_PARTS.fullmatch(url)
    assert match is not None  # the pattern matches every string
    scheme, authority, path, query, fragment = match.groups()
    out = f"{scheme}:" if scheme is not None else ""
    if authority is not None:
        out += "//" + authority.rpartition("@")[2]
    out += path
    if query is not None:
        out += "?" + _redact_params(query)
    if fragment is not None:
        out += "#" + _redact_params(fragment)
    return out


def redact_text(value: str) -> str:
    """``value`` with client secrets, ``"client_secret"`` JSON values and the credentials
    of the URLs in it redacted; everything else kept."""
    if "client_secret" in value:
        value = _JSON_CLIENT_SECRET.sub(lambda m: f"{m[1]}{REDACTED}{m[2]}", value)
    if "ek_" in value:
        value = _EK_SECRET.sub(REDACTED, value)
    if "://" in value:
        value = _URL_IN_TEXT.sub(lambda m: redact_url(m[0]), value)
    return value


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class Redactor:
    """Redacts header values and metadata (never a body): secret names by the rule, plus
    ``extra_names`` (compared case-insensitively, ``_`` read as ``-``)."""

    def __init__(self, extra_names: Iterable[str] = ()) -> None:
        self._extra = frozenset(_normalize(n) for n in extra_names)

    def secret_name(self, name: str) -> bool:
        """Whether values under ``name`` are redacted whole."""
        return is_secret(name) or (bool(self._extra) and _normalize(name) in self._extra)

    def header(self, name: str, value: str) -> str:
        """The value to record for header ``name``."""
        return REDACTED if self.secret_name(name) else redact_text(value)

    def json(self, value: Any) -> Any:
        """A JSON value with every secret key's value and every secret in a string redacted."""
        if isinstance(value, str):
            return redact_text(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self.secret_name(str(key)) else self.json(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value


class Scrubber:
    """Removes known secret strings, and URL credentials, from free text (error messages).

    Built for one request with :meth:`for_request`: its URL's user information and secret
    parameter values, and the values of its secret headers (whole, and each word of eight
    characters or more, so ``Bearer sk-...`` loses ``sk-...`` wherever it is quoted).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole; very short
        # strings would mangle every message they occur in, and are not keys anyway.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    @classmethod
    def for_request(cls, url: str, headers: Iterable[tuple[str, str]] = ()) -> Scrubber:
        """The scrubber of a request to ``url`` with ``headers``."""
        secrets: list[str] = []
        match = _URL_PARTS.fullmatch(url)
        assert match is not None
        _, authority, _, query, fragment = match.groups()
        if authority and "@" in authority:
            userinfo = authority.rpartition("@")[0]
            for part in (userinfo, *userinfo.split(":")):
                secrets += (part, urllib.parse.unquote(part))
        for params in (query, fragment):
            for part in (params or "").split("&"):
                name, eq, value = part.partition("=")
                if eq and is_secret(urllib.parse.unquote_plus(name)):
                    secrets += (value, urllib.parse.unquote_plus(value))
        for name, value in headers:
            if is_secret(name):
                secrets += (value.strip(), *(w for w in value.split() if len(w) >= 8))
        return cls(secrets)

    def __call__(self, text: str) -> str:
        """``text`` with every known secret and URL credential replaced by REDACTED."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact_text(text)


_WHITESPACE: Final = frozenset(b" \t\r\n")


class BodySecretRedactor:
    """Replaces the values of ``"client_secret":"..."`` JSON fields in a chunked byte stream.

    Stateful, so a key or value split across chunks is still found; every chunk maps to
    exactly one output chunk (boundaries are kept, lengths change).
    """

    _KEY: Final = b'"client_secret"'

    def __init__(self) -> None:
        self._phase: Literal["key", "colon", "open", "value"] = "key"
        self._matched = 0  # bytes of _KEY matched so far (phase "key")
        self._escaped = False  # the previous value byte was a backslash (phase "value")

    def feed(self, chunk: bytes) -> bytes:
        """The chunk with the client secrets in it (or continued in it) redacted."""
        key = self._KEY
        out = bytearray()
        i, n = 0, len(chunk)
        while i < n:
            if self._phase == "key":
                if self._matched:
                    need = key[self._matched :]
                    m = min(len(need), n - i)
                    if chunk[i : i + m] == need[:m]:
                        out += chunk[i : i + m]
                        i += m
                        self._matched += m
                        if self._matched == len(key):
                            self._matched = 0
                            self._phase = "colon"
                        continue
                    self._matched = 0  # a new match can only start at i (see _KEY's quotes)
                j = chunk.find(key, i)
                if j >= 0:
                    out += chunk[i : j + len(key)]
                    i = j + len(key)
                    self._phase = "colon"
                    continue
                # Does the chunk end with the start of a key? Only a quote can begin one, and
                # the key has no quote but its first and last, so only the last quote can.
                j = chunk.rfind(b'"', max(i, n - len(key) + 1))
                if j >= 0 and key.startswith(chunk[j:]):
                    self._matched = n - j
                if i == 0:
                    return chunk  # nothing to change
                out += chunk[i:]
                break
            byte = chunk[i]
            if self._phase == "value":
                if self._escaped:
                    self._escaped = False
                elif byte == 0x5C:  # backslash
                    self._escaped = True
                elif byte == 0x22:  # closing quote
                    out.append(byte)
                    self._phase = "key"
                i += 1
            elif byte in _WHITESPACE:
                out.append(byte)
                i += 1
            elif self._phase == "colon" and byte == 0x3A:  # ":"
                out.append(byte)
                self._phase = "open"
                i += 1
            elif self._phase == "open" and byte == 0x22:  # opening quote of a string value
                out.append(byte)
                out += REDACTED.encode()
                self._phase = "value"
                i += 1
            else:  # not a string-valued client_secret field: back to scanning, same byte
                self._phase = "key"
        return bytes(out)
