"""The second factor: time-based one-time codes (TOTP, RFC 6238), for office and admin sign-in.

Written with ``hmac`` from the standard library rather than a package: TOTP is HOTP (RFC 4226,
an HMAC-SHA1 and a dynamic truncation) over the 30-second step number, a dozen lines checked
against RFC 6238's own test vectors (tests/server/test_totp.py), and one less dependency to
keep up with. Codes are 6 digits, SHA-1, 30 s: what every authenticator app reads from an
``otpauth://`` URI.

The rules (docs/users.md): an office or admin user who has set up a second factor is always
asked for a code; with ``DOORSTEP_REQUIRE_TOTP`` on, one who has not is made to set one up at
sign-in. Officers are not asked. A code is accepted one step either side of the server's clock, and once only (the step
used is kept). Five wrong codes in a row stop the code step for 15 minutes: only someone who
already has the password can get that far, so a stranger cannot use it to lock a user out.
"""
from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from typing import Literal
from urllib.parse import quote, urlencode

from sync import ADMIN, OFFICE

from .. import audit
from ..config import Settings
from ..errors import ApiError, invalid
from ..storage import Database
from ..util import now_iso
from .accounts import User

STEP_S = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after the server's is accepted too
MAX_FAILURES = 5
LOCK_S = 15 * 60
ISSUER = "Doorstep"
ROLES = (OFFICE, ADMIN)

Need = Literal["none", "code", "enrol"]


# -- RFC 4226 / RFC 6238 ---------------------------------------------------------------------

def new_secret() -> str:
    """160 random bits (RFC 4226's recommended length) as unpadded base32."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    clean = secret.replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC of the 8-byte counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def step_at(unix_time: float) -> int:
    return int(unix_time // STEP_S)


def code_at(secret: str, step: int) -> str:
    """The code of ``secret`` for the 30-second step ``step``."""
    return hotp(_key(secret), step)


def normalise(code: object) -> str | None:
    """The code as typed (spaces and hyphens allowed) when it is six digits, else None."""
    if not isinstance(code, str) or len(code) > 20:
        return None
    digits = code.replace(" ", "").replace("-", "")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The step within the drift window whose code this is (compared in constant time)."""
    key, here = _key(secret), step_at(now)
    found = None
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(key, step), code):
            found = step
    return found


def uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or pasted)."""
    label = quote(f"{ISSUER}:{username}", safe="")
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_S})
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# -- who is asked, and checking a code -----------------------------------------------------------

def _row(db: Database, user_id: str) -> dict | None:
    rows = db.query("SELECT totp_secret, totp_enabled_at FROM users WHERE id = ?", (user_id,))
    return rows[0] if rows else None


def enabled(db: Database, user_id: str) -> bool:
    row = _row(db, user_id)
    return bool(row and row["totp_enabled_at"])


def needed(db: Database, settings: Settings, user: User) -> Need:
    """For an office or admin user: ``code`` when they have a second factor, ``enrol`` when the
    setting requires one they have not set up, else ``none``. Officers: always ``none`` (their
    phone is a revocable device locked by a PIN; the field app has no code step)."""
    if user.role not in ROLES:
        return "none"
    if enabled(db, user.id):
        return "code"
    return "enrol" if settings.require_totp else "none"


def _locked(failures: int, failed_at: float | None, now: float) -> int:
    """Seconds until the code step opens again (0: open)."""
    if failures >= MAX_FAILURES and failed_at is not None and now - failed_at < LOCK_S:
        return int(LOCK_S - (now - failed_at)) + 1
    return 0


def verify(db: Database, user_id: str, code: object, *, pending: bool = False,
           now: float | None = None) -> None:
    """Check a code against the user's secret (``pending``: the one being set up, which a good
    code confirms). Raises ApiError: 429 ``rate_limited`` after too many wrong codes, 401
    ``totp_invalid`` for a wrong, reused or malformed code (counted)."""
    now = time.time() if now is None else now
    typed = normalise(code)
    outcome: ApiError | None = None
    with db.write() as txn:
        rows = txn.rows("SELECT username, totp_secret, totp_enabled_at, totp_last_step, totp_failures, "
                        "totp_failed_at FROM users WHERE id = ?", (user_id,))
        if not rows or not rows[0]["totp_secret"] or bool(rows[0]["totp_enabled_at"]) == pending:
            raise ApiError(401, "totp_invalid", "there is no second factor to check; sign in again")
        row = rows[0]
        wait = _locked(row["totp_failures"], row["totp_failed_at"], now)
        if wait:
            raise ApiError(429, "rate_limited", "too many wrong codes; try again later",
                           {"retry_after_s": wait}, headers={"Retry-After": str(wait)})
        step = matching_step(row["totp_secret"], typed, now) if typed else None
        if step is None or (row["totp_last_step"] is not None and step <= row["totp_last_step"]):
            failures = 1 if _expired(row["totp_failed_at"], now) else row["totp_failures"] + 1
            txn.execute("UPDATE users SET totp_failures = ?, totp_failed_at = ? WHERE id = ?",
                        (failures, now, user_id))
            outcome = ApiError(401, "totp_invalid", "that code is wrong or was already used; enter the "
                               "current code from your authenticator app",
                               {"attempts_left": max(0, MAX_FAILURES - failures)})
        else:
            txn.execute("UPDATE users SET totp_last_step = ?, totp_failures = 0, totp_failed_at = NULL, "
                        "totp_enabled_at = coalesce(totp_enabled_at, ?) WHERE id = ?", (step, now_iso(), user_id))
            if pending:
                audit.record(txn, user_id, None, "totp_enrolled", [user_id])
    if outcome is not None:
        raise outcome


def _expired(failed_at: float | None, now: float) -> bool:
    return failed_at is None or now - failed_at >= LOCK_S


def start_enrolment(db: Database, user_id: str) -> str:
    """A new pending secret for a user with no second factor (replacing any pending one)."""
    secret = new_secret()
    with db.write() as txn:
        cur = txn.execute("UPDATE users SET totp_secret = ?, totp_last_step = NULL, totp_failures = 0, "
                          "totp_failed_at = NULL WHERE id = ? AND totp_enabled_at IS NULL", (secret, user_id))
    if cur.rowcount != 1:
        raise ApiError(409, "conflict", "a second factor is already set up")
    return secret


def pending_secret(db: Database, user_id: str) -> str | None:
    row = _row(db, user_id)
    return row["totp_secret"] if row and not row["totp_enabled_at"] else None


def code_field(data: dict) -> str | None:
    """``totp_code`` of a sign-in body: absent, null or a string of at most 20 characters (422 else)."""
    code = data.get("totp_code")
    if code is not None and (not isinstance(code, str) or len(code) > 20):
        raise invalid("totp_code must be a string of at most 20 characters", field="totp_code")
    return code


def check_api_login(db: Database, settings: Settings, user: User, code: str | None) -> None:
    """``POST /api/auth/login`` after a right password: 403 ``totp_enrolment_required`` when the
    user must set up a second factor first (in the office), 401 ``totp_required`` when the code is
    missing, else ``verify``."""
    need = needed(db, settings, user)
    if need == "none":
        return
    if need == "enrol":
        raise ApiError(403, "totp_enrolment_required", "this account must set up a second factor first: "
                       "sign in to the office pages at /office/ and follow the steps")
    if code is None or not code.strip():
        raise ApiError(401, "totp_required", "this account signs in with a code from an authenticator app: "
                       "send it as totp_code")
    verify(db, user.id, code)
