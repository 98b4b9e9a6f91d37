"""The API schema and its documentation page need a login in production (API_DOCS_PUBLIC off)."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_and_docs_need_login_in_production(client, settings):
    settings.API_DOCS_PUBLIC = False

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 401
    assert docs.status_code == 302 and docs["Location"].startswith("/login/?next=/api/docs/")
    assert client.get("/api/docs/?script=").status_code == 302


def test_schema_and_docs_for_a_signed_in_user(client, world, settings):
    settings.API_DOCS_PUBLIC = False
    client.force_login(world.users["cadre"])
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_schema_is_open_in_development(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_production_default_is_closed():
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "API_DOCS_PUBLIC"}}
    env.update(DEBUG="0", SECRET_KEY="y" * 64, ALLOWED_HOSTS="t.example.gov", HISTORY_HMAC_KEY="k" * 48)
    code = ("import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');django.setup();"
            "from django.conf import settings as s;print(s.API_DOCS_PUBLIC)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
