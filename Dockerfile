# One image for all Fast Track services and one-shot admin commands.
# The command decides what runs, e.g. `python -m services.telemedicine`
# or `python -m shared.admin migrate` (see docker-compose.yml).
# Third-party browser assets, fetched from the npm registry and checked against their pinned
# sha512 (deploy/web-assets.sh); only the unpacked files go into the image.
FROM node:20-slim AS web-assets
WORKDIR /app
COPY deploy/web-assets.sh ./deploy/
RUN bash deploy/web-assets.sh /app

FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1

RUN pip install "uv==0.13.8"

WORKDIR /app

# Dependencies first, so that code changes do not invalidate this layer.
COPY pyproject.toml uv.lock ./
# --locked: the build fails if uv.lock drifted from pyproject.toml.
RUN uv sync --locked --no-dev

# The code is run in place from /app (the project is not installed as a package).
COPY shared/ ./shared/
COPY services/ ./services/
COPY --from=web-assets /app/services/ ./services/
COPY --from=web-assets /app/shared/ ./shared/
COPY deploy/ ./deploy/

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app fasttrack
USER fasttrack

ENV PATH=/app/.venv/bin:$PATH

EXPOSE 8001 8002 8003

CMD ["python", "-m", "services.referral"]
