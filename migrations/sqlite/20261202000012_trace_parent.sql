-- OpenTelemetry: the W3C `traceparent` of the span that stored an event, so
-- that its deliveries' attempts, made later and maybe by another instance,
-- join the event's trace. NULL when tracing is off.
ALTER TABLE events ADD COLUMN trace_parent TEXT;
