"""Statistics may read from a replica: the reads inside ``replica_reads()`` go there when one is configured.

The dashboard's and the annual report's aggregates tolerate a replica a moment behind the primary and
would otherwise compete with case work for it. The routing itself is config.db_router's (wiring); this
module only marks the reads, so that no app imports the wiring.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

# A context variable rather than a thread-local: it follows the code into async views and is reset on
# leaving the block even when an exception passes through.
_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Send the reads inside this block to the replica, if there is one; writes still go to the primary."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads_active() -> bool:
    return _replica_reads.get()
