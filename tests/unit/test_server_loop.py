"""The services run on uvloop's event loop with httptools' HTTP parser (shared/runtime.py).

Under load, asyncio's selector loop and h11 (both Python) were a large share of every service's
samples: each Kafka fetch, SQL round trip and HTTP request passes through the loop's transports.
Counted here by the Python calls into asyncio's selector transports and h11's protocol while a
server configured as the services are answers requests: none now (before: several per request).
"""

from __future__ import annotations

import textwrap

from tests.support import run_python

REQUESTS = 30

# Runs in a process of its own: uvicorn picks the loop for the whole process.
_SERVER = textwrap.dedent(
    """
    import collections, sys, threading, time
    import httpx, uvicorn
    from shared.serving import EVENT_LOOP, HTTP_PARSER

    calls = collections.Counter()
    WATCHED = ("asyncio/selector_events.py", "uvicorn/protocols/http/h11_impl.py", "h11/")

    def profile(frame, event, arg):
        if event == "call" and any(w in frame.f_code.co_filename for w in WATCHED):
            calls[frame.f_code.co_filename.rsplit("/", 1)[-1]] += 1

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, loop=EVENT_LOOP, http=HTTP_PARSER
    )
    server = uvicorn.Server(config)

    def client():
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(int(sys.argv[1])):
                assert http.post("/", content=b"{}").status_code == 200
        server.should_exit = True

    threading.Thread(target=client, daemon=True).start()
    sys.setprofile(profile)
    server.run()
    sys.setprofile(None)
    print(sum(calls.values()), dict(calls))
    """
)


def test_a_service_server_runs_no_python_transport_or_http_parser_code_per_request() -> None:
    result = run_python(_SERVER, str(REQUESTS))
    assert result.returncode == 0, result.stderr[-2000:]
    total, _, by_file = result.stdout.strip().partition(" ")
    assert int(total) == 0, by_file
