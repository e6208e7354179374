-- Which publishes failed or ended indeterminate in the last 24 hours, and why?
SELECT event_id, provider, path, state, error_code, error_info, finished_at
FROM event_status
WHERE state IN ('failed', 'indeterminate') AND finished_at > now() - interval '24 hours'
ORDER BY finished_at DESC;
