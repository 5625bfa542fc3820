"""PostgreSQL's faults as the protocol's retryable answers (server/errors.py registers these when
psycopg is installed): a dropped connection, a server shutting down, a lock or statement timeout,
a deadlock or a serialisation failure is 503 ``busy`` (nothing was written: the transaction
rolled back, and the next request opens a new connection); a full disk is 507 ``storage_full``.
Any other database error is a fault of the server, 500."""
from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors

from ..storage import Busy

RETRYABLE = (psycopg.OperationalError, pg_errors.LockNotAvailable, pg_errors.QueryCanceled,
             pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.AdminShutdown,
             pg_errors.CannotConnectNow, pg_errors.TooManyConnections)
FULL = (pg_errors.DiskFull,)


def as_busy(exc: BaseException) -> Busy | None:
    """The ``Busy`` a client should see for ``exc``, or None when it is not retryable."""
    if isinstance(exc, FULL):
        return None
    if isinstance(exc, RETRYABLE):
        return Busy(message="The database is busy or was out of reach for a moment; try again shortly.")
    return None


def is_full(exc: BaseException) -> bool:
    return isinstance(exc, FULL)
