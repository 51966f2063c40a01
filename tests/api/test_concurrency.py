"""Two clients change the same contract at the same moment: no update is lost.

Each round, two threads wait at a barrier and then send their command at
once, each through its own client of the same app. With the same If-Match
exactly one wins and the other gets 412; without If-Match both may win (one
after the other) or the loser gets 409. Either way the contract's version
moves by exactly the number of successes: nothing is overwritten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
from fastapi.testclient import TestClient

from tests.api.cases import BUYER, Given, given_contract, headers, is_problem
from tests.api.conftest import ApiWorld

ROUNDS = 10


def _at_once(
    api: ApiWorld, send: Callable[[TestClient, int], httpx.Response]
) -> list[httpx.Response]:
    """Run ``send(client, n)`` for n = 0 and 1 in two threads released together."""
    # Clients without lifespan: the fixture's client owns the app's start and stop.
    clients = [TestClient(api.client.app), TestClient(api.client.app)]
    barrier = threading.Barrier(2, timeout=10)

    def one(n: int) -> httpx.Response:
        barrier.wait()
        return send(clients[n], n)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(2)))


def _version(api: ApiWorld, location: str) -> int:
    response = api.client.get(location, headers=headers(api, BUYER))
    assert 200 == response.status_code, response.text
    return int(response.json()["version"])


def test_the_same_if_match_at_once_one_wins_and_one_gets_412(api):
    location = f"/v1/contracts/{given_contract(api, Given.FINAL)}"
    for _ in range(ROUNDS):
        version = _version(api, location)
        sent = headers(api, BUYER, **{"If-Match": f'"{version}"'})

        def follow_up(client: TestClient, n: int, sent: dict[str, str] = sent) -> httpx.Response:
            body = {"line_id": "1", "held_on": f"2025-03-0{n + 2}"}
            return client.post(f"{location}/follow-ups", json=body, headers=sent)

        responses = _at_once(api, follow_up)
        statuses = sorted(response.status_code for response in responses)
        assert [200, 412] == statuses, [r.text for r in responses]
        won, lost = sorted(responses, key=lambda r: r.status_code)
        assert f'"{version + 1}"' == won.headers["etag"]
        assert is_problem(lost)
        assert version + 1 == _version(api, location)


def test_commands_at_once_without_if_match_lose_no_update(api):
    location = f"/v1/contracts/{given_contract(api, Given.FINAL)}"
    start = _version(api, location)
    successes = 0

    def follow_up(client: TestClient, n: int) -> httpx.Response:
        body = {"line_id": "1", "held_on": f"2025-03-0{n + 2}"}
        return client.post(f"{location}/follow-ups", json=body, headers=headers(api, BUYER))

    for _ in range(ROUNDS):
        before = _version(api, location)
        responses = _at_once(api, follow_up)
        statuses = [response.status_code for response in responses]
        assert 200 in statuses, [r.text for r in responses]
        assert set(statuses) <= {200, 409}, [r.text for r in responses]
        assert all(is_problem(r) for r in responses if r.status_code == 409)
        won = statuses.count(200)
        assert before + won == _version(api, location)
        successes += won
    assert start + successes == _version(api, location)
