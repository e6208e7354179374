-- The rescuer needs to know whether a worker that died may already have made the call that publishes.

ALTER TABLE publish_jobs ADD COLUMN publish_call_started_at timestamptz;
COMMENT ON COLUMN publish_jobs.publish_call_started_at IS 'Set (durably) just before the current try sends the request that publishes; cleared at each claim. A job whose lease expired with this set may have been published: the rescuer makes it indeterminate instead of queueing it again.';
