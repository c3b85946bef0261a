# Buzzwatch worker image: `docker compose up` builds it; `buzzwatch --help` inside lists commands.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY buzzwatch ./buzzwatch
COPY streams ./streams
COPY agents ./agents
COPY config ./config
COPY deploy/kafka ./deploy/kafka
RUN pip install .
EXPOSE 6066
ENTRYPOINT ["buzzwatch"]
CMD ["worker"]
