"""The append-only, hash-chained history: append under a lock, verify from the start."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User

from .models import ChainHead, HistoryEntry

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-safe and stable across a database round trip (dates, decimals become strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def entry_digest(entry: HistoryEntry) -> str:
    at = entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    body = {
        "prev": entry.prev_hash,
        "case": entry.case_id,
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "role": entry.role,
        "organisation": entry.organisation,
        "at": at,
        "action": entry.action,
        "from": entry.from_state,
        "to": entry.to_state,
        "reason": entry.reason,
        "changes": entry.changes,
        "ip": entry.ip,
        "via": entry.via,
    }
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who is acting, through which door, from where."""

    user: User | None
    role: str = ""
    organisation: str = ""
    ip: str | None = None
    via: str = "web"

    @property
    def name(self) -> str:
        return self.user.display_name() if self.user is not None else "系统"


def _head_locked() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            ChainHead.objects.create(pk=1, last_hash=GENESIS)
    except IntegrityError:
        pass
    return ChainHead.objects.select_for_update().get(pk=1)


def history_append(
    *,
    case_id: int | None,
    actor: Actor,
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> HistoryEntry:
    """Append one entry; must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history_append must run inside a transaction")
    head = _head_locked()
    entry = HistoryEntry(
        case_id=case_id,
        actor=actor.user,
        actor_name=actor.name,
        role=actor.role,
        organisation=actor.organisation,
        at=timezone.now(),
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=_canonical(changes or {}),
        ip=actor.ip,
        via=actor.via,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_digest(entry)
    entry.save(force_insert=True)
    head.last_hash = entry.hash
    head.save(update_fields=["last_hash"])
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""


def history_verify() -> ChainReport:
    """Walk the chain from the start; report the first entry whose link or content is broken."""
    prev = GENESIS
    checked = 0
    for entry in HistoryEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev:
            return ChainReport(False, checked, entry.pk, f"第 {entry.pk} 条记录的前序哈希与上一条不符（记录被删除或插入）")
        if entry_digest(entry) != entry.hash:
            return ChainReport(False, checked, entry.pk, f"第 {entry.pk} 条记录的内容与其哈希不符（记录被篡改）")
        prev = entry.hash
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and checked and head.last_hash != prev:
        return ChainReport(False, checked, None, "链头哈希与最后一条记录不符（末尾记录被删除）")
    return ChainReport(True, checked)
