"""span → text: pure, so these run without a model or a database."""

from __future__ import annotations

from enricher.span_text import MAX_TEXT_CHARS, MAX_VALUE_CHARS, SpanFields, clean, duration_bucket, span_text


def payment_timeout(**changes) -> SpanFields:
    fields = dict(
        service="payment-service",
        name="POST /payments/authorize",
        kind="Server",
        status_code="Error",
        status_message="provider timed out after 5012 ms for order 7f3a9c2e-1b4d-4e8a-9f00-123456789abc",
        duration_ns=3_400_000_000,
        attributes={
            "http.request.method": "POST",
            "http.route": "/payments/authorize",
            "http.response.status_code": "504",
            "error.type": "ProviderTimeout",
            "user.id": "u-123",
            "url.full": "https://pay.example/authorize?order=991234",
        },
        events=[
            ("exception", {"exception.type": "ProviderTimeout", "exception.message": "no answer in 5000 ms"})
        ],
    )
    fields.update(changes)
    return SpanFields(**fields)


def test_text_carries_meaning_and_no_ids():
    text = span_text(payment_timeout())
    for words in ("payment-service", "server span", "POST /payments/authorize",
                  "error: provider timed out after <n> ms for order <id>",
                  "504 Gateway Timeout", "error type ProviderTimeout",
                  "exception ProviderTimeout: no answer in <n> ms", "slow: 2–5 s"):  # fmt: skip
        assert words in text, (words, text)
    for leak in ("7f3a9c2e", "5012", "u-123", "991234", "user.id", "url.full"):
        assert leak not in text, (leak, text)
    # said once: the name holds method and route, the status message holds the exception's message
    assert "method" not in text and "route" not in text and text.count("no answer") == 1
    renamed = span_text(payment_timeout(name="authorize", status_message="no answer in 5000 ms"))
    assert "method POST; route /payments/authorize" in renamed
    assert "exception ProviderTimeout;" in renamed


def test_like_spans_give_like_texts():
    a = payment_timeout(duration_ns=2_100_000_000)
    b = payment_timeout(
        duration_ns=4_900_000_000,
        status_message="provider timed out after 4999 ms for order 00000000-0000-4000-8000-000000000001",
        attributes={**a.attributes, "user.id": "u-999"},
    )
    assert span_text(a) == span_text(b)
    assert span_text(a) != span_text(payment_timeout(duration_ns=50_000_000))
    assert span_text(a) != span_text(payment_timeout(status_code="Ok", status_message=""))


def test_duration_buckets():
    assert duration_bucket(0) == "very fast: under 10 ms"
    assert duration_bucket(40_000_000) == "fast: 10–100 ms"
    assert duration_bucket(2_000_000_000) == "slow: 2–5 s"
    assert duration_bucket(10**13) == "stuck: over 30 s"


def test_older_semantic_conventions_and_other_systems():
    text = span_text(
        SpanFields(
            service="order-service",
            name="orders.insert",
            kind="Client",
            attributes={"http.method": "GET", "http.status_code": "409", "db.system": "mongodb",
                        "db.operation": "insert", "db.mongodb.collection": "orders",
                        "messaging.system": "kafka", "messaging.destination.name": "order-events"},
        )
    )  # fmt: skip
    for words in ("client span", "method GET", "409 Conflict", "db mongodb", "db operation insert",
                  "db collection orders", "messaging kafka", "destination order-events"):  # fmt: skip
        assert words in text, (words, text)


def test_bad_input_is_sanitised_not_fatal():
    text = span_text(
        SpanFields(
            service="",
            name="\x00\x1b[31m\ufffd bad\tname\r\n",
            kind="SPAN_KIND_WHATEVER",
            status_code="Error",
            status_message="x" * 1_000_000,
            duration_ns=-5,
            attributes={"http.route": "/a" * 100_000, "error.type": "\x07"},
            events=[("exception", {}), ("EXCEPTION", {"exception.message": "boom\x00"}), ("log", {"k": "v"})],
        )
    )
    assert text.startswith("unknown service: ")
    assert "bad name" in text and "\x00" not in text and "\x1b" not in text and "\n" not in text
    assert "exception boom" in text
    assert len(text) <= MAX_TEXT_CHARS
    assert span_text(SpanFields()) == "unknown service: unnamed span; ok; very fast: under 10 ms"


def test_clean_handles_bytes_and_caps_length():
    assert clean(b"caf\xc3\xa9 \xff\xfe ok") == "café �� ok"
    assert len(clean("y" * 10_000)) == MAX_VALUE_CHARS
    assert clean("deadbeefdeadbeef1234 at 2026-11-22T10:00:01.5Z") == "<id> at <time>"
    assert clean("409") == "409" and clean("/v1/authorizations", mask="words") == "<id>"


def test_messages_lose_their_values_and_ids():
    messages = [
        "lock wait timeout on inventory row DZ5485-612/10 after 1.5s (37 reservations/s on one hot row)",
        "lock wait timeout on inventory row FQ8138-001/9.5 after 1.5s (112 reservations/s on one hot row)",
    ]
    masked = {clean(m, mask="words") for m in messages}
    assert masked == {"lock wait timeout on inventory row <id> after <n> (<n> reservations/s on one hot row)"}
    assert clean("timed out after 3.0s (attempt 2/3).", mask="words") == "timed out after <n> (attempt <n>)."
