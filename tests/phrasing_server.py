"""A small OpenAI-compatible chat server for the tests: it speaks ``POST /chat/completions`` and
answers with canned replies, so the tests check kgrec's plumbing (request, budget, verdict,
cache), not a model."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CannedChat:
    """``reply(facts)`` gives the reply to a request whose last message is ``facts``;
    ``delay_s`` makes every answer late; ``requests`` keeps what was asked (body, headers)."""

    def __init__(self, reply: Callable[[str], str], delay_s: float = 0.0, status: int = 200) -> None:
        self.reply, self.delay_s, self.status = reply, delay_s, status
        self.requests: list[tuple[dict, dict]] = []
        self.url = ""


@contextmanager
def canned_chat_server(chat: CannedChat) -> Iterator[CannedChat]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            chat.requests.append((body, dict(self.headers)))
            time.sleep(chat.delay_s)
            if self.path != "/v1/chat/completions" or chat.status != 200:
                self.send_response(404 if chat.status == 200 else chat.status)
                self.end_headers()
                return
            answer = {"id": "canned", "object": "chat.completion", "model": body["model"],
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": chat.reply(body["messages"][-1]["content"])}}]}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="canned-chat", daemon=True)
    thread.start()
    chat.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield chat
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
