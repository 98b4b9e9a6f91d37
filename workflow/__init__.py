"""The procedure: transitions, permissions, hash-chained history, consultations, decisions, appeals."""
