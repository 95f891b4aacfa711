"""The reverse proxy's logs (deploy/nginx/templates/, run by deploy/local/proxy.sh) hold no
secret: an acknowledgement or check-in link's token is the reader's key to a patient's page, and
a ward screen's ticket opens a hospital's live alerts. The proxy runs here in front of a stand-in
upstream that answers every request, and a closed port where telemedicine would be, so that a
failed request writes the error log too."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT

PROXY = ROOT / "deploy" / "local" / "proxy.sh"
SECRET = "s3cr3t-Zx9QvL2mK7pW4nR8tY1uB6"


class _AnswersEverything(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass  # the proxy's log is under test, not this one


@dataclass(frozen=True)
class RunningProxy:
    url: str
    logs: Path

    def access_log(self) -> str:
        return (self.logs / "access.log").read_text(encoding="utf-8")

    def error_log(self) -> str:
        return (self.logs / "error.log").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[RunningProxy]:
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AnswersEverything)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    upstream_address = f"127.0.0.1:{upstream.server_address[1]}"
    port = _free_port()
    env = {
        **os.environ,
        "FT_STATE_DIR": str(tmp_path),
        "FT_PROXY_PORT": str(port),
        "FT_PROXY_REFERRAL": upstream_address,
        "FT_PROXY_NOTIFIER": upstream_address,
        # Bound by nobody: every request to telemedicine fails at the proxy.
        "FT_PROXY_TELEMEDICINE": f"127.0.0.1:{_free_port()}",
    }
    subprocess.run(["bash", str(PROXY), "start"], env=env, check=True, capture_output=True)
    try:
        yield RunningProxy(url=f"http://127.0.0.1:{port}", logs=tmp_path / "nginx" / "logs")
    finally:
        subprocess.run(["bash", str(PROXY), "stop"], env=env, check=False, capture_output=True)
        upstream.shutdown()


def test_signed_links_and_tickets_reach_no_proxy_log_line(proxy: RunningProxy) -> None:
    with httpx.Client(base_url=proxy.url, timeout=10) as browser:
        assert browser.get(f"/ack/{SECRET}").status_code == 200
        assert browser.post(f"/ack/{SECRET}").status_code == 200
        # The same path as a browser may encode it: nginx routes the decoded one.
        assert browser.get(f"/%61ck/{SECRET}").status_code == 200
        assert browser.get("/live", params={"ticket": SECRET}).status_code == 200
        assert browser.get("/live/events", params={"ticket": SECRET}).status_code == 200
        # Telemedicine is down: the check-in form fails at the proxy.
        assert browser.get(f"/check-in/{SECRET}").status_code == 502
        assert browser.post(f"/check-in/{SECRET}", data={"pulse": "80"}).status_code == 502
        # A page's address as the Referer of an ordinary request.
        referred = browser.get("/app/", headers={"Referer": f"{proxy.url}/check-in/{SECRET}"})
        assert referred.status_code == 200

    access = proxy.access_log()
    assert SECRET not in access
    assert SECRET not in proxy.error_log()
    # Every request is still logged, with what an operator needs: method, route, status.
    assert access.count('"GET /ack/{redacted} HTTP/1.1" 200') == 2
    assert access.count('"POST /ack/{redacted} HTTP/1.1" 200') == 1
    assert '"GET /live HTTP/1.1" 200' in access
    assert '"GET /live/events HTTP/1.1" 200' in access
    assert '"GET /check-in/{redacted} HTTP/1.1" 502' in access
    assert '"POST /check-in/{redacted} HTTP/1.1" 502' in access
    assert '"GET /app/ HTTP/1.1" 200' in access


def test_a_failed_request_without_a_secret_is_still_in_the_error_log(
    proxy: RunningProxy,
) -> None:
    with httpx.Client(base_url=proxy.url, timeout=10) as browser:
        assert browser.get("/static/telemedicine/app.css").status_code == 502
    errors = proxy.error_log()
    assert "connect() failed" in errors
    assert "/static/telemedicine/app.css" in errors
