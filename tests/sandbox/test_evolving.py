"""The catalog that evolves by date: deterministic per night, changes at about the rate asked, deletes and creates."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import httpx
import pytest

from assistants_export.sandbox import EvolvingCatalog, GeneratedCatalog, SandboxServer

HEADERS = {"Authorization": "Bearer sk-sandbox", "OpenAI-Beta": "assistants=v2"}


def test_night_zero_is_the_generated_catalog():
    evolving, generated = EvolvingCatalog(50, 0.1, seed=3), GeneratedCatalog(50, seed=3)
    assert list(evolving.ids()) == list(generated.ids())
    assert all(evolving.get(assistant_id) == generated.get(assistant_id) for assistant_id in generated.ids())


def test_a_night_is_the_same_whichever_way_it_is_reached():
    walked = EvolvingCatalog(200, 0.2, seed=1)
    for night in range(1, 13):
        walked.set_night(night)
        bodies = {assistant_id: walked.get(assistant_id) for assistant_id in walked.ids()}
    jumped = EvolvingCatalog(200, 0.2, seed=1, night=12)
    assert list(jumped.ids()) == list(bodies)
    assert all(jumped.get(assistant_id) == body for assistant_id, body in bodies.items())
    assert EvolvingCatalog(200, 0.2, seed=2, night=12).get(next(iter(bodies))) != bodies[next(iter(bodies))]


def test_changes_deletions_and_creations_come_at_about_the_rates_asked():
    catalog = EvolvingCatalog(1000, 0.1, seed=0)
    nights = [catalog.summary(night) for night in range(1, 21)]
    stayed = sum(s.changed + s.unchanged for s in nights)
    assert 0.08 < sum(s.changed for s in nights) / stayed < 0.12
    assert 0.005 < sum(s.deleted for s in nights) / (20 * 1000) < 0.015
    assert 0.005 < sum(s.created for s in nights) / (20 * 1000) < 0.015
    assert catalog.summary(0).created == 1000
    # The summary counts what the catalog serves: a changed assistant's body differs from the night before.
    night = nights[4].night
    before = {assistant_id: catalog.build(assistant_id, night - 1) for assistant_id in catalog.live(night - 1)}
    now = {assistant_id: catalog.build(assistant_id, night) for assistant_id in catalog.live(night)}
    assert len(set(before) - set(now)) == nights[4].deleted and len(set(now) - set(before)) == nights[4].created
    assert sum(before[a] != now[a] for a in set(before) & set(now)) == nights[4].changed
    deleted = catalog.deleted_between(night, night)
    assert deleted == sorted(set(before) - set(now))
    catalog.set_night(night)
    assert deleted and all(catalog.get(assistant_id) is None for assistant_id in deleted)


def test_a_zero_rate_never_changes_anything():
    catalog = EvolvingCatalog(30, 0.0)
    catalog.set_night(100)
    assert list(catalog.ids()) == list(GeneratedCatalog(30).ids())
    assert catalog.summary(100).changed == 0


@pytest.mark.integration
def test_the_server_switches_the_date_it_serves():
    catalog = EvolvingCatalog(40, 0.5, start=dt.date(2026, 1, 1))
    with SandboxServer(catalog) as server, httpx.Client(base_url=server.base_url, headers=HEADERS) as client:
        control = server.base_url.removesuffix("/v1") + "/_control/date"
        assert httpx.get(control, headers=HEADERS).json() == {"date": "2026-01-01", "night": 0, "assistants": 40}
        first = client.get("/assistants/asst_gen000000000000000000003").content
        answer = httpx.post(control, params={"date": "2026-01-11"}, headers=HEADERS)
        assert answer.status_code == 200 and answer.json()["night"] == 10
        assert client.get("/assistants", params={"limit": 100, "order": "asc"}).json()["data"] == [
            catalog.build(assistant_id, 10) for assistant_id in catalog.live(10)]
        later = client.get("/assistants/asst_gen000000000000000000003")
        assert later.status_code == 404 or later.content != first
        assert httpx.post(control, params={"date": "2025-12-31"}, headers=HEADERS).status_code == 400
        assert httpx.post(control, params={"date": "2026-01-02"}).status_code == 401
        assert catalog.night == 10


def test_a_plain_catalog_has_no_control_endpoint():
    with SandboxServer(GeneratedCatalog(3)) as server:
        answer = httpx.post(server.base_url.removesuffix("/v1") + "/_control/date", params={"date": "2026-01-02"},
                            headers=HEADERS)
        assert answer.status_code == 404 and "Invalid URL" in answer.json()["error"]["message"]


def test_python_m_sandbox_serves_an_evolving_catalog_from_the_date_given():
    command = [sys.executable, "-m", "assistants_export.sandbox", "--generated", "20", "--change-rate", "0.3",
               "--start-date", "2026-01-01", "--catalogue-date", "2026-01-05"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip().removeprefix("base_url=")
        state = httpx.get(base_url.removesuffix("/v1") + "/_control/date", headers=HEADERS).json()
        assert state["date"] == "2026-01-05" and state["night"] == 4
        listed = httpx.get(f"{base_url}/assistants", params={"limit": 100, "order": "asc"},
                           headers=HEADERS).json()["data"]
        expected = EvolvingCatalog(20, 0.3, night=4)
        assert listed == [expected.build(assistant_id, 4) for assistant_id in expected.live(4)]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
