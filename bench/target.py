"""The fast local HTTP target of the pipeline benchmark: nginx when installed, else Python.

nginx (started on a free 127.0.0.1 port with a throwaway config, one worker, no access
log) answers a static `200 ok` far faster than anything under test, so the benchmark
measures KubeKuma and not the target. Without nginx a threaded Python server runs in a
process of its own (`python -m bench.target PORT`); the output says which one was used.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import child_env, free_port, proc_cpu_s, python

NGINX = Path("/usr/sbin/nginx")

_NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


class Target:
    def __init__(self) -> None:
        self.kind = ""
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="kkbench-target-")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Target:
        if NGINX.exists() and self._start_nginx():
            return self
        self._start_python()
        return self

    def _start_nginx(self) -> bool:
        self.port = free_port()
        conf = Path(self._dir.name) / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(dir=self._dir.name, port=self.port))
        args = [str(NGINX), "-c", str(conf), "-p", self._dir.name, "-e", f"{self._dir.name}/error.log"]
        test = subprocess.run([*args, "-t"], capture_output=True, text=True)
        if test.returncode != 0:
            print(
                f"   nginx config rejected, using the Python target: {test.stderr.strip()[-300:]}", flush=True
            )
            return False
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.kind = "nginx"
        return self._wait_up()

    def _start_python(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([python(), "-m", "bench.target", str(self.port)], env=child_env())
        self.kind = "python (ThreadingHTTPServer, own process)"
        if not self._wait_up():
            raise RuntimeError("the Python HTTP target did not start")

    def _wait_up(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def pids(self) -> list[int]:
        """The target's processes (nginx: master and its workers)."""
        if self.proc is None:
            return []
        pids = [self.proc.pid]
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids += [int(k) for k in kids]
        except OSError:
            pass
        return pids

    def cpu_s(self) -> float:
        return sum(proc_cpu_s(p) for p in self.pids())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._dir.cleanup()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
