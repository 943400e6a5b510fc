# Production image: web (gunicorn), worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=portal.settings.prod
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
RUN python - <<'PY' > requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Person-detection models, built as bin/setup builds them (bin/build-models: pinned weights checked by
# sha256, ONNX export, 8-bit quantization calibrated on opencv-doc's vtest footage). The throw-away
# export environment (a CPU torch from PyTorch's CPU index, not PyPI's CUDA build) and the footage
# are removed in the same layer, so the image keeps only var/models/*.onnx, manifests and photos.
RUN apt-get update && apt-get install -y --no-install-recommends opencv-doc \
    && ( [ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] \
         || gunzip -k /usr/share/doc/opencv-doc/examples/data/vtest.avi.gz ) \
    && PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu bin/build-models python \
    && rm -rf var/models/export-venv var/models/ultralytics-config /root/.cache/pip \
    && apt-get purge -y opencv-doc && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
RUN SECRET_KEY=build-only-0123456789abcdefghijklmnopqrstuvwxyz0123456789 \
    FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput -v 0 && python manage.py compilemessages --ignore=.venv -v 0
RUN useradd --system --uid 1000 portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000
# Workers: gunicorn.conf.py (CPUs + 1; WEB_CONCURRENCY sets another number).
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
