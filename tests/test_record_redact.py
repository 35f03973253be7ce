"""Redaction by rule (streamkit.record._redact): secret names, URLs, free text, scrubbing."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit.record import REDACTED, Recorder, load_recording
from streamkit.record._redact import (
    SECRET_WORDS,
    Redactor,
    Scrubber,
    is_secret,
    redact_text,
    redact_url,
)

# --- the rule ------------------------------------------------------------------------------

SECRET_NAMES = [
    # request headers that carry a key, in the spellings services use
    "Authorization",
    "Proxy-Authorization",
    "api-key",
    "X-Api-Key",
    "x_api_key",
    "OpenAI-Api-Key",
    "Ocp-Apim-Subscription-Key",
    "x-goog-api-key",
    "X-Auth-Token",
    "X-Auth",
    "x-functions-key",
    "Private-Token",
    "X-CSRF-Token",
    "Cookie",
    "Set-Cookie",
    "Set-Cookie2",
    "Client-Secret",
    "X-Amz-Security-Token",
    # response headers
    "x-request-token",
    "X-Request-Token",
    # query parameters and metadata keys
    "key",
    "api_key",
    "apikey",
    "APIKEY",
    "apiKey",
    "access_token",
    "accessToken",
    "token",
    "sig",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Goog-Credential",
    "client_secret",
    "password",
    "db.password",
    "passwd",
    "credentials",
    "oauth",
    "authentication",
    "api_key_2",
    "key2",
]

KEPT_NAMES = [
    # OpenAI's and Azure's response headers: counts of tokens, ids, timings
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-reset-tokens",
    "x-ratelimit-remaining-requests",
    "content-type",
    "Content-Type",
    "x-request-id",
    "apim-request-id",
    "openai-processing-ms",
    "openai-organization",
    "openai-version",
    "OpenAI-Beta",
    "x-ms-region",
    "azureml-model-session",
    # words that merely contain a secret word
    "Keep-Alive",
    "keyword",
    "keys_total",
    "tokens",
    "max_tokens",
    "tokenizer",
    ":authority",
    "author",
    "WWW-Authenticate",
    "secretary",
    "signatures_count",
    # ordinary query parameters
    "api-version",
    "mode",
    "stream",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert is_secret(name)
    assert is_secret(name.upper()) and is_secret(name.lower())


@pytest.mark.parametrize("name", KEPT_NAMES)
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret(name)


SEPARATORS = st.sampled_from(["-", "_", ".", " ", ":", "/", "[", "]"])
# Words that neither are nor end with a secret word (checked below), drawn from real names.
PLAIN_WORDS = [
    "x",
    "ratelimit",
    "remaining",
    "limit",
    "reset",
    "tokens",
    "requests",
    "content",
    "type",
    "request",
    "id",
    "openai",
    "processing",
    "ms",
    "organization",
    "version",
    "beta",
    "keep",
    "alive",
    "keyword",
    "authority",
    "authenticate",
    "cache",
    "control",
    "user",
    "agent",
    "api",
    "mode",
    "region",
    "count",
    "subscription",
    "goog",
    "amz",
    "session",
    "2",
]
plain_word = st.sampled_from(PLAIN_WORDS)
secret_word = st.sampled_from(SECRET_WORDS)


def case_variants(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.capitalize(), word.swapcase()])


@st.composite
def names(draw: st.DrawFn, words: st.SearchStrategy[str]) -> str:
    parts = draw(st.lists(words.flatmap(case_variants), min_size=1, max_size=5))
    out = parts[0]
    for part in parts[1:]:
        out += draw(SEPARATORS) + part
    return out


def test_plain_words_are_plain() -> None:
    assert not any(is_secret(word) for word in PLAIN_WORDS)


@given(names(plain_word))
def test_a_name_of_plain_words_is_kept(name: str) -> None:
    assert not is_secret(name)


@given(names(plain_word), secret_word.flatmap(case_variants), st.data())
def test_a_secret_word_makes_any_name_secret(name: str, secret: str, data: st.DataObject) -> None:
    """A name is secret when one of its words is a secret word, wherever it stands, in any
    case, after any separator, with or without a glued prefix or trailing digits."""
    words = re.split(r"[^A-Za-z0-9]", name)
    at = data.draw(st.integers(0, len(words)))
    glued = data.draw(st.sampled_from(["", "api", "x", "Access"])) + secret
    glued += data.draw(st.sampled_from(["", "2", "10"]))
    sep = data.draw(SEPARATORS)
    assert is_secret(sep.join([*words[:at], glued, *words[at:]]))


@given(st.lists(st.one_of(plain_word, secret_word), min_size=1, max_size=6), st.data())
def test_the_rule_is_word_by_word_and_ignores_case_and_separators(
    words: list[str], data: st.DataObject
) -> None:
    expected = any(w in SECRET_WORDS for w in words)
    name = "".join(data.draw(SEPARATORS) + data.draw(case_variants(w)) for w in words)
    assert is_secret(name) == expected
    assert is_secret(name) == any(is_secret(w) for w in re.split(r"[^A-Za-z0-9]", name))


@given(st.text())
def test_any_name_is_judged(name: str) -> None:
    assert is_secret(name) in (True, False)


def test_redactor_extra_names() -> None:
    redactor = Redactor(["X-Trace", "my_field"])
    assert redactor.secret_name("x_trace") and redactor.secret_name("MY-FIELD")
    assert redactor.secret_name("Authorization")  # the rule still applies
    assert not redactor.secret_name("x-request-id")
    assert redactor.header("x-request-id", "req_1") == "req_1"


def test_recorder_redacts_response_headers_by_rule() -> None:
    out = io.BytesIO()
    headers = [
        ("Ocp-Apim-Subscription-Key", "k1"),
        ("x-goog-api-key", "k2"),
        ("X-Auth-Token", "k3"),
        ("x-request-token", "k4"),
        ("Set-Cookie", "a=k5"),
        ("Set-Cookie", "b=k6"),
        ("x-ratelimit-remaining-tokens", "149984"),
        ("openai-processing-ms", "43"),
        ("location", "https://u:pw@files.example/a?X-Amz-Signature=k7&part=1"),
    ]
    with Recorder(out, headers=headers) as recorder:
        recorder.end()
    for secret in (b"k1", b"k2", b"k3", b"k4", b"k5", b"k6", b"k7", b"pw"):
        assert secret not in out.getvalue()
    header = load_recording(out.getvalue(), name="x").header
    assert header is not None
    assert header.headers == (
        ("Ocp-Apim-Subscription-Key", REDACTED),
        ("x-goog-api-key", REDACTED),
        ("X-Auth-Token", REDACTED),
        ("x-request-token", REDACTED),
        ("Set-Cookie", REDACTED),
        ("Set-Cookie", REDACTED),
        ("x-ratelimit-remaining-tokens", "149984"),
        ("openai-processing-ms", "43"),
        ("location", f"https://files.example/a?X-Amz-Signature={REDACTED}&part=1"),
    )


# --- URLs ----------------------------------------------------------------------------------

URLS = [
    ("https://api.example/v1/runs", "https://api.example/v1/runs"),
    ("https://user:hunter2@api.example/v1", "https://api.example/v1"),
    ("https://sk-token@api.example/v1", "https://api.example/v1"),
    (
        "https://api.example/v1?api_key=sk-1&api-version=2024-05-01",
        f"https://api.example/v1?api_key={REDACTED}&api-version=2024-05-01",
    ),
    (
        "https://acct.blob.example/c/b?sv=2022&sp=r&sig=abc%2Bdef%3D&se=2030",
        f"https://acct.blob.example/c/b?sv=2022&sp=r&sig={REDACTED}&se=2030",
    ),
    ("https://x.example/?token=t&token=u", f"https://x.example/?token={REDACTED}&token={REDACTED}"),
    ("https://x.example/?api%5Fkey=1", f"https://x.example/?api%5Fkey={REDACTED}"),
    ("https://x.example/?api+key=1", f"https://x.example/?api+key={REDACTED}"),
    (
        "https://x.example/cb#access_token=a&state=s",
        f"https://x.example/cb#access_token={REDACTED}&state=s",
    ),
    ("https://x.example/?key", "https://x.example/?key"),  # no value to hide
    ("https://x.example/?keys_total=3&tokens=9", "https://x.example/?keys_total=3&tokens=9"),
    ("http://u:p@[::1/x?token=1", f"http://[::1/x?token={REDACTED}"),  # invalid, still redacted
    ("not a url at all", "not a url at all"),
    ("", ""),
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


SECRET_VALUE = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=12).map(
    lambda s: "Z9" + s
)
PLAIN_TEXT = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=10)


@given(
    st.sampled_from(["http", "https", "wss"]),
    st.one_of(st.none(), st.tuples(SECRET_VALUE, st.one_of(st.none(), SECRET_VALUE))),
    PLAIN_TEXT,
    st.lists(PLAIN_TEXT, max_size=3),
    st.lists(
        st.one_of(
            st.tuples(names(plain_word), PLAIN_TEXT, st.just(False)),
            st.tuples(names(secret_word), SECRET_VALUE, st.just(True)),
        ),
        max_size=5,
    ),
)
@settings(max_examples=300)
def test_redact_url_hides_every_credential_and_keeps_the_rest(
    scheme: str,
    userinfo: tuple[str, str | None] | None,
    host: str,
    path: list[str],
    params: list[tuple[str, str, bool]],
) -> None:
    auth = ""
    if userinfo is not None:
        user, password = userinfo
        auth = user + (f":{password}" if password is not None else "") + "@"
    query = "&".join(f"{urllib.parse.quote_plus(n)}={v}" for n, v, _ in params)
    where = "/" + "/".join(path)
    base = f"{scheme}://{host}{where}"
    url = f"{scheme}://{auth}{host}{where}" + (f"?{query}" if params else "")
    redacted = redact_url(url)
    assert "Z9" not in redacted  # every secret value, user name and password is gone
    assert redacted.startswith(base)
    kept = [f"{urllib.parse.quote_plus(n)}={v}" for n, v, secret in params if not secret]
    assert all(part in redacted.split("?", 1)[1].split("&") for part in kept)
    assert redact_url(redacted) == redacted  # idempotent


@given(st.text())
def test_redact_url_takes_any_text(text: str) -> None:
    assert redact_url(redact_url(text)) == redact_url(text)


def test_redact_text_finds_urls_and_client_secrets() -> None:
    text = (
        'see https://u:pw@h.example/a?key=k1&x=1, "client_secret": "cs1" and '
        "ek_0123456789abcdef; https://h.example/plain stays"
    )
    assert redact_text(text) == (
        f'see https://h.example/a?key={REDACTED}&x=1, "client_secret": "{REDACTED}" and '
        f"{REDACTED}; https://h.example/plain stays"
    )


def test_scrubber_removes_the_request_secrets_from_any_text() -> None:
    scrub = Scrubber.for_request(
        "https://alice:hunter%232@api.example/v1?api_key=sk-q%2B1&mode=x",
        [("Authorization", "Bearer sk-live-0123456789"), ("Accept", "text/event-stream")],
    )
    message = (
        "failed: https://alice:hunter%232@api.example/v1?api_key=sk-q%2B1&mode=x "
        "(b'Bearer sk-live-0123456789'; user alice, password hunter#2, key sk-q+1)"
    )
    scrubbed = scrub(message)
    for secret in ("alice", "hunter", "sk-q", "sk-live"):
        assert secret not in scrubbed
    assert "mode=x" in scrubbed


# --- imports -------------------------------------------------------------------------------

ISOLATED_IMPORT = """
import sys
import streamkit.record
from streamkit.record import Recorder, load_recording, replay, areplay, tee, atee
heavy = ("httpx", "httpx_sse", "anyio", "rich", "trio")
print(sorted(m for m in heavy if m in sys.modules))
streamkit.record.record_response  # loads the HTTP glue on first use
print(sorted(m for m in heavy if m in sys.modules))
"""


def test_importing_the_record_package_loads_no_http_async_or_terminal_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ISOLATED_IMPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert "httpx" in after and "anyio" not in after  # (httpx loads rich when installed)
