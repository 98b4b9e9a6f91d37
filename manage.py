#!/usr/bin/env python
"""Django's command-line utility, with a one-line error for bad configuration."""

import os
import sys

# Commands that need the database and broker: check them first and fail with one clear line.
PREFLIGHT_COMMANDS = {"runserver", "migrate", "seed_demo", "createsuperuser", "verify_history", "check_services"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        sys.exit("配置错误：" + " ".join(str(exc).split()))
    if len(sys.argv) > 1 and sys.argv[1] in PREFLIGHT_COMMANDS:
        from config.preflight import service_problems

        problems = service_problems()
        if problems:
            sys.exit("\n".join(problems))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
