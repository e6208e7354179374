-- Writes of the hot path as procedures that COMMIT inside their CALL.
--
-- A statement sent alone commits at the protocol's Sync, after its CommandComplete, and PostgresNIO reports
-- it done at CommandComplete: a failed commit would go unseen. PushRelay therefore wraps writes in BEGIN …
-- COMMIT (three round trips). A procedure that commits inside answers its CALL only after that commit, and a
-- failed commit is the CALL's own error: one round trip, and PL/pgSQL keeps the statements' plans.
-- CALL them outside a transaction block (a COMMIT inside is refused there).

-- The mark written (and flushed) before the call that publishes: no mark, no call.
CREATE PROCEDURE mark_publishing(p_event uuid, p_owner text, INOUT marked boolean DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE publish_jobs SET publish_call_started_at = now(), updated_at = now()
    WHERE event_id = p_event AND state = 'running' AND lease_owner = p_owner;
    marked := FOUND;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE mark_publishing(uuid, text, boolean) IS 'Marks that the lease holder p_owner is making the publishing call of job p_event, and commits; marked is false when the lease was lost (then the call is not made).';

-- A batch of publish requests (the group commit of the intake): checks each request's identity, writes the
-- events and jobs of those that may publish, notifies the workers, commits. `outcomes` is a JSON array of
-- [event id, identity provider, identity state, created] per request, in no particular order.
CREATE PROCEDURE enqueue_publishes(p_batch jsonb, p_channel text, INOUT outcomes text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    notified bigint;
BEGIN
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(p_batch) AS t(
            id uuid, source text, idempotency_key text, request_sha256 text, identity_token uuid, provider text, path text,
            api_key_id bigint, body jsonb, received_at timestamptz, operation text, content text, callback_url text,
            state text, run_at timestamptz, ordinal int)),
    checked AS (
        SELECT input.*, i.provider AS identity_provider, i.state AS identity_state
        FROM input LEFT JOIN identities i ON i.identity_token = input.identity_token AND i.state <> 'disconnected'),
    e AS (
        INSERT INTO events (id, kind, source, idempotency_key, request_sha256, identity_token, provider, path, api_key_id, body,
                            received_at)
        SELECT id, 'publish.requested', source, idempotency_key, decode(request_sha256, 'hex'), identity_token, provider, path,
               api_key_id, body, received_at
        FROM checked WHERE identity_provider = provider AND identity_state = 'connected'
        -- Keys in one order, so concurrent batches (several processes) holding the same keys wait for each
        -- other instead of deadlocking; for one key, the first request of the batch wins.
        ORDER BY idempotency_key, ordinal
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id),
    j AS (
        INSERT INTO publish_jobs (event_id, identity_token, operation, request, callback_url, state, run_at)
        SELECT i.id, i.identity_token, i.operation, i.content::jsonb, i.callback_url, i.state, i.run_at
        FROM input i JOIN e USING (id) RETURNING event_id),
    n AS (SELECT pg_notify(p_channel, 'job') FROM (SELECT 1 FROM j LIMIT 1) AS any_job)
    SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.identity_provider, c.identity_state, e.id IS NOT NULL)), '[]')::text,
           (SELECT count(*) FROM n)
    INTO outcomes, notified
    FROM checked c LEFT JOIN e ON e.id = c.id;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE enqueue_publishes(jsonb, text, text) IS 'The group commit of the intake: writes the publish requests of p_batch whose identity may publish, notifies p_channel, commits; outcomes says what became of each.';
