FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings but no real secret or database.
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --no-input
RUN useradd --system --uid 1000 credtrack && mkdir -p /app/var/private && chown -R credtrack /app/var
USER credtrack
EXPOSE 8000
CMD ["gunicorn", "credtrack.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
