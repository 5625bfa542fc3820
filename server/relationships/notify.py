"""Sending a text message through GOV.UK Notify with its official client.

The authority configures an API key (``DOORSTEP_NOTIFY_API_KEY`` or ``_FILE``) and the id of a
Notify text-message template whose body is ``((message))``; each message's words are ours (the
authority's own templates, ``server/relationships/templates.py``). Notify's answers sort into
three kinds: accepted (it gives an id and later a delivery status), worth retrying (429 rate
limit, 5xx, no answer: the client reports those as 503), and refused for good (400, 403: a number
Notify will not text, a wrong key) — docs/relationships.md.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

LIVE_URL = "https://api.notifications.service.gov.uk"
# Notify's delivery statuses for texts: still moving, and the end of the road
PENDING = ("created", "sending", "pending", "sent")
FINAL = ("delivered", "permanent-failure", "temporary-failure", "technical-failure")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class NotifyConfig:
    api_key: str
    template_id: str
    base_url: str = LIVE_URL
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> NotifyConfig | None:
        """The configured service, or None: messages are then exported as CSV instead."""
        key = (os.environ.get("DOORSTEP_NOTIFY_API_KEY") or "").strip()
        key_file = (os.environ.get("DOORSTEP_NOTIFY_API_KEY_FILE") or "").strip()
        if not key and key_file:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        template = (os.environ.get("DOORSTEP_NOTIFY_SMS_TEMPLATE_ID") or "").strip()
        if not key or not template:
            return None
        return cls(key, template, (os.environ.get("DOORSTEP_NOTIFY_BASE_URL") or "").strip() or LIVE_URL)


@dataclass(frozen=True)
class Outcome:
    """What Notify said: ``sent`` with an id, or a failure that is ``retry``-able or not."""
    sent: bool
    notify_id: str | None = None
    status: str | None = None
    error: str | None = None
    retry: bool = False


def _failure(exc: APIError) -> Outcome:
    code = exc.status_code
    message = exc.message
    if isinstance(message, list):  # Notify's {"errors": [{"error": ..., "message": ...}]}
        message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in message)
    return Outcome(False, error=f"{code}: {message}"[:500], retry=code in RETRY_STATUS)


class Notify:
    """One client for a run of sends (the official client is not thread-safe: one per job)."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config
        self.client = NotificationsAPIClient(config.api_key, base_url=config.base_url,
                                             timeout=config.timeout_s)

    def send_sms(self, phone: str, body: str, reference: str, template_id: str | None = None) -> Outcome:
        try:
            answer = self.client.send_sms_notification(
                phone_number=phone, template_id=template_id or self.config.template_id,
                personalisation={"message": body}, reference=reference)
        except APIError as exc:
            return _failure(exc)
        return Outcome(True, notify_id=str(answer.get("id") or ""), status="created")

    def status(self, notify_id: str) -> Outcome:
        try:
            answer = self.client.get_notification_by_id(notify_id)
        except APIError as exc:
            return _failure(exc)
        return Outcome(True, notify_id=notify_id, status=str(answer.get("status") or "created"))
