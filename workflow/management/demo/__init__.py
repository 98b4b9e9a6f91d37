"""The demo data ``manage.py seed_demo`` writes: organisations, logins and cadres (``world``) and
cases in every state (``cases``). Kept beside the command, out of the production modules; it writes
only through the services, so the demo is built the way real data is."""
