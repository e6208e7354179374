-- Which old events can go, and deleting them (run it as often as you like; it deletes at most 10000 events a
-- run, so run it again while it reports any). An event received more than 90 days ago goes when its work is
-- over: its publish succeeded, failed, ended indeterminate or was cancelled (or it is an identity change),
-- and none of its callbacks is still pending or being delivered. Its job, provider attempts, callbacks and
-- delivery tries go with it, in this one statement. Its Idempotency-Key or webhook-id goes too: a client
-- that replays one after that gets a new event. Change the interval to the retention you want.
WITH old AS (
    SELECT e.id FROM events e
    WHERE e.received_at < now() - interval '90 days'
      AND NOT EXISTS (SELECT 1 FROM publish_jobs j
                      WHERE j.event_id = e.id AND j.state NOT IN ('succeeded', 'failed', 'indeterminate', 'cancelled'))
      AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.event_id = e.id AND c.state IN ('pending', 'delivering'))
    ORDER BY e.received_at
    LIMIT 10000
    FOR UPDATE SKIP LOCKED
),
delivery_tries AS (
    DELETE FROM callback_attempts a USING callbacks c, old WHERE a.callback_id = c.id AND c.event_id = old.id RETURNING 1
),
owed_callbacks AS (DELETE FROM callbacks c USING old WHERE c.event_id = old.id RETURNING 1),
provider_calls AS (DELETE FROM provider_attempts a USING old WHERE a.event_id = old.id RETURNING 1),
jobs AS (DELETE FROM publish_jobs j USING old WHERE j.event_id = old.id RETURNING 1),
deleted AS (DELETE FROM events e USING old WHERE e.id = old.id RETURNING 1)
SELECT (SELECT count(*) FROM deleted) AS events, (SELECT count(*) FROM jobs) AS publish_jobs,
       (SELECT count(*) FROM provider_calls) AS provider_attempts, (SELECT count(*) FROM owed_callbacks) AS callbacks,
       (SELECT count(*) FROM delivery_tries) AS callback_attempts;
