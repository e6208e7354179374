-- Is any job running past its lease (a worker died) or waiting far past its run_at (no worker running)?
SELECT event_id, operation, state, lease_owner, lease_expires_at, run_at, attempt_count
FROM publish_jobs
WHERE (state = 'running' AND lease_expires_at < now())
   OR (state = 'queued' AND run_at < now() - interval '5 minutes')
ORDER BY run_at;
