"""`kgrec serve` end to end: a real uvicorn process on 127.0.0.1, stopped cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from api_fixtures import free_port

pytestmark = pytest.mark.neo4j


class Served:
    """A running `kgrec serve`: its base URL, port and process."""

    def __init__(self, port: int, process: subprocess.Popen):
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
def served(neo4j_settings) -> Iterator[Served]:
    port = free_port()
    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": neo4j_settings.password,
           "NEO4J_DATABASE": neo4j_settings.database, "KGREC_MAX_BODY_BYTES": "4096"}
    server = subprocess.Popen([sys.executable, "-m", "kgrec.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                time.sleep(0.2)
        yield Served(port, server)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=30)


def test_kgrec_serve_answers_and_stops_on_sigterm(served):
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{served.url}/docs").status_code == 200
    assert httpx.get(f"{served.url}/readyz").status_code in (200, 503)
    served.process.send_signal(signal.SIGTERM)
    output, _ = served.process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so callers see why it stopped
    assert served.process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output and "Traceback" not in output


def test_a_huge_declared_body_is_refused_before_a_byte_of_it_is_sent(served):
    """A client announces 10 GB and sends nothing: the answer must not wait for the body."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 10000000000\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):  # the server closes the connection after its answer
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413") and b'"code":"body_too_large"' in reply


def test_metrics_over_http_count_requests_and_neo4j_errors(served):
    httpx.get(f"{served.url}/healthz")
    httpx.post(f"{served.url}/v1/interactions", content=b"x" * 5000)
    text = httpx.get(f"{served.url}/metrics").text
    assert 'kgrec_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'kgrec_http_requests_total{method="POST",route="/v1/interactions",status="413"} 1.0' in text
    assert "kgrec_http_request_duration_seconds_bucket{" in text and "kgrec_neo4j_errors_total" in text
