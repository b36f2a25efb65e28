"""Secrets in sink URLs are masked, and the rest of the URL stays readable."""

from __future__ import annotations

import pytest

from nemwatch.redact import MASK, redact_sink, redact_url, scrub, secret_parts, sink_secrets


@pytest.mark.parametrize(
    "url",
    [
        "http://portobelo.nemmain.net:7890",
        "https://api.zaif.jp/api/1/ticker/xem_jpy",
        "http://127.0.0.1:7890/chain/height",
        "http://[::1]:7890/",
        "json://localhost:8080/hook?format=text",
        "stdout",
    ],
)
def test_urls_without_secrets_are_unchanged(url: str) -> None:
    assert redact_url(url) == url
    assert secret_parts(url) == []


@pytest.mark.parametrize(
    ("url", "shown", "hidden"),
    [
        ("mailto://me:hunter2@mail.example.com", "mailto://me:<secret>@mail.example.com", ["hunter2"]),
        (
            "https://hooks.slack.com/services/T0000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/T0000/<secret>/<secret>",
            ["B00000000", "XXXXXXXXXXXXXXXXXXXXXXXX"],
        ),
        ("tgram://123456789:AAHdqTcvCH1vG/12345", "tgram://<secret>/12345", ["123456789:AAHdqTcvCH1vG"]),
        ("discord://1234567890123/tokentokentoken", "discord://<secret>/<secret>", ["tokentokentoken"]),
        ("json://localhost/x?token=abc&x=1", "json://localhost/x?token=<secret>&x=1", ["abc"]),
        ("https://a.example/x?apikey=kone&api_key=ktwo&webhook=whval&Password=pwval&page=2", None,
         ["kone", "ktwo", "whval", "pwval"]),
        ("pover://userkeyuserkey@apptokenapptoken", "pover://<secret>@<secret>", ["userkeyuserkey"]),
    ],
)
def test_secrets_are_masked(url: str, shown: str | None, hidden: list[str]) -> None:
    redacted = redact_url(url)
    if shown is not None:
        assert redacted == shown
    for secret in hidden:
        assert secret not in redacted
        assert secret in secret_parts(url)
    assert MASK in redacted


def test_a_malformed_url_is_masked_whole() -> None:
    assert redact_url("https://[::1:secret-token/x") == f"https://{MASK}"


def test_sinks() -> None:
    assert redact_sink("stdout") == "stdout"
    assert redact_sink("journal") == "journal"
    hook = "webhook+https://h.example/services/T0/tokentokentoken"
    assert redact_sink(hook) == f"webhook+https://h.example/services/T0/{MASK}"
    assert sink_secrets(hook) == ["tokentokentoken"]
    cmd = "command:/usr/local/bin/page --token s3cr3t api_key=k3y https://x.example/?token=t0k --verbose"
    shown = redact_sink(cmd)
    assert shown == (
        f"command:/usr/local/bin/page --token {MASK} api_key={MASK} https://x.example/?token={MASK} --verbose"
    )
    assert set(sink_secrets(cmd)) == {"s3cr3t", "k3y", "t0k"}


def test_scrub_removes_secrets_from_library_text() -> None:
    sink = "webhook+https://h.example/services/T0/tokentokentoken?key=abc"
    text = "Server error '500' for url 'https://h.example/services/T0/tokentokentoken?key=abc'"
    cleaned = scrub(text, sink_secrets(sink))
    assert "tokentokentoken" not in cleaned
    assert "key=abc" not in cleaned
    assert cleaned.startswith("Server error '500' for url 'https://h.example/services/T0/")
