"""OTLP ingest benchmark: spans/s over OTLP/HTTP (protobuf) in batches of 50 and 512, beside JSON batch ingest.

    .venv/bin/python bench/otlp.py [--seconds 5] [--concurrency 8]

Both loads come from the same asyncio client in this process, so the ratio compares like with like. A third
load posts the very events the 50-span bodies become (as ``to_event`` maps them: one trace per body, the span's
times, its OTel metadata) to the JSON batch endpoint, which separates what OTLP decoding and mapping cost from
what events of that shape cost to store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import EVENT, account, sidecar, stop  # noqa: E402


def mapped_json(seed: int) -> bytes:
    """A JSON batch of the events the 50-span OTLP body ``seed`` becomes."""
    from sidecar.api.otlp import decode, spans_of
    from sidecar.clock import to_iso
    from sidecar.services.otel import to_event

    spans, _ = spans_of(decode(otlp_body(50, seed), "application/x-protobuf"))
    return json.dumps([{
        "action": e.action, "prompt": e.prompt, "response": e.response, "agentId": e.agent_id, "traceId": e.trace_id,
        "spanId": e.span_id, "parentSpanId": e.parent_span_id, "startedAt": to_iso(e.started_at),
        "endedAt": to_iso(e.ended_at), "metadata": e.metadata,
    } for e in map(to_event, spans)]).encode()


def otlp_body(spans: int, seed: int) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="bench-agent")))
    scope = resource_spans.scope_spans.add()
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": EVENT["prompt"]}]}])
    answer = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": EVENT["response"]}]}])
    now = time.time_ns()
    for i in range(spans):
        span = scope.spans.add()
        span.trace_id = (seed * 1_000_003 + i // 50).to_bytes(16, "big")
        span.span_id = (seed * 100_000 + i + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o"
        span.start_time_unix_nano = now
        span.end_time_unix_nano = now + 800_000_000
        for key, value in (("gen_ai.operation.name", "chat"), ("gen_ai.request.model", "gpt-4o"),
                           ("gen_ai.input.messages", messages), ("gen_ai.output.messages", answer)):
            span.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
        span.attributes.append(KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=300)))
    return request.SerializeToString()


async def load(url: str, bodies: list[bytes], headers: dict[str, str], per_request: int, seconds: float,
               concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def worker(w: int) -> None:
            nonlocal done
            i = w
            while time.perf_counter() < deadline:
                async with session.post(url, data=bodies[i % len(bodies)], headers=headers) as response:
                    await response.read()
                    if response.status not in (200, 201):
                        raise RuntimeError(f"{url} answered {response.status}")
                done += per_request
                i += concurrency
        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="agentaudit-otlp-"))
    try:
        proc, url = sidecar(work / "data")
        key, _ = account(url)
        print(f"# OTLP ingest ({os.cpu_count()} cores, asyncio client, concurrency {args.concurrency}, "
              f"{args.seconds:g}s each)")
        json_body = json.dumps([EVENT] * 50).encode()
        base = asyncio.run(load(f"{url}/api/v1/audit-logs/batch", [json_body],
                                {"X-API-Key": key, "Content-Type": "application/json"}, 50, args.seconds,
                                args.concurrency))
        print(f"{'JSON batches of 50':<28}{base:>10,.0f} events/s")
        same = asyncio.run(load(f"{url}/api/v1/audit-logs/batch", [mapped_json(seed) for seed in range(1, 40)],
                                {"X-API-Key": key, "Content-Type": "application/json"}, 50, args.seconds,
                                args.concurrency))
        print(f"{'JSON, the spans as events':<28}{same:>10,.0f} events/s  ({same / base:.0%} of JSON batch ingest: "
              "the cost of the events' shape)")
        for size in (50, 512):
            bodies = [otlp_body(size, seed) for seed in range(1, 40)]
            rate = asyncio.run(load(f"{url}/v1/traces", bodies, {"Authorization": f"Bearer {key}",
                                                                  "Content-Type": "application/x-protobuf"},
                                    size, args.seconds, args.concurrency))
            print(f"{'OTLP protobuf, ' + str(size) + ' spans':<28}{rate:>10,.0f} spans/s  "
                  f"({rate / base:.0%} of JSON batch ingest, {rate / same:.0%} of the same events as JSON)")
        stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
