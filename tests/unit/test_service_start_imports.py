"""What a service loads at its start is what it needs: every restart (a crash, a deployment, a
replacement instance) waits for these imports before the service takes work again. Only the
notifier calls out over HTTP; the referral and telemedicine services load no HTTP client (httpx
also brings in its command line's libraries, rich and pygments)."""

from __future__ import annotations

import json

from tests.support import run_python

HTTP_CLIENT_MODULES = ("httpx", "httpcore", "aiohttp", "rich", "pygments")

# In one fresh interpreter: the referral and telemedicine services' composition roots (their
# apps' modules, as uvicorn imports them), then the notifier's; which HTTP client modules each
# step left loaded.
_SCRIPT = f"""
import json, sys
def loaded():
    return sorted(m for m in {HTTP_CLIENT_MODULES!r} if m in sys.modules)
import services.referral.bootstrap, services.telemedicine.bootstrap
without_notifier = loaded()
import services.notifier.bootstrap
print(json.dumps([without_notifier, loaded()]))
"""


def test_only_the_notifier_loads_an_http_client_at_its_start() -> None:
    result = run_python(_SCRIPT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    referral_and_telemedicine, with_the_notifier = json.loads(result.stdout)
    assert referral_and_telemedicine == []
    # The check sees a client where one is used, so the empty list above means something.
    assert {"httpx", "aiohttp"} <= set(with_the_notifier)
