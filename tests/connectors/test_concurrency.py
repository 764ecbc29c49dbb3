"""Adaptive concurrency: the AIMD arithmetic, the asyncio gate, and the client under a server-side cap."""

import asyncio

import httpx
import pytest

from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.concurrency import AdaptiveLimit, AimdRule
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.results import Outcome

KEY = "sk-test-Aimd4kLmN0pQ7rS9xY"


# --- the rule ------------------------------------------------------------------


def test_a_429_halves_the_limit_and_never_below_the_minimum():
    rule = AimdRule(8)
    assert rule.limit == 8
    for expected in (4, 2, 1, 1):
        rule.on_rate_limited(rule.epoch)
        assert rule.limit == expected
    assert rule.lowest == 1 and rule.decreases == 3


def test_a_burst_of_429s_from_one_round_lowers_the_limit_once():
    rule = AimdRule(8)
    epoch = rule.epoch  # eight requests sent together...
    lowered = [rule.on_rate_limited(epoch) for _ in range(8)]  # ...and all rejected
    assert lowered == [True] + [False] * 7
    assert rule.limit == 4
    assert rule.on_rate_limited(rule.epoch) and rule.limit == 2  # a request sent after the decrease counts


def test_the_limit_grows_by_one_per_rounds_of_successes_up_to_the_maximum():
    rule = AimdRule(4, rounds_per_increase=2)
    rule.on_rate_limited(rule.epoch)
    assert rule.limit == 2
    grew = [rule.on_success() for _ in range(4)]  # 2 rounds of 2
    assert grew == [False, False, False, True] and rule.limit == 3
    assert sum(rule.on_success() for _ in range(6)) == 1 and rule.limit == 4
    assert not any(rule.on_success() for _ in range(100))
    assert rule.limit == 4 and rule.history == [2, 3, 4]


def test_a_429_restarts_the_count_towards_the_next_increase():
    rule = AimdRule(8, rounds_per_increase=1)
    rule.on_rate_limited(rule.epoch)  # 4
    for _ in range(3):
        rule.on_success()
    rule.on_rate_limited(rule.epoch)  # 2, count restarts
    assert not rule.on_success()
    assert rule.on_success() and rule.limit == 3


@pytest.mark.parametrize("kwargs", [{"maximum": 0}, {"maximum": 4, "minimum": 5}, {"maximum": 4, "decrease_factor": 1},
                                    {"maximum": 4, "rounds_per_increase": 0}])
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        AimdRule(**kwargs)


# --- the gate ------------------------------------------------------------------


def test_the_gate_admits_at_most_limit_and_serves_waiters_in_order():
    async def main():
        gate = AdaptiveLimit(2)
        first, second = await gate.acquire(), await gate.acquire()
        order = []

        async def later(name):
            permit = await gate.acquire()
            order.append(name)
            return permit

        waiting = [asyncio.create_task(later(n)) for n in ("c", "d")]
        await asyncio.sleep(0)
        assert gate.in_flight == 2 and order == []
        gate.release(first)
        await asyncio.sleep(0)
        assert order == ["c"] and gate.in_flight == 2
        gate.release(second)
        permits = await asyncio.gather(*waiting)
        assert order == ["c", "d"]
        for permit in permits:
            gate.release(permit)
        assert gate.in_flight == 0

    asyncio.run(main())


def test_a_lower_limit_holds_new_requests_until_enough_have_finished():
    async def main():
        gate = AdaptiveLimit(4)
        permits = [await gate.acquire() for _ in range(4)]
        gate.release(permits.pop(), rate_limited=True)  # limit 2, 3 still in flight
        assert gate.limit == 2
        task = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0)
        gate.release(permits.pop())  # 2 in flight: still full
        await asyncio.sleep(0)
        assert not task.done()
        gate.release(permits.pop())  # 1 in flight: room for one
        permit = await task
        assert gate.in_flight == 2
        gate.release(permit)
        gate.release(permits.pop())
        assert gate.in_flight == 0

    asyncio.run(main())


def test_a_cancelled_waiter_gives_its_place_to_the_next():
    async def main():
        gate = AdaptiveLimit(1)
        held = await gate.acquire()
        cancelled = asyncio.create_task(gate.acquire())
        served = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0)
        cancelled.cancel()
        gate.release(held)
        permit = await served
        assert cancelled.cancelled() and gate.in_flight == 1
        gate.release(permit)
        assert gate.in_flight == 0

    asyncio.run(main())


def test_connection_errors_move_nothing():
    async def main():
        gate = AdaptiveLimit(4, rounds_per_increase=1)
        gate.release(await gate.acquire(), rate_limited=True)
        assert gate.limit == 2
        for _ in range(10):
            gate.release(await gate.acquire(), answered=False)
        assert gate.limit == 2

    asyncio.run(main())


# --- the client ----------------------------------------------------------------


def _assistant(assistant_id):
    return {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": "n", "description": None,
            "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {}}


OVERLAP_TURNS = 10
"""Event-loop turns each answer takes: enough for every request the client has started to arrive meanwhile."""


class CappedServer:
    """A transport that answers 429 (Retry-After 1 s) to any request beyond ``cap`` in flight."""

    def __init__(self, cap):
        self.cap = cap
        self.in_flight = 0
        self.most_in_flight = 0
        self.rejected = 0

    async def handle(self, request):
        self.in_flight += 1
        try:
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.in_flight > self.cap:
                self.rejected += 1
                return httpx.Response(429, headers={"retry-after": "1"},
                                      json={"error": {"message": "Too many concurrent requests", "type": "requests",
                                                      "code": "rate_limit_exceeded", "param": None}})
            # Overlap, so that the cap matters: a fixed number of event-loop turns, not a timer, so how many
            # requests overlap (and so every count below) is the same on an idle or a loaded machine.
            for _ in range(OVERLAP_TURNS):
                await asyncio.sleep(0)
            return httpx.Response(200, json=_assistant(request.url.path.rsplit("/", 1)[1]))
        finally:
            self.in_flight -= 1


def _fetch_all(server, ids, *, adaptive):
    slept = []

    async def no_sleep(seconds):  # the Retry-After is recorded, not waited, so the test stays fast
        slept.append(seconds)
        await asyncio.sleep(0)

    config = ClientConfig(api_key=Secret(KEY), base_url="http://api.test/v1", concurrency=8, preflight=False)
    results = []

    async def main():
        client = AssistantsClient(config, transport=httpx.MockTransport(server.handle), sleep=no_sleep,
                                  adaptive_concurrency=adaptive)
        async with client:
            await client.fetch_many(ids, results.append)
        return client

    client = asyncio.run(main())
    return client, results, slept


def test_under_a_server_cap_the_client_lowers_its_concurrency_and_causes_far_fewer_429s():
    ids = [f"asst_{i:04d}" for i in range(200)]
    fixed_server, adaptive_server = CappedServer(2), CappedServer(2)
    _, fixed_results, _ = _fetch_all(fixed_server, ids, adaptive=False)
    adaptive, adaptive_results, slept = _fetch_all(adaptive_server, ids, adaptive=True)

    assert [r.outcome for r in adaptive_results] == [Outcome.OK] * len(ids)
    assert len(fixed_results) == len(ids)  # some may have run out of attempts: the storm this prevents
    assert adaptive.stats.concurrency_decreases >= 1 and adaptive.stats.concurrency_limit_lowest <= 2
    assert adaptive.stats.status_counts[429] == adaptive_server.rejected
    assert adaptive_server.rejected * 3 < fixed_server.rejected
    assert slept and all(seconds == 1.0 for seconds in slept)  # every 429 still waited its Retry-After
    assert adaptive.limiter is not None and adaptive.limiter.in_flight == 0


def test_without_429s_the_limit_stays_at_the_configured_concurrency():
    server = CappedServer(100)
    client, results, slept = _fetch_all(server, [f"asst_{i}" for i in range(50)], adaptive=True)
    assert len(results) == 50 and not slept
    assert client.stats.concurrency_decreases == 0 and client.stats.concurrency_limit_lowest == 8
    assert server.most_in_flight == 8
