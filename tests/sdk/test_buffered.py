"""Background mode: never blocks or raises into the caller, batches, retries, drops, spills and replays."""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import threading
import time
from collections import UserDict
from pathlib import Path
from typing import NamedTuple

import pytest

import agentaudit
from agentaudit import AgentAuditClient, BufferedClient
from tests.helpers import ROOT
from tests.sdk.conftest import Org, RestartableSidecar, ScriptedServer, free_port, new_org


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api/v1"


def timed_calls(client: AgentAuditClient, n: int, **fields: object) -> list[float]:
    """Seconds per ``log(..., wait=False)`` call."""
    samples = []
    clock = time.perf_counter
    for i in range(n):
        t0 = clock()
        client.log("llm_call", prompt="Summarise the ticket", metadata={"i": i}, wait=False, **fields)  # type: ignore[arg-type]
        samples.append(clock() - t0)
    return samples


def test_background_log_returns_at_once_and_everything_arrives(org: Org) -> None:
    with org.client(agent_id="bg") as client:
        before = time.time()
        samples = timed_calls(client, 3000, trace_id="bg-run")
        assert statistics.median(samples) < 20e-6, f"median {statistics.median(samples) * 1e6:.1f} µs per call"
        assert statistics.fmean(samples) < 100e-6, f"mean {statistics.fmean(samples) * 1e6:.1f} µs per call"
        assert client.flush(30) is True
        stats = client.stats
        assert (stats.queued, stats.sent, stats.dropped, stats.rejected, stats.lost, stats.pending) == (
            3000, 3000, 0, 0, 0, 0)
        events = list(client.iter_logs(page_size=500, trace_id="bg-run"))
        assert sorted(e.metadata["i"] for e in events) == list(range(3000))  # type: ignore[index]
        assert {e.agent_id for e in events} == {"bg"}
        first = min(events, key=lambda e: e.metadata["i"])  # type: ignore[index]
        stamped = time.mktime(time.strptime(first.started_at[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone  # type: ignore[index]
        assert abs(stamped - before) < 5  # stamped when logged, not when delivered


def test_a_dead_sidecar_never_raises_never_blocks_and_drops_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentaudit")
    client = BufferedClient(api_key="aa_live_x", base_url=dead_url(), buffer_size=500, timeout=1)
    started = time.perf_counter()
    samples = timed_calls(client, 5000)
    client.log_batch([{"action": "batched"}] * 10)
    with client.trace("run") as t:
        with t.span("tool_use"):
            pass
    assert time.perf_counter() - started < 2.0
    assert statistics.median(samples) < 20e-6
    assert client.flush(0.3) is False  # still undelivered: flush says so instead of blocking on
    stats = client.stats
    # out of the buffer: at most two rounds (one in flight, the next encoded), each of at most the 500 events the
    # buffer holds (a round is up to window=16 batches of 50, but it is taken from the buffer)
    assert stats.queued == 5012 and stats.dropped >= 5012 - 500 - 2 * 500 and stats.sent == 0
    assert client.close(timeout=0.5) is False
    assert client.stats.lost + client.stats.dropped == 5012
    client.log("after_close", wait=False)  # still no exception
    assert client.stats.lost + client.stats.dropped == 5013
    messages = [r.getMessage() for r in caplog.records if r.name == "agentaudit"]
    assert sum("buffer is full" in m for m in messages) == 1
    assert sum("cannot reach the sidecar" in m for m in messages) == 1


def test_retry_after_is_honoured_on_429_and_503(scripted: ScriptedServer) -> None:
    scripted.script = [(429, {"Retry-After": "1"}, {"error": "slow down", "status": 429}),
                       (503, {"Retry-After": "0"}, {"error": "busy", "status": 503})]
    with BufferedClient(api_key="k", base_url=scripted.url) as client:
        for i in range(3):
            client.log("retry_me", metadata={"i": i})
        assert client.flush(10) is True
        assert [len(s.body) for s in scripted.seen] == [3, 3, 3]
        assert scripted.seen[1].at - scripted.seen[0].at >= 0.95
        assert scripted.seen[2].at - scripted.seen[1].at < 0.9
        assert (client.stats.sent, client.stats.retries) == (3, 2)


def test_batches_hold_at_most_50_and_a_413_splits_them(scripted: ScriptedServer) -> None:
    scripted.script = [(413, {}, {"error": "too large", "status": 413})]
    with BufferedClient(api_key="k", base_url=scripted.url, flush_interval=5) as client:
        for i in range(120):
            client.log("e", metadata={"i": i})
        assert client.flush(10) is True
    refused, *stored = scripted.seen  # the first batch got the 413; up to four batches go out together
    assert len(refused.body) == 50 and max(len(s.body) for s in stored) <= 50
    halves = [s.body for s in stored if len(s.body) == 25]
    assert len(halves) == 2 and halves[0] + halves[1] == refused.body
    assert sorted(e["metadata"]["i"] for s in stored for e in s.body) == list(range(120))


def test_one_worker_keeps_up_to_window_batches_in_flight(scripted: ScriptedServer) -> None:
    scripted.delay = 0.2
    with BufferedClient(api_key="k", base_url=scripted.url, flush_interval=5, window=3) as client:
        for i in range(400):
            client.log("e", metadata={"i": i})
        assert client.flush(15) is True
    assert scripted.most_in_flight == 3  # three batches at once, from the one sender thread
    assert sorted(e["metadata"]["i"] for s in scripted.seen for e in s.body) == list(range(400))


def test_refused_events_are_counted_and_the_rest_delivered(org: Org, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentaudit")
    with org.client() as client:
        for action in ["ok-1", "", "ok-2", "x" * 201, "ok-3"]:
            client.log(action, trace_id="mixed", wait=False)
        assert client.flush(10) is True
        assert (client.stats.sent, client.stats.rejected) == (3, 2)
        assert sorted(e.action for e in client.logs.list(trace_id="mixed")) == ["ok-1", "ok-2", "ok-3"]
    with org.client(api_key="aa_live_revoked") as wrong_key:
        wrong_key.log("x", wait=False)
        assert wrong_key.flush(10) is True
        assert (wrong_key.stats.rejected, wrong_key.stats.retries) == (1, 0)
    assert any("refused 1 event(s) with 401" in r.getMessage() for r in caplog.records)


def test_nothing_is_lost_across_a_sidecar_restart_with_spill(restartable: RestartableSidecar, tmp_path: Path) -> None:
    org = new_org(restartable.url)
    spill = tmp_path / "spill.jsonl"
    client = org.client(spill_path=str(spill), timeout=2)
    total = 1500
    stop_at = {500: restartable.kill, 1000: restartable.start}
    costs: list[float] = []
    for i in range(total):
        t0 = time.perf_counter()
        client.log("step", trace_id="restart-run", metadata={"i": i}, wait=False)
        costs.append(time.perf_counter() - t0)
        if i in stop_at:
            if i == 500:
                time.sleep(0.2)  # let the first events go out before the crash
            stop_at[i]()
        time.sleep(0.0005)
    assert client.flush(30) is True
    stats = client.stats
    assert stats.spilled > 0 and stats.replayed > 0, stats
    assert (stats.dropped, stats.rejected, stats.lost) == (0, 0, 0)
    assert statistics.median(costs) < 20e-6
    seen = [e.metadata["i"] for e in client.iter_logs(page_size=500, trace_id="restart-run")]  # type: ignore[index]
    assert set(seen) == set(range(total))  # nothing lost
    assert len(seen) - total <= 50  # at-least-once: a batch in flight at the crash may arrive twice
    assert spill.read_bytes() == b""
    client.close()


def test_the_spill_file_outlives_the_process_and_is_replayed_by_the_next(org: Org, tmp_path: Path) -> None:
    spill = tmp_path / "spill.jsonl"
    down = BufferedClient(api_key=org.key, base_url=dead_url(), spill_path=str(spill), timeout=1)
    for i in range(120):
        down.log("parked", trace_id="parked", metadata={"i": i})
    assert down.flush(10) is True  # everything is on disk
    assert down.close(1) is True
    assert len(spill.read_text().splitlines()) == 120 and down.stats.spilled == 120
    with BufferedClient(api_key=org.key, base_url=org.base, spill_path=str(spill)) as up:
        assert up.flush(10) is True
        assert (up.stats.replayed, up.stats.sent) == (120, 120)
        assert sorted(e.metadata["i"] for e in up.iter_logs(trace_id="parked")) == list(range(120))  # type: ignore[index]
    assert spill.read_bytes() == b""


def test_events_queued_at_exit_are_delivered_without_close(org: Org) -> None:
    script = (
        "import agentaudit\n"
        f"c = agentaudit.BufferedClient(api_key={org.key!r}, base_url={org.base!r})\n"
        "for i in range(75):\n"
        "    c.log('exit_flush', metadata={'i': i})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with org.client() as client:
        assert client.logs.list(action="exit_flush").total == 75


def test_many_threads_log_concurrently_without_loss(org: Org) -> None:
    with org.client(workers=2) as client:
        def produce(n: int) -> None:
            for i in range(500):
                client.log("threaded", metadata={"t": n, "i": i}, wait=False)

        threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert client.flush(30) is True
        assert client.stats.sent == 2000 and client.logs.list(action="threaded").total == 2000


def test_sender_options_are_checked() -> None:
    with pytest.raises(agentaudit.ConfigError, match="batch_size"):
        agentaudit.BufferedClient(api_key="k", base_url=dead_url(), batch_size=51)
    with pytest.raises(agentaudit.ConfigError, match="buffer_size"):
        agentaudit.BufferedClient(api_key="k", base_url=dead_url(), buffer_size=0)
    with pytest.raises(agentaudit.ConfigError, match="window"):
        agentaudit.BufferedClient(api_key="k", base_url=dead_url(), window=0)


def test_events_lost_at_exit_are_counted_in_one_warning(tmp_path: Path) -> None:
    script = (
        "import agentaudit\n"
        f"c = agentaudit.AgentAuditClient(api_key='k', base_url={dead_url()!r}, close_timeout=1)\n"
        "for i in range(20):\n"
        "    c.log('doomed', metadata={'i': i}, wait=False)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and time.monotonic() - started < 20
    warnings = [line for line in done.stderr.splitlines() if "gave up" in line]
    assert warnings == ["agentaudit: gave up on 20 event(s) the sidecar did not take within 1s (see "
                        "client.stats.lost); a spill_path would have kept them on disk for the next run"], done.stderr


def test_close_warns_once_with_the_count_it_gave_up_on(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentaudit")
    client = AgentAuditClient(api_key="k", base_url=dead_url())
    for _ in range(7):
        client.log("doomed", wait=False)
    assert client.close(timeout=0.3) is False
    client.log("after_close", wait=False)
    client.log("after_close", wait=False)
    assert (client.stats.lost, client.stats.sent) == (9, 0)
    messages = [r.getMessage() for r in caplog.records if r.name == "agentaudit"]
    assert [m for m in messages if "gave up" in m] == [
        "agentaudit: gave up on 7 event(s) the sidecar did not take within 0.3s (see client.stats.lost); "
        "a spill_path would have kept them on disk for the next run"]
    assert sum("logged after close()" in m for m in messages) == 1


def test_background_events_keep_their_values_as_logged(org: Org) -> None:
    with org.client() as client:
        metadata = {"state": "before", "nested": {"steps": [1]}}
        client.log("as-logged", metadata=metadata, wait=False)
        metadata["state"] = "after"
        metadata["nested"]["steps"].append(2)  # type: ignore[index]
        entries = [{"action": "as-logged-batch", "metadata": {"state": "before", "steps": [1]}}]
        client.log_batch(entries, wait=False)
        entries[0]["metadata"]["state"] = "after"  # type: ignore[index]
        entries[0]["metadata"]["steps"].append(2)  # type: ignore[index]
        entries[0]["action"] = "changed"
        assert client.flush(10) is True
        assert client.logs.list(action="as-logged")[0].metadata == {"state": "before", "nested": {"steps": [1]}}
        assert client.logs.list(action="as-logged-batch")[0].metadata == {"state": "before", "steps": [1]}
        assert client.logs.list(action="changed").total == 0


class Point(NamedTuple):
    x: int
    y: int


class Steps(list):  # type: ignore[type-arg]
    pass


class Labels(UserDict):  # type: ignore[type-arg]
    pass


def test_background_sends_namedtuples_sequences_and_mappings_as_waited_mode_does(org: Org) -> None:
    steps = Steps([1, Point(3, 4)])
    metadata = {"p": Point(1, 2), "l": steps, "t": (5, [6]), "m": Labels(a=Point(7, 8))}
    expected = {"p": [1, 2], "l": [1, [3, 4]], "t": [5, [6]], "m": {"a": [7, 8]}}
    with org.client() as client:
        assert client.log("seq-waited", metadata=metadata).metadata == expected
        client.log("seq-bg", metadata=metadata, wait=False)
        client.log_batch([{"action": "seq-bg-batch", "metadata": metadata}], wait=False)
        steps.append(9)  # copied when logged
        assert client.flush(10) is True
        assert client.logs.list(action="seq-bg")[0].metadata == expected
        assert client.logs.list(action="seq-bg-batch")[0].metadata == expected
