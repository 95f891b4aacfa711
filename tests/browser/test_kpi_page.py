"""The KPI page and its CSV export in a real browser: a hospital's people see their own
hospital's indicators, a third hospital none of them, the network's operator the province's."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from services.referral.domain.kpi import KPI_COLUMNS
from tests.browser.conftest import Person, sign_in
from tests.e2e.clinical_updates import (
    a_day_of_its_own,
    clinical_update,
    encounter,
    needle,
    resource_in,
)
from tests.support import as_hospital, referral_bundle

pytestmark = pytest.mark.browser

SPOKE, HUB, THIRD = "sikao-hospital", "trang-hospital", "kantang-hospital"


async def _patient_of_the_spoke(
    api: httpx.AsyncClient, day: datetime, *, needle_after: timedelta | None
) -> None:
    """A patient last known well at ``day``, referred 50 min later, door-in at the spoke after
    30 min, and thrombolysed ``needle_after`` LKW if given."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    resource_in(bundle, "Observation", "lkw-")["effectiveDateTime"] = day.isoformat()
    resource_in(bundle, "Task")["authoredOn"] = (day + timedelta(minutes=50)).isoformat()
    await _post(api, bundle)
    times: list[Any] = [encounter(start=day + timedelta(minutes=30))]
    if needle_after is not None:
        times.append(needle(day + needle_after, SPOKE))
    await _post(api, clinical_update(referral_id, SPOKE, HUB, *times))


async def _post(api: httpx.AsyncClient, bundle: dict[str, Any]) -> None:
    answer = await api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={"Content-Type": "application/fhir+json", **as_hospital(SPOKE)},
    )
    assert answer.status_code == 200, answer.text


async def _csv(page: Page, month: str) -> tuple[str, list[dict[str, str]]]:
    """The export as the signed-in person downloads it: (content type, rows)."""
    answer = await page.request.get(f"{page.url.split('/app/')[0]}/app/kpi.csv?month={month}")
    assert answer.status == 200
    text = await answer.text()
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == KPI_COLUMNS
    return answer.headers["content-type"], list(reader)


async def test_the_kpi_page_and_csv_show_the_hospitals_own_patients(
    phone: Page, referral_api: httpx.AsyncClient, spoke_nurse: Person
) -> None:
    # A patient of the spoke: door-in 09:30, needle 10:10 (door-to-needle 40 min), in a month
    # no other test counted for these hospitals.
    day = await a_day_of_its_own(referral_api, (SPOKE, HUB, THIRD))
    month = f"{day.year}-{day.month:02d}"
    await _patient_of_the_spoke(referral_api, day, needle_after=timedelta(minutes=70))

    await sign_in(phone, spoke_nurse, next_path=f"/app/kpi?month={month}")
    row = phone.locator("table.kpi tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("100.0 %")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    content_type, rows = await _csv(phone, month)
    assert content_type.startswith("text/csv")
    assert [(r["hospital_id"], r["month"], r["patients"], r["dtn_count"]) for r in rows] == [
        (SPOKE, month, "1", "1")
    ]
    assert (rows[0]["dtn_le_60_pct"], rows[0]["dtn_median_min"]) == ("100.0", "40.0")


async def test_a_third_hospital_exports_nothing_of_it_and_the_operator_the_province(
    phone: Page,
    referral_api: httpx.AsyncClient,
    third_hospital_doctor: Person,
    operator: Person,
) -> None:
    day = await a_day_of_its_own(referral_api, (SPOKE, HUB, THIRD))
    month = f"{day.year}-{day.month:02d}"
    await _patient_of_the_spoke(referral_api, day, needle_after=None)

    await sign_in(phone, third_hospital_doctor, next_path=f"/app/kpi?month={month}")
    _, third_rows = await _csv(phone, month)
    assert third_rows == []

    await phone.context.clear_cookies()
    await sign_in(phone, operator, next_path=f"/app/kpi?month={month}")
    _, province = await _csv(phone, month)
    assert (SPOKE, "1") in {(r["hospital_id"], r["patients"]) for r in province}
