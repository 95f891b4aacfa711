"""A service process's startup objects (modules, classes, models, the app and its workers) are
kept out of the garbage collector's full collections once its server has started
(shared/startup_objects.py, called by shared/serving.py). Counted: the objects a full
collection walks in a started server, run as the services run (``serve``) in a process of its
own. Before, every one of them (about 200,000 in a service, some 100 ms of CPU per full
collection; here, a bare app, tens of thousands); now only those made since, and full
collections are spaced out."""

from __future__ import annotations

import textwrap

from tests.support import run_python

_SERVER = textwrap.dedent(
    """
    import gc, os, socket, threading, time
    import httpx
    from shared.serving import serve
    from shared.settings import PlatformSettings

    def app_factory():
        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        return app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def measure():
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        print(len(gc.get_objects()), gc.get_freeze_count(), gc.get_threshold()[2], flush=True)
        os._exit(0)  # the measure taken: no shutdown needed

    threading.Thread(target=measure, daemon=True).start()
    serve("__main__:app_factory", settings=PlatformSettings(), port=port)
    """
)


def test_a_started_server_s_full_collections_walk_none_of_its_startup_objects() -> None:
    result = run_python(_SERVER)
    assert result.returncode == 0, result.stderr[-2000:]
    walked, frozen, full_after = (int(n) for n in result.stdout.split()[:3])
    # Was every object alive (62,703 here, none frozen); now what was made since (490).
    assert frozen > 20_000, (walked, frozen)
    assert walked < 2_000, (walked, frozen)
    # A full collection after 100 young ones (was 10): with so few objects left to walk, the
    # default would have run them twice as often (shared/startup_objects.py).
    assert full_after == 100
