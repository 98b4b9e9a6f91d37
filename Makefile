# The two commands: `make run` (embedded: SQLite, tasks in-process, demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv deps dev-deps check lint bench bench-reports bench-scale load-api system-packages worker

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

deps: $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt

dev-deps: $(VENV)/bin/activate
	$(PIP) install -q -r requirements-dev.txt

system-packages:
	@scripts/system-packages

run: deps
	@scripts/check-fonts
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo $(if $(DEMO_PASSWORD),--password $(DEMO_PASSWORD),)
	@echo ""
	@echo "打开 http://$(HOST):$(PORT)/  （API 文档：http://$(HOST):$(PORT)/api/docs/）"
	SITE_URL="$(or $(SITE_URL),http://$(HOST):$(PORT))" $(PY) manage.py runserver $(HOST):$(PORT)

lint: dev-deps
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run -v 0

test: system-packages dev-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: dev-deps
	$(PY) benchmarks/bench_rules.py

bench-reports: dev-deps
	$(PY) benchmarks/bench_reports.py

# Both need DATABASE_URL naming a database filled by `manage.py generate_cases --count N`.
bench-scale: dev-deps
	$(PY) benchmarks/bench_scale.py

load-api: dev-deps
	$(PY) benchmarks/load_api.py

worker: deps
	$(VENV)/bin/celery -A config worker -l info --concurrency 2
