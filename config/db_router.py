"""Statistics read from a replica when one is configured; everything else stays on the primary.

``DATABASE_REPLICA_URL`` adds a ``replica`` alias (settings). Only reads made inside
``reports.replica.replica_reads()`` go there: the dashboard's and the annual report's aggregates. Writes,
reads outside the block, and every query when no replica is configured use ``default``.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from reports.replica import replica_reads_active

REPLICA_DB_ALIAS = "replica"


def replica_configured() -> bool:
    return REPLICA_DB_ALIAS in connections.settings


class ReplicaRouter:
    """Reads in ``replica_reads()`` to the replica; all else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        if replica_reads_active() and replica_configured():
            return REPLICA_DB_ALIAS
        # Explicitly the primary, even for an object's relations when the object was read from the replica.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replica holds the primary's rows: an object read from either may refer to the other's.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        # The replica receives the schema by replication; migrations run on the primary only.
        return False if db == REPLICA_DB_ALIAS else None
