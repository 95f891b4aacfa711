"""The province's time zone, defined once for every service, the benchmarks and the tests.

Clinicians read times on the Bangkok clock, and a date or dateTime that arrives without a zone
is read there too. The zone comes from the IANA database shipped by the ``tzdata`` package (a
declared dependency), so it loads the same way on a slim or distroless image that has no
/usr/share/zoneinfo.
"""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

PROVINCE_ZONE_NAME: Final = "Asia/Bangkok"
PROVINCE_ZONE: Final = ZoneInfo(PROVINCE_ZONE_NAME)
