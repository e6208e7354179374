-- How long do provider calls take, per provider step, over the last hour (p50, p95, max in ms)?
SELECT j.operation, a.step, count(*) AS calls,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95_ms,
       max(a.duration_ms) AS max_ms
FROM provider_attempts a JOIN publish_jobs j USING (event_id)
WHERE a.started_at > now() - interval '1 hour'
GROUP BY j.operation, a.step ORDER BY j.operation, a.step;
