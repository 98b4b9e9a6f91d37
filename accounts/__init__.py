"""Users, organisations (a tree), cadres (persons), roles and management authority."""
