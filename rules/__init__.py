"""Rule-set files, their loader and the pure evaluation engine; imports no other app."""
