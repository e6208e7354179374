-- Who signs a callback: subscriptions inserted with SQL (secret given in clear, once), and publish-requested webhooks.

-- An admin inserts a subscription the plain way: INSERT INTO subscriptions (url, events, secret) VALUES
-- ('https://…', ARRAY['push.succeeded'], 'whsec_…'). Without secret_key_id, `secret` holds the whsec_ text in
-- clear; PushRelay encrypts it (and sets secret_key_id) the next time a callback worker looks.
ALTER TABLE subscriptions
    ALTER COLUMN secret_key_id DROP NOT NULL,
    ADD CONSTRAINT subscriptions_secret_well_formed CHECK (
        secret_key_id IS NOT NULL OR convert_from(secret, 'UTF8') ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$');
COMMENT ON COLUMN subscriptions.secret IS 'AES-GCM ciphertext (nonce|ciphertext|tag) of the whsec_ secret, encrypted with the key named by secret_key_id. A row inserted with SQL may give the whsec_ text itself and no secret_key_id: PushRelay encrypts it within a poll interval (or at its first delivery).';
CREATE INDEX subscriptions_clear_secret_idx ON subscriptions (id) WHERE secret_key_id IS NULL;

-- A publish-requested webhook has no API key: its callback_url is signed with the webhook secret
-- (PUSHRELAY_WEBHOOK_SECRET), the one the system that sent it holds. Such callbacks have neither a
-- subscription nor an API key.
ALTER TABLE callbacks DROP CONSTRAINT callbacks_check;
ALTER TABLE callbacks ADD CONSTRAINT callbacks_signer CHECK (subscription_id IS NULL OR api_key_id IS NULL);
COMMENT ON COLUMN callbacks.api_key_id IS 'Set for a Push API request''s callback_url (signed with that key''s callback secret). With subscription_id also NULL: the callback_url of a publish-requested webhook, signed with the first PUSHRELAY_WEBHOOK_SECRET.';

CREATE OR REPLACE FUNCTION enqueue_push_callbacks(p_event uuid, p_state text, p_result json, p_error_code integer, p_error_info text)
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
        SELECT b.id, NULL, b.api_key_id, b.callback_url, b.type, b.payload FROM b WHERE b.callback_url IS NOT NULL
        RETURNING 1),
    n AS (SELECT pg_notify('pushrelay', 'callback') FROM (SELECT 1 FROM ins LIMIT 1) AS any_inserted)
    SELECT ((SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM n))::integer
$body$;
