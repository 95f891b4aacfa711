"""The chaos run: referrals offered over REST while the services are SIGKILLed, the broker is
restarted and PostgreSQL is stopped immediately; then an audit of every referral's effects.

``python -m bench.chaos`` (short form, about two minutes) or ``python -m bench.chaos --long``
(at least 100 kills, 3 broker restarts and 10 immediate PostgreSQL stops); figures to
bench/results/chaos.json. tests/e2e/test_chaos.py runs the short form in ``make test``.

- ``stack``: the run's own Kafka, durable PostgreSQL, services and webhook, and the faults.
- ``sender``: a hospital system that retries what was not answered 200, as a real one would.
- ``audit``: exactly-once effects per referral, empty outboxes, consumer lag.
- ``run``: the plan, the schedule of faults and the report.
"""
