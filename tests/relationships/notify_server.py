"""A local HTTP server that speaks GOV.UK Notify's documented API for texts
(docs.notifications.service.gov.uk/rest-api.html): ``POST /v2/notifications/sms`` and
``GET /v2/notifications/{id}``, with its bearer-JWT check (HS256, ``iss`` = service id, ``iat``
within 30 seconds), its error body ``{"status_code", "errors": [{"error", "message"}]}``, and
faults to order (``fail_next``). Tests point Doorstep at it with DOORSTEP_NOTIFY_BASE_URL."""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt


class FakeNotify:
    def __init__(self, template_id: str) -> None:
        self.service_id, self.secret = str(uuid.uuid4()), str(uuid.uuid4())
        self.api_key = f"doorstep_test-{self.service_id}-{self.secret}"
        self.template_id = template_id
        self.sent: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: list[int] = []
        self.status_of_new = "delivered"
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeNotify:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        self.faults += [status] * count

    def _authorised(self, header: str) -> str | None:
        """None when the token is good, else Notify's message."""
        if not header.startswith("Bearer "):
            return "Unauthorized: authentication token must be provided"
        try:
            claims = jwt.decode(header[7:], self.secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.PyJWTError:
            return "Invalid token: signature, api token not found"
        if claims.get("iss") != self.service_id:
            return "Invalid token: service not found"
        if abs(time.time() - float(claims.get("iat", 0))) > 30:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, error: str, message: str) -> None:
                self._answer(status, {"status_code": status, "errors": [{"error": error, "message": message}]})

            def _guard(self) -> bool:
                fake.requests.append((self.command, self.path))
                if fake.faults:
                    status = fake.faults.pop(0)
                    self._error(status, "RateLimitError" if status == 429 else "Exception", "Internal server error")
                    return False
                if problem := fake._authorised(self.headers.get("Authorization", "")):
                    self._error(403, "AuthError", problem)
                    return False
                return True

            def do_POST(self) -> None:  # noqa: N802
                if not self._guard():
                    return
                if self.path != "/v2/notifications/sms":
                    return self._error(404, "BadRequestError", "Not found")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                if body.get("template_id") != fake.template_id:
                    return self._error(400, "BadRequestError", "Template not found")
                number = re.sub(r"[\s()-]", "", str(body.get("phone_number", "")))
                if not re.fullmatch(r"(\+44|0)7\d{9}", number):
                    return self._error(400, "ValidationError", "phone_number Not a UK mobile number")
                if "message" not in (body.get("personalisation") or {}):
                    return self._error(400, "BadRequestError", "Missing personalisation: message")
                notification_id = str(uuid.uuid4())
                fake.sent[notification_id] = {**body, "status": fake.status_of_new}
                self._answer(201, {
                    "id": notification_id, "reference": body.get("reference"),
                    "content": {"body": body["personalisation"]["message"], "from_number": "GOVUK"},
                    "uri": f"{fake.url}/v2/notifications/{notification_id}",
                    "template": {"id": fake.template_id, "version": 1,
                                 "uri": f"{fake.url}/v2/template/{fake.template_id}"}})

            def do_GET(self) -> None:  # noqa: N802
                if not self._guard():
                    return
                match = re.fullmatch(r"/v2/notifications/([0-9a-f-]{36})", self.path)
                if not match or match.group(1) not in fake.sent:
                    return self._error(404, "NoResultFound", "No result found")
                sent = fake.sent[match.group(1)]
                self._answer(200, {"id": match.group(1), "reference": sent.get("reference"), "type": "sms",
                                   "phone_number": sent["phone_number"], "status": sent["status"],
                                   "body": sent["personalisation"]["message"],
                                   "template": {"id": fake.template_id, "version": 1}})

        return Handler
