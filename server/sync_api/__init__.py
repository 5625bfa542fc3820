"""Sync as one feature: push, pull and the conflict queue (docs/protocol.md §3–§5).

``routes.py``     the API: ``/api/sync/push``, ``/api/sync/pull``, ``/api/conflicts``
``conflicts.py``  the conflict queue, read and resolved: the one module the API and the office share
``pages.py``      the office: ``/office/conflicts``

The engine is ``sync``; this package opens the transactions it writes in (a
push is ``sync.prepare`` outside the write lock, then ``sync.apply`` inside
``with db.write()`` beside the push's audit record and the device's last sync).
This module imports nothing.
"""
