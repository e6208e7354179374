-- The intake's group commit looks each request's identity up by its key.
--
-- enqueue_publishes (0010) joined its input to `identities`. The input is a function's rows
-- (jsonb_to_recordset), which the planner takes for a hundred whatever the batch holds, and a relay plans
-- the procedure's statement once per connection without its values (`plan_cache_mode = force_generic_plan`):
-- with a few hundred to a few thousand identities, the join was planned as a hash of the whole table, read at
-- every batch (a sequential scan of 3000 identities for a batch of one). Each request's identity is now one
-- lookup of its key (a lateral subquery, as the claims do). What the procedure writes and answers is unchanged.
CREATE OR REPLACE PROCEDURE enqueue_publishes(
    p_batch jsonb, p_channel text, INOUT outcomes text DEFAULT NULL,
    p_lease_owner text DEFAULT NULL, p_lease_seconds double precision DEFAULT 0, p_lease_limit integer DEFAULT 0)
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
        FROM input LEFT JOIN LATERAL (
            SELECT provider, state FROM identities
            WHERE identities.identity_token = input.identity_token AND identities.state <> 'disconnected' LIMIT 1) AS i ON true),
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
    leased AS (
        SELECT i.id FROM input i JOIN e USING (id)
        WHERE p_lease_owner IS NOT NULL AND i.state = 'queued'
          AND NOT EXISTS (
              SELECT 1 FROM provider_pauses p
              WHERE p.identity_token = i.identity_token AND p.provider = split_part(i.operation, '/', 1) AND p.paused_until > now())
        ORDER BY i.ordinal LIMIT p_lease_limit),
    j AS (
        INSERT INTO publish_jobs (event_id, identity_token, operation, request, callback_url, state, run_at,
                                  lease_owner, lease_expires_at, attempt_count, started_at)
        SELECT i.id, i.identity_token, i.operation, i.content::jsonb, i.callback_url,
               CASE WHEN l.id IS NULL THEN i.state ELSE 'running' END, i.run_at,
               CASE WHEN l.id IS NOT NULL THEN p_lease_owner END,
               CASE WHEN l.id IS NOT NULL THEN now() + make_interval(secs => p_lease_seconds) END,
               CASE WHEN l.id IS NULL THEN 0 ELSE 1 END,
               CASE WHEN l.id IS NOT NULL THEN now() END
        FROM input i JOIN e USING (id) LEFT JOIN leased l USING (id)
        RETURNING event_id, state),
    n AS (SELECT pg_notify(p_channel, 'job') FROM (SELECT 1 FROM j WHERE j.state <> 'running' LIMIT 1) AS any_job)
    SELECT coalesce(jsonb_agg(
               CASE WHEN l.id IS NULL THEN jsonb_build_array(c.id, c.identity_provider, c.identity_state, e.id IS NOT NULL)
               ELSE jsonb_build_array(c.id, c.identity_provider, c.identity_state, true, (
                   SELECT jsonb_build_object(
                       'credentials', encode(i.credentials, 'base64'), 'key_id', i.credentials_key_id,
                       'token_expires_at', to_char(i.token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'provider_user_id', i.provider_user_id,
                       'accounts', (
                           SELECT coalesce(jsonb_agg(jsonb_build_object(
                                       'kind', a.kind, 'id', a.account_id, 'name', a.name,
                                       'token', encode(a.access_token, 'base64'), 'key_id', a.access_token_key_id)), '[]')
                           FROM identity_accounts a WHERE a.identity_token = i.identity_token))
                   FROM identities i WHERE i.identity_token = c.identity_token)) END), '[]')::text,
           (SELECT count(*) FROM n)
    INTO outcomes, notified
    FROM checked c LEFT JOIN e ON e.id = c.id LEFT JOIN leased l ON l.id = c.id;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE enqueue_publishes(jsonb, text, text, text, double precision, integer) IS 'The group commit of the intake: writes the publish requests of p_batch whose identity may publish, leases up to p_lease_limit of their due jobs to p_lease_owner (a worker of the calling process), notifies p_channel of the others, commits; outcomes says what became of each.';
