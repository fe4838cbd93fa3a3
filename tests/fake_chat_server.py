"""A real HTTP server on 127.0.0.1 speaking OpenAI's chat-completions protocol, from a script.

Tests give it a ``reply`` function (request body -> completion text, or ``HANG``/``GARBAGE``);
it answers ``POST /v1/chat/completions`` as JSON or, with ``"stream": true``, as server-sent
events (``data: {chunk}`` lines, then ``data: [DONE]``), and records every request body.
``POST /api/chat`` speaks Ollama's native protocol (one JSON object a line while streaming).

Run alone, it is an "echo" model that answers with the numbered sentence sharing most words
with the question (to try the CLI or ``benchmarks/llm_answers.py`` without a model):

    .venv/bin/python tests/fake_chat_server.py --port 8089
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = "\x00hang"
"""Reply that makes the server wait ``hang_s`` seconds before answering."""
GARBAGE = "\x00garbage"
"""Reply that makes the server answer 200 with a body that is not the protocol."""
NOT_FOUND = "\x00notfound"
"""Reply that makes the server answer 404, as a server without the model asked for does."""
TRICKLE = "\x00trickle"
"""Reply that streams a word every ``hang_s / 10`` seconds, for ever (a model that never ends)."""

Reply = Callable[[dict[str, Any]], str]


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    server: FakeChatServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)
        text = self.server.reply(body)
        try:
            if text == HANG:
                time.sleep(self.server.hang_s)
                text = "Too late [1]."
            if text == NOT_FOUND:
                error = {"message": f"The model `{body.get('model')}` does not exist."}
                payload = json.dumps({"error": {**error, "code": "model_not_found"}}).encode()
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if text == GARBAGE:
                payload = b"<html>502 Bad Gateway: upstream exploded</html>"
                self.send_response(200)
                kind = "text/event-stream" if body.get("stream") else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload) + 8))
                self.end_headers()
                self.wfile.write(b"data: " + payload + b"\n\n")
                return
            if text == TRICKLE:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                while True:
                    self.wfile.write(_chunk("more "))
                    self.wfile.flush()
                    time.sleep(self.server.hang_s / 10)
            if self.path.startswith("/api/chat"):
                self._ollama(text, stream=body.get("stream", True))
                return
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in re.findall(r"\S+\s*|\s+", text):  # word by word, as models do
                    self.wfile.write(_chunk(piece))
                    self.wfile.flush()
                self.wfile.write(_chunk(None, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                return
            payload = json.dumps(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": "fake",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _ollama(self, text: str, *, stream: bool) -> None:
        def part(content: str, done: bool) -> bytes:
            row: dict[str, Any] = {
                "model": "fake",
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": content},
                "done": done,
            }
            if done:
                row.update(done_reason="stop", prompt_eval_count=1, eval_count=1)
            return (json.dumps(row) + "\n").encode()

        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if stream else "application/json")
        self.end_headers()
        if not stream:
            self.wfile.write(part(text, True))
            return
        for piece in re.findall(r"\S+\s*|\s+", text):
            self.wfile.write(part(piece, False))
            self.wfile.flush()
        self.wfile.write(part("", True))


class FakeChatServer(ThreadingHTTPServer):
    """The server, on a free port, serving in a daemon thread while used as a context manager."""

    daemon_threads = True

    def __init__(self, reply: Reply, *, hang_s: float = 5.0, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.reply = reply
        self.hang_s = hang_s
        self.requests: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give ``--llm-url`` with ``--llm openai``."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def ollama_url(self) -> str:
        """The base URL to give ``--llm-url`` with ``--llm ollama``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def user_text(body: dict[str, Any]) -> str:
    """The last user message of a request."""
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return users[-1] if users else ""


def system_text(body: dict[str, Any]) -> str:
    """The system message of a request."""
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def numbered(body: dict[str, Any]) -> dict[int, str]:
    """The numbered lines ``[n] text`` of the request's user message."""
    return {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^\[(\d+)\] (.*)$", user_text(body), flags=re.M)
    }


def echo(body: dict[str, Any]) -> str:
    """A model that copies: the numbered sentence closest in words to the question, cited."""
    system, user = system_text(body), user_text(body)
    if "standalone" in system:
        return user.rsplit("Last question:", 1)[-1].strip()
    lines = numbered(body)
    if "Translate" in system:
        return "\n".join(f"[{n}] {text}" for n, text in lines.items())
    question = set(re.findall(r"\w+", user.rsplit("Question:", 1)[-1].lower()))
    if not lines:
        return "The sentences do not answer the question."
    best = max(lines, key=lambda n: len(question & set(re.findall(r"\w+", lines[n].lower()))))
    sentence = re.sub(r"^\(.*?\) ", "", lines[best]).rstrip(".")
    return f"{sentence} [{best}]."


def main() -> None:
    """Serve the echo model until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    server = FakeChatServer(echo, port=args.port)
    print(f"echo model at {server.url}  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
