# The worker image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY models ./models
COPY pipeline ./pipeline
COPY rules ./rules
RUN pip install --no-cache-dir . \
    && python -c "import jieba; jieba.initialize()"
# The package is installed, not run from the source tree: point it at the shipped rules.
ENV CLAIMWATCH_RULES_DIR=/app/rules
CMD ["claimwatch", "worker"]
