-- The group commits of the engine written as one statement per batch rather than a loop over its items.
--
-- finish_tries (0008) and record_callback_deliveries (0009) ran their UPDATE and INSERT once per item, and
-- finish_tries called enqueue_push_callbacks once per final job. Every execution of a statement pays its
-- executor start, and PostgreSQL reads the CHECK constraints of the table it writes from their stored text
-- at each one: in the engine benchmark, executor starts took 13 % and reading CHECK constraints 10 % of
-- PostgreSQL's CPU. Written over the whole batch (UPDATE … FROM the batch, INSERT … SELECT from what the
-- UPDATE returned), each statement runs once per CALL, whatever the size of the batch. What each procedure
-- writes, answers and notifies is unchanged.

-- As in 0008, the job found by its key and lease owner alone (see mark_publishing_batch below). One item per
-- try; `held` is a JSON array of booleans in the batch's order. Several tries of one batch that pause the same
-- identity on the same provider make one pause, until the latest of their `run_at` (one INSERT … ON CONFLICT
-- cannot update a row twice). The callbacks are those of enqueue_push_callbacks (0007), for every try of the
-- batch that ends its job succeeded, failed or indeterminate.
CREATE OR REPLACE PROCEDURE finish_tries(p_batch jsonb, p_channel text, INOUT held text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    callbacks_created bigint;
BEGIN
    WITH t AS MATERIALIZED (
        SELECT * FROM ROWS FROM (jsonb_to_recordset(p_batch) AS (
            event_id uuid, owner text, try_number integer, state text, is_final boolean, result text, error_code integer,
            error_info text, run_at timestamptz, pause boolean, attempts jsonb)) WITH ORDINALITY AS x),
    u AS (
        UPDATE publish_jobs j SET state = t.state, result = t.result::json, error_code = t.error_code, error_info = t.error_info,
            run_at = coalesce(t.run_at, j.run_at),
            finished_at = CASE WHEN t.is_final THEN now() END,
            lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        FROM t
        WHERE j.event_id = ANY (ARRAY(SELECT event_id FROM t)) AND j.event_id = t.event_id AND j.lease_owner = t.owner
        RETURNING j.event_id, j.identity_token, j.operation, j.callback_url),
    kept AS MATERIALIZED (
        SELECT t.*, u.identity_token, split_part(u.operation, '/', 1) AS provider_name, u.callback_url
        FROM t JOIN u USING (event_id)),
    attempts AS (
        INSERT INTO provider_attempts (event_id, try_number, step, method, url, request_summary, http_status, outcome,
                                       response_excerpt, error, started_at, duration_ms)
        SELECT k.event_id, k.try_number, a.step, a.method, a.url, a.request_summary, a.http_status, a.outcome,
               a.response_excerpt, a.error, a.started_at, a.duration_ms
        FROM kept k CROSS JOIN LATERAL jsonb_to_recordset(k.attempts) AS a(
            step text, method text, url text, request_summary jsonb, http_status integer, outcome text,
            response_excerpt text, error text, started_at timestamptz, duration_ms double precision)
        ORDER BY k.ordinality),
    pauses AS (
        INSERT INTO provider_pauses AS p (identity_token, provider, paused_until, reason)
        SELECT DISTINCT ON (k.identity_token, k.provider_name)
               k.identity_token, k.provider_name, coalesce(k.run_at, now()), coalesce(k.error_info, '')
        FROM kept k WHERE k.pause
        ORDER BY k.identity_token, k.provider_name, coalesce(k.run_at, now()) DESC
        ON CONFLICT (identity_token, provider) DO UPDATE
            SET paused_until = greatest(p.paused_until, EXCLUDED.paused_until), reason = EXCLUDED.reason, updated_at = now()),
    finished AS MATERIALIZED (
        SELECT k.*, e.api_key_id, 'push.' || k.state AS type,
               json_build_object(
                   'type', 'push.' || k.state,
                   'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'data', json_build_object(
                       'event_id', e.id, 'identity_token', e.identity_token, 'provider', e.provider, 'path', e.path,
                       'status', k.state, 'result', k.result::json,
                       'error', CASE WHEN k.state = 'succeeded' OR k.error_code IS NULL THEN NULL
                                     ELSE json_build_object('code', k.error_code, 'info', k.error_info) END)) AS payload
        FROM kept k CROSS JOIN LATERAL (SELECT * FROM events WHERE events.id = k.event_id LIMIT 1) e
        WHERE k.is_final AND k.state IN ('succeeded', 'failed', 'indeterminate')),
    owed AS (
        INSERT INTO callbacks (event_id, subscription_id, api_key_id, url, type, payload)
        SELECT f.event_id, s.id, NULL, s.url, f.type, f.payload
        FROM finished f JOIN subscriptions s ON s.state = 'active' AND f.type = ANY (s.events)
        UNION ALL
        SELECT f.event_id, NULL, f.api_key_id, f.callback_url, f.type, f.payload FROM finished f WHERE f.callback_url IS NOT NULL
        RETURNING 1),
    done AS (
        SELECT pg_notify(p_channel, 'done:' || k.event_id) FROM kept k WHERE k.is_final)
    SELECT (SELECT coalesce(jsonb_agg(k.event_id IS NOT NULL ORDER BY t.ordinality), '[]') FROM t LEFT JOIN kept k USING (event_id))::text,
           (SELECT count(*) FROM owed) + 0 * (SELECT count(*) FROM done)
    INTO held, callbacks_created;
    IF callbacks_created > 0 THEN
        PERFORM pg_notify('pushrelay', 'callback');
    END IF;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE finish_tries(jsonb, text, text) IS 'Group commit of the ends of publish tries: moves each job on if its lease is still held, records its provider attempts, pauses, notifies, queues callbacks; commits. held says, per try, whether the lease was still held.';

-- As in 0008, without `state = 'running'` in the WHERE clause: a lease owner is set exactly while a job runs
-- (CHECK in 0001), so the owner's name says it already. With that condition the planner read the whole
-- `publish_jobs_lease_idx` (jobs running, and every entry of jobs that ran since the last vacuum: 15000 in
-- the benchmark) to intersect it with the batch's keys, instead of looking up the batch's keys alone.
CREATE OR REPLACE PROCEDURE mark_publishing_batch(p_events uuid[], p_owner text, INOUT marked uuid[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    WITH u AS (
        UPDATE publish_jobs SET publish_call_started_at = now(), updated_at = now()
        WHERE event_id = ANY (p_events) AND lease_owner = p_owner
        RETURNING event_id)
    SELECT coalesce(array_agg(event_id), '{}') INTO marked FROM u;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE mark_publishing_batch(uuid[], text, uuid[]) IS 'Group commit of the marks made before publishing calls: marks the jobs of p_events that p_owner still holds, and commits; marked lists them (the others must not make their call).';

-- As in 0009, one statement per table for the whole batch.
CREATE OR REPLACE PROCEDURE record_callback_deliveries(p_batch jsonb, INOUT recorded integer DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    WITH d AS MATERIALIZED (
        SELECT * FROM jsonb_to_recordset(p_batch) AS x(
            id uuid, owner text, attempt integer, state text, next_attempt_at timestamptz, http_status integer, error text,
            response_excerpt text, started_at timestamptz, duration_ms double precision, disables_subscription boolean)),
    u AS (
        UPDATE callbacks c SET state = d.state, lease_owner = NULL, lease_expires_at = NULL,
            next_attempt_at = coalesce(d.next_attempt_at, c.next_attempt_at),
            delivered_at = CASE WHEN d.state = 'delivered' THEN now() END
        FROM d
        WHERE c.id = ANY (ARRAY(SELECT id FROM d)) AND c.id = d.id AND c.lease_owner = d.owner
        RETURNING c.id, c.subscription_id),
    tries AS (
        INSERT INTO callback_attempts (callback_id, attempt, http_status, error, response_excerpt, started_at, duration_ms)
        SELECT d.id, d.attempt, d.http_status, d.error, d.response_excerpt, d.started_at, d.duration_ms
        FROM d JOIN u USING (id)),
    gone AS (
        UPDATE subscriptions SET state = 'disabled', disabled_at = now(), disabled_reason = 'the subscriber answered 410 Gone'
        WHERE state = 'active'
          AND id = ANY (ARRAY(SELECT u.subscription_id FROM d JOIN u USING (id) WHERE d.disables_subscription AND u.subscription_id IS NOT NULL)))
    SELECT count(*) INTO recorded FROM u;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE record_callback_deliveries(jsonb, integer) IS 'Group commit of the records of callback deliveries (not waited for on the disk): moves each callback on if its lease is still held, records the try, disables a subscription that answered 410.';
