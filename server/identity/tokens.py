"""Access tokens (JWT, HS256) signed with rotatable keys named by ``kid``.

Keys live in the ``signing_keys`` table so every worker process and every
restart shares them. Rotating adds a new current key; tokens signed with a
key that was retired (``retire``) are refused, tokens from a key that is
merely no longer current still verify until they expire.

Every token names its authority in ``aud``: the authority's name when one server answers for
several (server/tenancy), else ``SINGLE_AUDIENCE``. A token naming another authority is refused
even if it was signed with a key this database holds. A token naming none (issued before ``aud``
was added) is accepted only by a server for one authority, until it expires; a server for
several refuses it.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from ..storage import Database, SqliteTxn
from ..util import now_iso


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Claims:
    user_id: str
    role: str
    device_id: str
    jti: str
    exp: int


SINGLE_AUDIENCE = "doorstep"  # ``aud`` outside tenancy mode


class Signer:
    def __init__(self, db: Database, algorithm: str = "HS256", authority: str | None = None) -> None:
        self.db, self.algorithm = db, algorithm
        self.audience = authority or SINGLE_AUDIENCE
        self.accept_no_audience = authority is None  # tokens from before ``aud``: one authority only
        self._seen: dict[str, tuple[str, str, Claims]] = {}  # token -> (kid, secret, claims): passed
        self._seen_lock = threading.Lock()

    def ensure_key(self) -> str:
        rows = self.db.query("SELECT kid FROM signing_keys WHERE retired_at IS NULL "
                             "ORDER BY created_at DESC, kid DESC LIMIT 1")
        return rows[0]["kid"] if rows else self.rotate()

    def rotate(self) -> str:
        kid = uuid.uuid4().hex[:12]
        with self.db.write() as txn:
            txn.execute("INSERT INTO signing_keys (kid, secret, created_at) VALUES (?, ?, ?)",
                        (kid, secrets.token_urlsafe(48), now_iso()))
        return kid

    def retire(self, kid: str) -> bool:
        with self.db.write() as txn:
            cur = txn.execute("UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL",
                              (now_iso(), kid))
        return cur.rowcount == 1

    def _secret(self, kid: str, txn: SqliteTxn | None = None) -> str | None:
        # read every time: a key retired by another process (the CLI, another worker) is refused at once
        sql, params = "SELECT secret FROM signing_keys WHERE kid = ? AND retired_at IS NULL", (kid,)
        rows = txn.rows(sql, params) if txn is not None else self.db.query(sql, params)
        return rows[0]["secret"] if rows else None

    def sign(self, user_id: str, role: str, device_id: str, ttl_s: int) -> str:
        kid = self.ensure_key()
        now = int(time.time())
        claims = {"sub": user_id, "role": role, "dev": device_id, "iat": now, "exp": now + ttl_s,
                  "jti": uuid.uuid4().hex, "aud": self.audience}
        return jwt.encode(claims, self._secret(kid) or "", algorithm=self.algorithm, headers={"kid": kid})

    def verify(self, token: str, txn: SqliteTxn | None = None) -> Claims:
        """The token's claims, its key read in ``txn`` (the caller's read of the device) or a read
        of its own. A token that passed is remembered with the secret it was checked with: its
        signature and claims are not checked again while the key's secret is the same. The key's
        being accepted still and the expiry are checked on every request."""
        seen = self._seen.get(token)
        kid = seen[0] if seen is not None else _kid(token)
        secret = self._secret(kid, txn) if kid is not None else None
        if secret is None:
            raise TokenError("unauthenticated", "the access token was signed with a key no longer accepted")
        if seen is not None and seen[1] == secret:
            claims = seen[2]
        else:
            claims = _checked(token, secret, self.algorithm, self.audience, self.accept_no_audience)
            self._remember(token, (kid, secret, claims))
        if claims.exp <= time.time():  # as PyJWT decides it
            raise TokenError("token_expired", "the access token has expired; refresh it")
        return claims

    def _remember(self, token: str, entry: tuple[str, str, Claims]) -> None:
        """Only tokens that passed (ours, a few hundred bytes each), at most ``CHECKED_TOKENS``,
        the oldest forgotten first: what a client makes up never fills the memory."""
        with self._seen_lock:
            while len(self._seen) >= CHECKED_TOKENS:
                del self._seen[next(iter(self._seen))]
            self._seen[token] = entry


# Tokens a signer remembers: a phone sends the same token for its 15 minutes.
CHECKED_TOKENS = 4096


def _kid(token: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise TokenError("unauthenticated", "the access token is not a valid token") from None
    return kid if isinstance(kid, str) else None


def _checked(token: str, secret: str, algorithm: str, audience: str, accept_no_audience: bool) -> Claims:
    """The signature and claims checked, or a ``TokenError`` saying what is wrong."""
    try:
        data = _decode(token, secret, algorithm, audience, accept_no_audience)
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired", "the access token has expired; refresh it") from None
    except jwt.InvalidAudienceError:
        raise TokenError("unauthenticated", "the access token belongs to another authority") from None
    except jwt.MissingRequiredClaimError as exc:
        what = "names no authority" if exc.claim == "aud" else "is missing claims"
        raise TokenError("unauthenticated", f"the access token {what}") from None
    except jwt.PyJWTError:
        raise TokenError("unauthenticated", "the access token is not valid") from None
    if not all(isinstance(data.get(k), str) for k in ("sub", "role", "dev", "jti")):
        raise TokenError("unauthenticated", "the access token is missing claims")
    return Claims(data["sub"], data["role"], data["dev"], data["jti"], int(data["exp"]))


def _decode(token: str, secret: str, algorithm: str, audience: str, accept_no_audience: bool) -> dict[str, Any]:
    """The verified claims. ``aud`` must be exactly this authority's (PyJWT, strict). A token
    without ``aud`` raises PyJWT's ``MissingRequiredClaimError`` (it does when ``audience`` is
    passed); outside tenancy mode it is decoded again without an audience, which PyJWT
    accepts only for a token with no ``aud`` at all."""
    options: Any = {"require": ["exp", "iat", "sub", "jti"], "strict_aud": True}
    try:
        return jwt.decode(token, secret, algorithms=[algorithm], audience=audience, options=options)
    except jwt.MissingRequiredClaimError as exc:
        if exc.claim != "aud" or not accept_no_audience:
            raise
    data: dict[str, Any] = jwt.decode(token, secret, algorithms=[algorithm], options=options)
    if "aud" in data:  # an empty one: never issued here
        raise jwt.InvalidAudienceError("the token names no authority")
    return data
