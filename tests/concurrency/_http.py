"""Stdlib HTTP clients for the concurrency tests: each thread its own connection, all
released at the same moment by a barrier (threads here, processes in the check-in race)."""

import http.client
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Answer:
    status: int
    body: dict | None
    pid: str | None  # the gunicorn worker that answered
    index: int  # which request of the batch this answers


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body=None, token=None, index: int = 0
) -> Answer:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = {"raw": raw[:500].decode(errors="replace")}
    return Answer(response.status, parsed, response.getheader("X-Worker-Pid"), index)


def fire(
    port: int,
    requests: list[tuple[str, str, dict | None, str | None]],
    threads: int,
    barrier_timeout: float = 30,
) -> list[Answer]:
    """Send ``requests`` (method, path, body, token) from ``threads`` threads that start
    together; each thread takes the next request from a shared list (so the order they
    reach the server is the server's business). Answers are returned in completion order."""
    lock = threading.Lock()
    pending = list(enumerate(requests))[::-1]
    answers: list[Answer] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads, timeout=barrier_timeout)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            start.wait()
            while True:
                with lock:
                    if not pending:
                        return
                    index, (method, path, body, token) = pending.pop()
                answer = call(conn, method, path, body, token, index)
                with lock:
                    answers.append(answer)
        except BaseException as exc:  # reported to the test, never swallowed
            errors.append(exc)
        finally:
            conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return answers


def fire_from_process(port: int, requests: list, threads: int, process_barrier, results) -> None:
    """Child process: ``fire`` once every process reached ``process_barrier``; put the
    answers (plain dicts) on the ``results`` queue, or the error's text."""
    try:
        process_barrier.wait(timeout=60)
        answers = [
            {
                "status": a.status,
                "body": a.body,
                "pid": a.pid,
                "index": a.index,
                "client_pid": os.getpid(),
            }
            for a in fire(port, requests, threads)
        ]
    except BaseException as exc:
        results.put(f"{type(exc).__name__}: {exc}")
        raise
    results.put(answers)


def wait_until_ready(
    port: int, alive: Callable[[], bool], deadline_seconds: float, pause: Callable[[], None]
) -> None:
    """Poll the server until it answers, at most ``deadline_seconds``; ``alive`` says whether
    the server process still runs and ``pause`` waits a moment between attempts."""
    import time

    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited before answering")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        pause()
    raise RuntimeError(f"the server did not answer within {deadline_seconds} s")
