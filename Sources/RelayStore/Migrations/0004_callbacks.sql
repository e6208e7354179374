-- Outbound callbacks: subscriptions, the callbacks owed to them (and to per-request callback_url), every delivery attempt.

CREATE TABLE subscriptions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url             text NOT NULL CHECK (url ~ '^https?://'),
    events          text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY['push.succeeded', 'push.failed', 'push.indeterminate', 'identity.connected', 'identity.disconnected', 'identity.needs_reconnect']),
    description     text NOT NULL DEFAULT '',
    secret          bytea NOT NULL,
    secret_key_id   text NOT NULL,
    api_key_id      bigint REFERENCES api_keys (id),
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CHECK ((state = 'disabled') = (disabled_at IS NOT NULL))
);
COMMENT ON TABLE subscriptions IS 'Subscriber URLs that receive signed callbacks (Standard Webhooks) for the listed event types. The whsec_ secret is stored only as AES-GCM ciphertext. A 410 Gone answer, or DELETE /subscriptions/<id>.json, disables a subscription.';

CREATE TABLE callbacks (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES events (id),
    subscription_id  uuid REFERENCES subscriptions (id),
    api_key_id       bigint REFERENCES api_keys (id),
    url              text NOT NULL,
    type             text NOT NULL CHECK (type IN ('push.succeeded', 'push.failed', 'push.indeterminate', 'identity.connected', 'identity.disconnected', 'identity.needs_reconnect')),
    payload          json NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'dead')),
    attempt_count    integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    CHECK ((subscription_id IS NULL) <> (api_key_id IS NULL)),
    CHECK ((state = 'delivering') = (lease_owner IS NOT NULL))
);
COMMENT ON TABLE callbacks IS 'One callback owed to one URL for one event: to a subscription (signed with its secret) or to the request''s callback_url (signed with the API key''s callback secret). Its id is the stable webhook-id (msg_<id>) of every delivery try; pending ones are retried on PUSHRELAY_CALLBACK_RETRY_SCHEDULE, then dead.';
COMMENT ON COLUMN callbacks.payload IS 'The JSON body sent, exactly: {"type","timestamp","data":{…}}.';
CREATE INDEX callbacks_due_idx ON callbacks (next_attempt_at) WHERE state = 'pending';
CREATE INDEX callbacks_event_idx ON callbacks (event_id);

CREATE TABLE callback_attempts (
    id               bigserial PRIMARY KEY,
    callback_id      uuid NOT NULL REFERENCES callbacks (id),
    attempt          integer NOT NULL,
    http_status      integer,
    error            text,
    response_excerpt text,
    started_at       timestamptz NOT NULL,
    duration_ms      double precision NOT NULL
);
COMMENT ON TABLE callback_attempts IS 'Every delivery try of a callback: the subscriber''s status (or the connection error), an excerpt of its answer, how long it took.';
CREATE INDEX callback_attempts_callback_idx ON callback_attempts (callback_id, id);

-- The callbacks a finished publish owes: one per active subscription to its outcome, and one to the request's
-- callback_url (signed with the callback secret of the API key that made the request). The outcome is passed in
-- because the caller writes it in the same statement (its own update is not visible to this function yet).
CREATE FUNCTION enqueue_push_callbacks(p_event uuid, p_state text, p_result json, p_error_code integer, p_error_info text)
RETURNS integer LANGUAGE sql AS $body$
    WITH b AS (
        SELECT e.id, e.api_key_id, j.callback_url, 'push.' || p_state AS type,
               json_build_object(
                   'type', 'push.' || p_state,
                   'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'data', json_build_object(
                       'event_id', e.id, 'identity_token', e.identity_token, 'provider', e.provider, 'path', e.path,
                       'status', p_state, 'result', p_result,
                       'error', CASE WHEN p_state = 'succeeded' OR p_error_code IS NULL THEN NULL
                                     ELSE json_build_object('code', p_error_code, 'info', p_error_info) END)) AS payload
        FROM events e JOIN publish_jobs j ON j.event_id = e.id
        WHERE e.id = p_event AND p_state IN ('succeeded', 'failed', 'indeterminate')),
    ins AS (
        INSERT INTO callbacks (event_id, subscription_id, api_key_id, url, type, payload)
        SELECT b.id, s.id, NULL, s.url, b.type, b.payload FROM b JOIN subscriptions s ON s.state = 'active' AND b.type = ANY (s.events)
        UNION ALL
        SELECT b.id, NULL, b.api_key_id, b.callback_url, b.type, b.payload FROM b
        WHERE b.callback_url IS NOT NULL AND b.api_key_id IS NOT NULL
        RETURNING 1),
    n AS (SELECT pg_notify('pushrelay', 'callback') FROM (SELECT 1 FROM ins LIMIT 1) AS any_inserted)
    SELECT ((SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM n))::integer
$body$;
COMMENT ON FUNCTION enqueue_push_callbacks(uuid, text, json, integer, text) IS 'Creates the callbacks a publish owes once it is final (called by the statement that makes it final).';

-- The callbacks an identity change owes: one per active subscription to that event type.
CREATE FUNCTION enqueue_identity_callbacks(p_event uuid, p_type text, p_identity uuid)
RETURNS integer LANGUAGE sql AS $body$
    WITH b AS (
        SELECT json_build_object(
                   'type', p_type,
                   'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'data', json_build_object(
                       'event_id', p_event, 'identity_token', i.identity_token, 'provider', i.provider,
                       'provider_user_id', i.provider_user_id, 'state', CASE p_type WHEN 'identity.disconnected' THEN 'disconnected'
                           WHEN 'identity.needs_reconnect' THEN 'needs_reconnect' ELSE 'connected' END)) AS payload
        FROM identities i WHERE i.identity_token = p_identity),
    ins AS (
        INSERT INTO callbacks (event_id, subscription_id, url, type, payload)
        SELECT p_event, s.id, s.url, p_type, b.payload FROM b JOIN subscriptions s ON s.state = 'active' AND p_type = ANY (s.events)
        RETURNING 1),
    n AS (SELECT pg_notify('pushrelay', 'callback') FROM (SELECT 1 FROM ins LIMIT 1) AS any_inserted)
    SELECT ((SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM n))::integer
$body$;
COMMENT ON FUNCTION enqueue_identity_callbacks(uuid, text, uuid) IS 'Creates the callbacks an identity.connected, identity.disconnected or identity.needs_reconnect owes (called in the transaction of the change; p_event is the event that caused it).';
