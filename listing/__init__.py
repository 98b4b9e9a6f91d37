"""Keyset pages and bounded counts for any list (``listing.keyset``).

Not a Django app and imports none: the case lists (workflow), the filing register (reports) and the
audit record (audit, which workflow itself imports) all page with it.
"""
