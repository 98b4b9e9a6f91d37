FROM python:3.11-slim-bookworm

# CJK fonts and HarfBuzz subsetting for PDFs (without libharfbuzz-subset0 WeasyPrint is ~60x slower).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Containers run as an unprivileged user; only the media volume is writable by it.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /data/media && chown app:app /data/media
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only-not-used HISTORY_HMAC_KEY=build-only-not-used-0123456789abcdef \
    python manage.py collectstatic --noinput -v 0
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
