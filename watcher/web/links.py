"""One-click feedback links in alert e-mails: a signed, expiring token naming the item, the case type and the
verdict. It leads to a confirm page on the web page (after sign-in); the token alone changes nothing.

itsdangerous (Flask's own signing library) signs with the site's key kept in the database, which the service and
the web page share; a token that was altered, or is older than 30 days, is refused."""

from __future__ import annotations

from typing import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "watcher-feedback-v1"
MAX_AGE = 30 * 24 * 3600  # seconds
VERDICTS = ("relevant", "not_relevant")


def _serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def feedback_token(secret: bytes, source_id: str, item_key: str, code: str, verdict: str) -> str:
    return _serializer(secret).dumps([source_id, item_key, code, verdict])


def read_feedback_token(secret: bytes, token: str, max_age: int = MAX_AGE) -> tuple[str, str, str, str] | None:
    """(source id, item key, case type, verdict), or None for a token altered, expired or malformed."""
    try:
        value = _serializer(secret).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, str) for v in value)
            and value[3] in VERDICTS):
        return None
    return tuple(value)


def link_maker(public_url: str, secret: bytes) -> Callable[[str, str, str, str], str]:
    base = public_url.rstrip("/")
    return lambda source_id, item_key, code, verdict: \
        f"{base}/feedback/{feedback_token(secret, source_id, item_key, code, verdict)}"
