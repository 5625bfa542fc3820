"""The server clock's high-water mark, kept in the database: stamps increase in commit order
across server processes (several app servers on one database, or ``serve --workers N``), each
with its own ``Clock("server")`` (docs/protocol.md §6).

The mark is the latest stamp any server process issued or received inside a write transaction
that committed. Writers are serialised (SQLite's write lock; the PostgreSQL store's ``max_seq``
row lock), so a write transaction that first advances its clock past the mark (``catch_up``)
and at its end stores its last stamp as the new mark (``keep``) stamps later than every write
committed before it, whatever the wall clocks of the processes say. A pull catches up too
(in its read snapshot), so its ``server_hlc`` is later than every stamp it hands out.

Every server stamp made inside a write transaction comes from ``server_stamp`` (or a push
batch, which catches up when it starts and keeps its ``server_hlc``; a batch of the server's own
changes is stamped inside it by ``stamp_changes``). The mark is one of the
store's named counters (``Txn.counter``): ``(ms, counter)`` packed into one integer, as the
node id plays no part in what a clock receives.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from . import hlc as _hlc
from .store import Txn
from .types import Change


class Prepared(Protocol):
    """A prepared batch (``sync.prepare``), as far as stamping it goes."""

    changes: Sequence[object]

KEY = "hlc_mark"
_SPAN = _hlc.MAX_COUNTER + 1  # a stamp's counter is below this: (ms, counter) packs exactly
# The stamp of a change the server makes itself (a roll import's, a transport plan's) until
# ``stamp_changes`` stamps it inside the write transaction that applies it.
UNSTAMPED = "000000000000000-000000-unstamped"


def catch_up(txn: Txn, clock: _hlc.Clock) -> None:
    """Advance ``clock`` past the stored mark: its next stamp is later than every stamp a
    committed write of any server process issued or received (as of ``txn``)."""
    packed = txn.counter(KEY)
    if packed:
        clock.receive(_hlc.Stamp(packed // _SPAN, packed % _SPAN, ""))


def keep(txn: Txn, stamp: str) -> None:
    """Store ``stamp`` as the mark: the last stamp of a write transaction that caught up first
    (so it is later than the mark it replaces)."""
    s = _hlc.parse(stamp)
    txn.set_counter(KEY, s.ms * _SPAN + s.counter)


def server_stamp(txn: Txn, clock: _hlc.Clock) -> str:
    """A server stamp inside the write transaction ``txn``: later than every stamp committed by
    any server process, and the new mark."""
    catch_up(txn, clock)
    stamp = clock.send()
    keep(txn, stamp)
    return stamp


def stamp_changes(txn: Txn, clock: _hlc.Clock, prepared: Prepared) -> None:
    """Stamp the server's own changes, prepared before their write transaction (carrying
    ``UNSTAMPED``), inside ``txn`` just before ``sync.apply``: caught up on the mark first, so
    each is later than every committed write; the batch then keeps its ``server_hlc``, later
    than all of them, as the new mark (when it writes anything)."""
    catch_up(txn, clock)
    for change in prepared.changes:
        if isinstance(change, Change):
            change.hlc = clock.send()
