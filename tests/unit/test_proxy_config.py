"""The reverse proxy's configuration (deploy/nginx/templates/), rendered as the local stack
renders it: nginx itself accepts it, every placeholder is filled, and the module forward auth
needs is in the nginx the machine has. What it does is tested end to end through the running
proxy (tests/e2e/test_one_origin.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support import ROOT


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    env = {**os.environ, "FT_STATE_DIR": str(tmp_path), "FT_PROXY_PORT": "18999"}
    checked = subprocess.run(
        ["bash", str(ROOT / "deploy" / "local" / "proxy.sh"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr + checked.stdout
    rendered = (tmp_path / "nginx" / "fasttrack.conf").read_text(encoding="utf-8")
    assert "${FT_" not in rendered  # every placeholder filled
    assert "listen 127.0.0.1:18999;" in rendered
    # nginx's own variables are left for nginx.
    assert "$upstream_http_x_fasttrack_identity" in rendered


def test_the_machines_nginx_has_auth_request() -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    assert "--with-http_auth_request_module" in built


def test_only_the_identity_nginx_obtained_goes_upstream() -> None:
    template = (ROOT / "deploy" / "nginx" / "templates" / "fasttrack.conf.template").read_text(
        encoding="utf-8"
    )
    # Set per request at the server level, filled only by auth_request_set, sent on by the one
    # server-level proxy_set_header that every proxied location inherits.
    assert 'set $fasttrack_identity "";' in template
    assert "proxy_set_header X-Fasttrack-Identity $fasttrack_identity;" in template
    fills = re.findall(r"auth_request_set \$fasttrack_identity (\S+);", template)
    # The live page and its stream, the notifier's operator routes, consult and monitoring
    # pages, and the operators' console's fragments of the notifier and telemedicine.
    assert fills == ["$upstream_http_x_fasttrack_identity"] * 7
    # The one location that sets its own headers (the auth subrequest) sends no identity.
    own_headers = template.split("location = /_fasttrack/identity {")[1].split("}")[0]
    assert 'proxy_set_header X-Fasttrack-Identity "";' in own_headers
