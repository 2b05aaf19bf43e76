"""What the monitors look at and where their alerts go: flipping targets and a webhook receiver.

`Targets` is one HTTP server per monitor whose answer (200 or 500) follows a timetable the
test starts and stops, so every flip is caused, known and timed. `Receiver` is the chat: it
records every request with its arrival time and the answer it gave (200, 500, or none when
it hangs). Only messages it answered 200 count as received; the rest the sender must retry.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.access import write_reader
from tests.faults.ledger import Flip, Message
from tests.targets import HttpTarget

MONITOR = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: faults, labels: {{suite: faults}}}}
spec:
  type: http
  interval: {interval}
  timeout: 1s
  retries: 0
  http: {{url: "{url}"}}
"""

ALERTING = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: receiver, namespace: faults}}
spec: {{type: webhook, webhook: {{url: "{url}", timeout: 5s}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {{name: everything, namespace: faults}}
spec:
  monitorSelector: {{matchLabels: {{suite: faults}}}}
  triggers: [down, up]
  providers: [{{name: receiver}}]
"""


class Targets:
    """Target i is DOWN for `down` seconds once every `period` seconds, starting at its own phase."""

    def __init__(self, names: list[str], period: float = 9.0, down: float = 3.0) -> None:
        self.period, self.down = period, down
        self.servers: dict[str, HttpTarget] = {}
        self.phase: dict[str, float] = {}
        self.flips: list[Flip] = []
        self.pinned: dict[str, int] = {}  # name -> the status it keeps whatever the timetable says
        self._lock = threading.Lock()
        self._started: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timetable", daemon=True)
        for name in names:
            self.add(name)
        self._thread.start()

    def add(self, name: str) -> HttpTarget:
        """A new target (or a retired one back on the timetable)."""
        with self._lock:
            if name not in self.servers:
                self.servers[name] = HttpTarget().start()
            self.phase[name] = (len(self.servers) * 0.37 * self.period) % self.period
            self.pinned.pop(name, None)
            return self.servers[name]

    def url(self, name: str) -> str:
        return self.servers[name].url + "/" + name

    def pin(self, name: str, status: int) -> None:
        with self._lock:
            self.pinned[name] = status
            self._set(name, status)

    def retire(self, name: str) -> None:
        """Its monitor is gone: the timetable no longer flips it."""
        with self._lock:
            self.phase.pop(name, None)

    def start_flipping(self) -> None:
        self._started = time.time()

    def stop_flipping(self) -> None:
        """Every target answers 200 from now on."""
        with self._lock:
            self._started = None
            self.pinned.clear()
            for name in self.servers:
                self._set(name, 200)

    def _wanted(self, name: str, now: float) -> int:
        if name in self.pinned:
            return self.pinned[name]
        if self._started is None or name not in self.phase:
            return 200
        t = (now - self._started - self.phase[name]) % self.period
        return 500 if t < self.down else 200

    def _set(self, name: str, status: int) -> None:
        server = self.servers[name]
        if server.status != status:
            server.status = status
            self.flips.append(Flip(name, time.time(), "down" if status >= 400 else "up"))

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            with self._lock:
                if self._started is None:
                    continue
                now = time.time()
                for name in list(self.phase):
                    self._set(name, self._wanted(name, now))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for server in self.servers.values():
            server.stop()


class Receiver:
    """A webhook receiver whose behaviour is switchable: `ok` (200), `error` (500) or `hang`."""

    def __init__(self) -> None:
        self.requests: list[Message] = []
        self.mode = "ok"
        self.last_arrival = 0.0
        self._release = threading.Event()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                mode = rec.mode
                answer = {"ok": 200, "error": 500, "hang": 0}[mode]
                msg = Message(
                    at=time.time(),
                    monitor_uid=body["monitor"]["uid"],
                    monitor=body["monitor"]["name"],
                    event=body["event"],
                    key=body["key"],
                    answer=answer,
                )
                rec.requests.append(msg)
                rec.last_arrival = msg.at
                if mode == "hang":
                    rec._release.wait(60)
                    self.close_connection = True
                    return  # the sender gave up long ago; it never learns the outcome
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, name="receiver", daemon=True).start()

    def behave(self, mode: str) -> None:
        if mode != "hang":
            self._release.set()
        else:
            self._release.clear()
        self.mode = mode

    def quiet_for(self) -> float:
        return time.time() - self.last_arrival

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class Rig:
    """Targets, a receiver and the manifests folder that ties monitors to them."""

    def __init__(self, folder: Path, names: list[str], interval: str = "1s") -> None:
        self.folder, self.interval = folder, interval
        folder.mkdir(parents=True, exist_ok=True)
        self.targets = Targets(names)
        self.receiver = Receiver()
        (folder / "alerting.yaml").write_text(ALERTING.format(url=self.receiver.url))
        write_reader(folder)  # the API is read with a key (tests/access.py)
        for name in names:
            self.write_monitor(name)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("m-*.yaml"))

    def write_monitor(self, name: str, interval: str | None = None) -> None:
        text = MONITOR.format(name=name, interval=interval or self.interval, url=self.targets.url(name))
        (self.folder / f"{name}.yaml").write_text(text)

    def add_monitor(self, name: str) -> None:
        self.targets.add(name)
        self.write_monitor(name)

    def delete_monitor(self, name: str) -> None:
        (self.folder / f"{name}.yaml").unlink()
        self.targets.retire(name)

    def close(self) -> None:
        self.targets.close()
        self.receiver.close()


def monitor_names(n: int) -> Iterator[str]:
    return (f"m-{i:02d}" for i in range(n))
