# The service image: pinned dependencies, migrations on start (advisory-locked on PostgreSQL).
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# var/ holds uploaded files and the secrets key file: a volume in docker-compose.yml keeps it.
RUN mkdir -p /app/var && pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && useradd --system --home /app backoffice && chown -R backoffice /app
USER backoffice
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["sh", "-c", "backoffice migrate && exec backoffice serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
