# The kgrec API (and CLI) image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgrec ./kgrec
RUN pip install --no-cache-dir uv && uv pip install --system --compile-bytecode --no-cache .
EXPOSE 8000
CMD ["kgrec", "serve", "--host", "0.0.0.0", "--port", "8000"]
