"""The objects a service process builds before it serves (its modules, classes, FHIR and
pydantic models, app, routes and workers), kept out of the cyclic garbage collector's full
collections.

They live as long as the process, yet every full collection walked all of them: about 200,000
objects in a service, some 100 ms of CPU each time. Under the profile's load
(``bench.profile_services --rate 20``, its 40 s phase; each collection's CPU time read through
``gc.callbacks``) the collector took 9.3 % of the notifier's CPU, 14.2 % of the referral
service's and 6.4 % of telemedicine's; 3.1 %, 5.1 % and 1.4 % once they were frozen and the
full collections spaced out (none in the phase). Frozen once the server has started
(``gc.freeze``), a full collection walks only what was made since. Reference counting frees
them as before; only a cycle among them that becomes garbage later is never collected, a bound
of the startup's size."""

from __future__ import annotations

import gc

# Young collections between two full ones (CPython's default is 10). A full collection also
# waits until the objects promoted since the last one are a quarter of those it walks; with
# the startup's objects frozen, that quarter is small, so full collections came twice as often
# at the default (each walking far fewer objects, the CPU they took about the same). Cyclic
# garbage that reaches the oldest generation waits longer for them; the services' resident
# memory at its peak in that profile run: 104-129 MB.
_FULL_COLLECTION_AFTER = 100


def freeze_startup_objects() -> int:
    """Collects the startup's garbage, then moves every object alive into the collector's
    permanent generation, and spaces the full collections out; how many objects it holds."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _FULL_COLLECTION_AFTER)
    return gc.get_freeze_count()
