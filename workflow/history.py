"""The append-only, keyed hash chain of history: append under a lock, anchor the head, verify from the start.

Entries written before the chain was keyed keep their unkeyed SHA-256 (``algorithm="sha256"``) and
still verify; every later entry is an HMAC (HMAC-SM3 in production) under ``HISTORY_HMAC_KEY``, which
lives in the environment only. Without the key an edited entry cannot be given a digest that
verifies, and the anchors (keyed as well) notice a chain that was truncated or lost its tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from rules.dates import cn_datetime

from .models import ChainHead, HistoryAnchor, HistoryEntry

GENESIS = "0" * 64
LEGACY_ALGORITHM = "sha256"
# Keyed algorithms and the hashlib/OpenSSL digest each one uses.
KEYED_ALGORITHMS = {"hmac-sm3": "sm3", "hmac-sha256": "sha256"}


class UnknownAlgorithm(ValueError):
    pass


def _key() -> bytes:
    return settings.HISTORY_HMAC_KEY.encode()


def _mac(algorithm: str, payload: bytes, key: bytes | None) -> str:
    digest = KEYED_ALGORITHMS.get(algorithm)
    if digest is None:
        raise UnknownAlgorithm(algorithm)
    return hmac.new(_key() if key is None else key, payload, digest).hexdigest()


def _canonical(value: Any) -> Any:
    """JSON-safe and stable across a database round trip (dates, decimals become strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def entry_digest(entry: HistoryEntry, *, key: bytes | None = None) -> str:
    """The entry's digest under its own algorithm (``key`` defaults to HISTORY_HMAC_KEY)."""
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
    if entry.algorithm == LEGACY_ALGORITHM:
        payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()
    # The algorithm is part of what is keyed: a keyed entry cannot be relabelled as a legacy one.
    body["algorithm"] = entry.algorithm
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _mac(entry.algorithm, payload.encode(), key)


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
        algorithm=settings.HISTORY_HMAC_ALGORITHM,
    )
    entry.hash = entry_digest(entry)
    entry.save(force_insert=True)
    head.last_hash = entry.hash
    head.save(update_fields=["last_hash"])
    return entry


def anchor_mac(anchor: HistoryAnchor, *, key: bytes | None = None) -> str:
    body = {
        "at": anchor.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "count": anchor.count,
        "last_id": anchor.last_id,
        "last_hash": anchor.last_hash,
        "algorithm": anchor.algorithm,
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return _mac(anchor.algorithm, payload.encode(), key)


def _anchor_label(anchor: HistoryAnchor) -> str:
    return f"{cn_datetime(anchor.at)} 的锚点（第 {anchor.pk} 号）"


def _anchor_problem(previous: HistoryAnchor) -> str:
    """Does the chain still hold what ``previous`` recorded? A quick look, not a full verification."""
    if previous.last_id is None:
        return ""
    entry = HistoryEntry.objects.filter(pk=previous.last_id).values("hash").first()
    count = HistoryEntry.objects.filter(pk__lte=previous.last_id).count()
    if entry is None or entry["hash"] != previous.last_hash or count != previous.count:
        return f"操作记录与{_anchor_label(previous)}不符：锚点记录为 {previous.count} 条，现为 {count} 条或末条已变"
    return ""


def history_anchor() -> tuple[HistoryAnchor, str]:
    """Copy the chain's head to a new anchor and to the audit record; return it and any problem found.

    Taken under the chain's lock, so the count and the last digest belong to the same chain. A chain
    that no longer holds what the previous anchor recorded is still anchored (the earlier anchor keeps
    its evidence), but the audit row is marked failed and the problem returned.
    """
    with transaction.atomic():
        _head_locked()
        previous = HistoryAnchor.objects.order_by("-id").first()
        problem = _anchor_problem(previous) if previous is not None else ""
        last = HistoryEntry.objects.order_by("-id").values("id", "hash").first()
        anchor = HistoryAnchor(
            at=timezone.now(),
            count=HistoryEntry.objects.count(),
            last_id=last["id"] if last else None,
            last_hash=last["hash"] if last else GENESIS,
            algorithm=settings.HISTORY_HMAC_ALGORITHM,
        )
        anchor.mac = anchor_mac(anchor)
        anchor.save(force_insert=True)
        detail = f"操作记录锚点：{anchor.count} 条，末条 #{anchor.last_id or 0}，摘要 {anchor.last_hash}"
        audit_record(
            action=AuditAction.HISTORY_ANCHOR, success=not problem, username="system",
            object_type="history_anchor", object_id=str(anchor.pk),
            detail=f"{detail}；{problem}" if problem else detail,
        )
    return anchor, problem


def _anchor_in_audit_missing(anchor_ids: set[int]) -> str:
    """The audit record keeps a copy of every anchor written; one that is gone here was deleted."""
    ids = AuditEvent.objects.filter(action=AuditAction.HISTORY_ANCHOR).values_list("object_id", flat=True)
    missing = sorted({int(i) for i in ids if i.isdigit()} - anchor_ids)
    if missing:
        return f"审计记录中的第 {missing[-1]} 号锚点已不存在（锚点被删除）"
    return ""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""
    anchors: int = 0
    latest_anchor: HistoryAnchor | None = None


def history_verify() -> ChainReport:
    """Walk the chain from the start; report the first entry whose link, content or anchor is broken.

    Every anchor must be met on the way: its last entry at the position and with the digest it recorded.
    """
    anchors = list(HistoryAnchor.objects.order_by("id"))
    latest = anchors[-1] if anchors else None
    for anchor in anchors:
        try:
            genuine = hmac.compare_digest(anchor_mac(anchor), anchor.mac)
        except UnknownAlgorithm:
            genuine = False
        if not genuine:
            return ChainReport(False, 0, None, f"{_anchor_label(anchor)}的校验码不符（锚点被篡改，或 HISTORY_HMAC_KEY 不是写入时的密钥）",
                               len(anchors), latest)
    # Anchors taken on an empty chain hold nothing to meet.
    pending = sorted((a for a in anchors if a.last_id is not None), key=lambda a: (a.last_id, a.pk))
    # Unkeyed entries are genuine only where an anchor (keyed) pins them: those written before the
    # chain was keyed, which the migration anchored.
    covered_until = pending[-1].last_id if pending else 0
    recorded = _anchor_in_audit_missing({a.pk for a in anchors})
    if recorded:
        return ChainReport(False, 0, None, recorded, len(anchors), latest)

    def failed(checked: int, broken_id: int | None, problem: str) -> ChainReport:
        return ChainReport(False, checked, broken_id, problem, len(anchors), latest)

    prev = GENESIS
    checked = 0
    keyed = False
    for entry in HistoryEntry.objects.order_by("id").iterator(chunk_size=2000):
        if pending and pending[0].last_id < entry.pk:
            anchor = pending[0]
            return failed(checked, entry.pk, f"{_anchor_label(anchor)}所记的第 {anchor.last_id} 条记录已不存在（记录被删除）")
        if entry.prev_hash != prev:
            return failed(checked, entry.pk, f"第 {entry.pk} 条记录的前序哈希与上一条不符（记录被删除或插入）")
        if entry.algorithm == LEGACY_ALGORITHM and (keyed or entry.pk > covered_until):
            return failed(checked, entry.pk, f"第 {entry.pk} 条记录是无密钥的 SHA-256，却不在启用密钥前的锚点之内"
                                             "（记录被伪造，或锚点被删除）")
        try:
            genuine = hmac.compare_digest(entry_digest(entry), entry.hash)
        except UnknownAlgorithm:
            return failed(checked, entry.pk, f"第 {entry.pk} 条记录的摘要算法 {entry.algorithm!r} 未知（记录被篡改）")
        if not genuine:
            return failed(checked, entry.pk, f"第 {entry.pk} 条记录的内容与其哈希不符（记录被篡改，或 HISTORY_HMAC_KEY 不是写入时的密钥）")
        keyed = keyed or entry.algorithm != LEGACY_ALGORITHM
        prev = entry.hash
        checked += 1
        while pending and pending[0].last_id == entry.pk:
            anchor = pending.pop(0)
            if anchor.count != checked or anchor.last_hash != entry.hash:
                return failed(checked, entry.pk, f"第 {entry.pk} 条记录与{_anchor_label(anchor)}不符：锚点记为第 "
                                                 f"{anchor.count} 条，实为第 {checked} 条（记录被删除、插入或改写）")
    if pending:
        anchor = max(pending, key=lambda a: (a.count, a.pk))
        return failed(checked, None, f"操作记录只有 {checked} 条，而{_anchor_label(anchor)}记为 {anchor.count} 条"
                                     "（记录被清空或末尾被回滚）")
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and checked and head.last_hash != prev:
        return failed(checked, None, "链头哈希与最后一条记录不符（末尾记录被删除）")
    return ChainReport(True, checked, anchors=len(anchors), latest_anchor=latest)
