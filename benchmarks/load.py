"""Load on the chat server: simulated users asking seed questions at once, for a fixed time.

    .venv/bin/python benchmarks/load.py                 # starts `assistant serve` on a copy
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860   # a running server

Each simulated user is a real HTTP client of the server's ``/answer`` API endpoint
(``POST /gradio_api/run/answer``), which runs the same library call as the chat window. It
asks questions one after the other until the time is up (the run stops by itself), and the
script prints requests served, errors, throughput and latency p50/p95. Target (issue 6): zero
errors, p95 under 2 s with the extractive answerer, 20 users for 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

QUESTIONS = [
    "What did Peskov say about sanctions?",
    "Apa kata Peskov tentang ancaman sanksi?",
    "What did the Kremlin say about Biden's readiness for talks?",
    "Berapa banyak tentara Rusia yang berkumpul di perbatasan Ukraina?",
    "What does Russia demand about NATO?",
    "What did Zelensky say about the talks?",  # unanswerable: the assistant abstains
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    """`assistant serve` on a fresh index (the shipped article), on a free port."""
    index = Path(tempfile.mkdtemp(prefix="load-index-"))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "--index-dir",
            str(index),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("assistant serve stopped before it answered")
        try:
            if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("assistant serve did not start within 300 s")


def ask(client: httpx.Client, question: str) -> dict:
    """One question to the server's /answer endpoint; the JSON answer object."""
    response = client.post("/gradio_api/run/answer", json={"data": [question]})
    response.raise_for_status()
    answer = response.json()["data"][0]
    if "abstained" not in answer:
        raise ValueError(f"not an answer: {answer!r}"[:200])
    return answer


def user(url: str, until: float, n: int, latencies: list[float], errors: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        i = n
        while time.monotonic() < until:
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            t0 = time.perf_counter()
            try:
                ask(client, question)
                latencies.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 (every failure is counted and reported)
                errors.append(f"{type(exc).__name__}: {exc}"[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running chat server (default: start one)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        print("starting assistant serve on a fresh index...", file=sys.stderr)
        server, url = start_server()
    try:
        with httpx.Client(base_url=url, timeout=60) as warm:
            ask(warm, QUESTIONS[0])
        latencies: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=user, args=(url, until, n, latencies, errors))
            for n in range(args.users)
        ]
        print(f"{args.users} users asking for {args.seconds:g} s...", file=sys.stderr)
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    ordered = sorted(latencies)
    figures = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "requests_served": len(latencies),
        "errors": len(errors),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "latency_p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3) if ordered else None,
        "latency_max_s": round(ordered[-1], 3) if ordered else None,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:18s} {value}")
    for error in sorted(set(errors))[:5]:
        print(f"error: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
