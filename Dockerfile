# The kgrec API (and CLI) image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgrec ./kgrec
RUN pip install --no-cache-dir uv && uv pip install --system --compile-bytecode --no-cache .
# The API needs no privileges: run it as an unprivileged user, so a flaw in it is not root.
RUN useradd --create-home --uid 10001 kgrec
USER kgrec
EXPOSE 8000
CMD ["kgrec", "serve", "--host", "0.0.0.0", "--port", "8000"]
