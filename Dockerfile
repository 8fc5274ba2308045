# Retouch on a GPU machine: the canvas built by Node, the server on Python with PyPI's CUDA torch.
FROM node:20-bookworm-slim AS canvas
WORKDIR /src
COPY frontend/ frontend/
COPY backend/ backend/
RUN if [ -f frontend/package.json ]; then cd frontend && npm ci && npm run build; fi

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# PyPI's builds (=== so no local +cpu wheel is taken): spandrel imports torchvision, built against this torch
ARG TORCH_SPEC="torch===2.13.0 torchvision===0.28.0"
RUN pip install ${TORCH_SPEC}
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY --from=canvas /src/backend/retouch/ backend/retouch/
RUN pip install ".[cluster]"
COPY models/ models/
VOLUME ["/data", "/app/models"]
EXPOSE 8000
# Inside the container the server must listen beyond loopback, so it needs RETOUCH_TOKEN.
CMD ["retouch", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
