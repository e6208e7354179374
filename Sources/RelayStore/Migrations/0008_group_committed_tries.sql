-- The publish worker's writes by group commit: the jobs that end together (and those about to make their
-- publishing call) share one CALL and one commit, as the intake's requests do in enqueue_publishes.
--
-- Each element of p_batch is one try: {event_id, owner, try_number, state, is_final, result, error_code,
-- error_info, run_at, pause, attempts}; `result` is JSON text, so that its keys keep their order (a
-- jsonb value would sort them). For each, if `owner` still holds the job's lease: the job moves to
-- `state` (with its result or last error; `run_at` for a retry), the try's provider attempts are recorded,
-- a rate limit (`pause`) pauses the identity's other jobs for that provider until `run_at`, and a final
-- state notifies waiters (`done:<id>`) and queues the callbacks it owes. `held` is a JSON array of
-- booleans, in the batch's order: false where the lease was lost (nothing of that try is written).
CREATE PROCEDURE finish_tries(p_batch jsonb, p_channel text, INOUT held text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    kept jsonb := '[]';
BEGIN
    FOR t IN
        SELECT * FROM jsonb_to_recordset(p_batch) AS x(
            event_id uuid, owner text, try_number integer, state text, is_final boolean, result text, error_code integer,
            error_info text, run_at timestamptz, pause boolean, attempts jsonb)
    LOOP
        UPDATE publish_jobs SET state = t.state, result = t.result::json, error_code = t.error_code, error_info = t.error_info,
            run_at = coalesce(t.run_at, run_at),
            finished_at = CASE WHEN t.is_final THEN now() END,
            lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE event_id = t.event_id AND state = 'running' AND lease_owner = t.owner;
        kept := kept || to_jsonb(FOUND);
        CONTINUE WHEN NOT FOUND;

        INSERT INTO provider_attempts (event_id, try_number, step, method, url, request_summary, http_status, outcome,
                                       response_excerpt, error, started_at, duration_ms)
        SELECT t.event_id, t.try_number, a.step, a.method, a.url, a.request_summary, a.http_status, a.outcome,
               a.response_excerpt, a.error, a.started_at, a.duration_ms
        FROM jsonb_to_recordset(t.attempts) AS a(
            step text, method text, url text, request_summary jsonb, http_status integer, outcome text,
            response_excerpt text, error text, started_at timestamptz, duration_ms double precision);

        IF t.pause THEN
            INSERT INTO provider_pauses (identity_token, provider, paused_until, reason)
            SELECT j.identity_token, split_part(j.operation, '/', 1), coalesce(t.run_at, now()), coalesce(t.error_info, '')
            FROM publish_jobs j WHERE j.event_id = t.event_id
            ON CONFLICT (identity_token, provider) DO UPDATE
                SET paused_until = greatest(provider_pauses.paused_until, EXCLUDED.paused_until), reason = EXCLUDED.reason,
                    updated_at = now();
        END IF;

        IF t.is_final THEN
            PERFORM pg_notify(p_channel, 'done:' || t.event_id);
            PERFORM enqueue_push_callbacks(t.event_id, t.state, t.result::json, t.error_code, t.error_info);
        END IF;
    END LOOP;
    held := kept::text;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE finish_tries(jsonb, text, text) IS 'Group commit of the ends of publish tries: moves each job on if its lease is still held, records its provider attempts, pauses, notifies, queues callbacks; commits. held says, per try, whether the lease was still held.';

-- The marks before publishing calls, by group commit too: the jobs of one worker process (`p_owner`)
-- about to make their publishing calls share one commit. `marked` lists the jobs whose lease was still
-- held: only those make their call.
CREATE PROCEDURE mark_publishing_batch(p_events uuid[], p_owner text, INOUT marked uuid[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    WITH u AS (
        UPDATE publish_jobs SET publish_call_started_at = now(), updated_at = now()
        WHERE event_id = ANY (p_events) AND state = 'running' AND lease_owner = p_owner
        RETURNING event_id)
    SELECT coalesce(array_agg(event_id), '{}') INTO marked FROM u;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE mark_publishing_batch(uuid[], text, uuid[]) IS 'Group commit of the marks made before publishing calls: marks the jobs of p_events that p_owner still holds, and commits; marked lists them (the others must not make their call).';
