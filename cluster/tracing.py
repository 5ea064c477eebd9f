"""Distributed traces: one alert's way from the HTTP request to the page, as spans.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (Jaeger, Tempo and the OpenTelemetry
Collector take OTLP over HTTP: ``http://collector:4318``). Then every Vigil process
exports its spans there in batches, and ``VIGIL_TRACE_SAMPLE_RATIO`` (default 1.0)
says what share of requests without a sampled ``traceparent`` of their own to trace;
a request that carries one is traced as its sender decided.

The hops, and how the context crosses each (W3C ``traceparent`` strings):

    HTTP request      server span, context from the request's ``traceparent``
    → tenant actor    on each alert (``IncomingAlert.trace``), through the coalescer
    → change stream   in the stored entry (``ChangeEntry.trace``)
    → correlator      a span per round, child of the first traced entry, linked to the rest
    → notifications   in the stored entry (``NotificationsEntry.trace``)
    → escalator       a span per read, child of its entries' trace
    → notifier        a client span around each HTTP try

Carrying the context inside the stream records, not in a call, is what lets a trace
survive a restart in between: the record is in Redis, the wake-up call is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cluster.settings import Settings

TRACER_NAME = "vigil"
_propagator = TraceContextTextMapPropagator()
_enabled = False


def setup_tracing(process: str, settings: Settings) -> bool:
    """Export this process's spans over OTLP if an endpoint is configured (once per
    OS process); whether tracing is on."""
    global _enabled
    if _enabled or settings.otel_endpoint is None:
        return _enabled
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create(
        {"service.name": f"vigil-{process.split(':')[0]}", "service.instance.id": process}
    )
    sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
    provider = TracerProvider(resource=resource, sampler=sampler)
    endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=1000)
    )
    trace.set_tracer_provider(provider)
    _enabled = True
    return True


def enabled() -> bool:
    """Whether this process records spans (the hot paths skip all tracing work if not)."""
    return _enabled


def current_traceparent() -> str | None:
    """The current span's context as a ``traceparent`` string (``None``: no sampled span)."""
    if not _enabled:
        return None
    span_context = trace.get_current_span().get_span_context()
    if not (span_context.is_valid and span_context.trace_flags.sampled):
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def _context_of(traceparent: str) -> Any:
    return _propagator.extract({"traceparent": traceparent})


@contextlib.contextmanager
def span(
    name: str,
    parents: Sequence[str | None] = (),
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> Iterator[Span | None]:
    """A span, current inside the block: the child of the first of ``parents`` (the
    ``traceparent`` strings of what it works on), linked to the others. With no parent,
    a child of the current span; with none at all, no span (``None``): work that no
    traced request caused is not traced."""
    if not _enabled:
        yield None
        return
    known = list(dict.fromkeys(p for p in parents if p))
    tracer = trace.get_tracer(TRACER_NAME)
    if known:
        first, rest = _context_of(known[0]), known[1:]
        links = [Link(trace.get_current_span(_context_of(p)).get_span_context()) for p in rest]
        with tracer.start_as_current_span(
            name, context=first, kind=kind, links=links, attributes=attributes
        ) as made:
            yield made
        return
    if trace.get_current_span().get_span_context().is_valid:
        with tracer.start_as_current_span(name, kind=kind, attributes=attributes) as made:
            yield made
        return
    yield None


@contextlib.contextmanager
def server_span(name: str, headers: dict[str, str]) -> Iterator[Span | None]:
    """The span of one HTTP request, in the trace its ``traceparent`` header names (or
    a new one, sampled at ``VIGIL_TRACE_SAMPLE_RATIO``). Ray Serve opens a server span
    of its own once a tracer provider is set; where it did, that one is the request's
    span (a second would only repeat it)."""
    if not _enabled:
        yield None
        return
    current = trace.get_current_span()
    if current.get_span_context().is_valid:
        yield current if current.is_recording() else None
        return
    extracted = _propagator.extract(headers)
    token = otel_context.attach(extracted)
    try:
        with trace.get_tracer(TRACER_NAME).start_as_current_span(
            name, kind=SpanKind.SERVER
        ) as made:
            yield made
    finally:
        otel_context.detach(token)
