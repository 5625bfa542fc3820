"""A reference sync client: what a device does, without a UI or a network.

It keeps the server's copy of each record apart from the outbox of pending
changes; the device's view is the server copy with the outbox laid over it,
so a rejected or lost change falls back to the server's value by itself.
Tests, load tests and benchmarks drive it; the PWA implements the same in JS.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .hlc import Clock

PushFn = Callable[[list[dict[str, Any]]], dict[str, Any]]
PullFn = Callable[[str | None], dict[str, Any]]


@dataclass
class ServerCopy:
    version: int
    fields: dict[str, Any]


@dataclass
class Device:
    device_id: str
    clock: Clock = field(init=False)
    records: dict[tuple[str, str], ServerCopy] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None
    results: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = Clock(self.device_id)

    # -- local work ------------------------------------------------------------
    def put(self, type_: str, id_: str, fields: dict[str, Any]) -> dict[str, Any]:
        copy = self.records.get((type_, id_))
        change = {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put",
                  "fields": dict(fields), "base_version": copy.version if copy else None,
                  "hlc": self.clock.send()}
        self.outbox.append(change)
        return change

    def delete(self, type_: str, id_: str) -> dict[str, Any]:
        copy = self.records.get((type_, id_))
        change: dict[str, Any] = {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "delete", "fields": {},
                  "base_version": copy.version if copy else None, "hlc": self.clock.send()}
        self.outbox.append(change)
        return change

    def view(self, type_: str, id_: str) -> dict[str, Any] | None:
        """The record as the officer sees it: server copy plus pending changes."""
        copy = self.records.get((type_, id_))
        fields = dict(copy.fields) if copy else None
        for change in self.outbox:
            if (change["type"], change["id"]) != (type_, id_):
                continue
            if change["op"] == "delete":
                fields = None
            else:
                fields = {**(fields or {}), **change["fields"]}
        return fields

    # -- sync ------------------------------------------------------------------
    def push(self, send: PushFn, batch: list[dict[str, Any]] | None = None,
             deliver: bool = True) -> dict[str, Any]:
        """Send a batch (default: the whole outbox). ``deliver=False`` loses the answer."""
        batch = list(self.outbox if batch is None else batch)
        answer = send(batch)
        if not deliver:
            return answer
        self.clock.receive(answer["server_hlc"])
        done = set()
        for change, result in zip(batch, answer["results"]):
            self.results.append((change, result))
            if result["status"] in ("applied", "merged", "duplicate", "rejected"):
                done.add(change["change_id"])
        self.outbox = [c for c in self.outbox if c["change_id"] not in done]
        return answer

    def pull(self, fetch: PullFn) -> int:
        """Pull until has_more is false; returns how many items arrived."""
        count = 0
        while True:
            answer = fetch(self.cursor)
            self.clock.receive(answer["server_hlc"])
            if answer.get("reset"):
                self.records.clear()
                self.cursor = None
                continue
            for item in answer["changes"]:
                key = (item["type"], item["id"])
                if item.get("removed") or item.get("deleted"):
                    self.records.pop(key, None)
                else:
                    fields = {k: v for k, v in item["fields"].items()
                              if k not in ("id", "created_at", "created_by", "updated_at", "updated_by")}
                    self.records[key] = ServerCopy(item["version"], fields)
                count += 1
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                return count
