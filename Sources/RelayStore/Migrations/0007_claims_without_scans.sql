-- The hot path's statements without table scans or planning at every call.

-- Taking back a callback whose worker died looks for expired leases by an index, as the job rescuer does;
-- the callback claim no longer reads the whole table to find them (its OR of two states could use no index).
CREATE INDEX callbacks_lease_idx ON callbacks (lease_expires_at) WHERE state = 'delivering';

-- The same callbacks as before (0005), written in PL/pgSQL: a SQL function that cannot be inlined parses and
-- plans its body at every call (about 1 ms here, once per finished job); PL/pgSQL keeps its plan for the
-- session.
CREATE OR REPLACE FUNCTION enqueue_push_callbacks(p_event uuid, p_state text, p_result json, p_error_code integer, p_error_info text)
RETURNS integer LANGUAGE plpgsql AS $body$
DECLARE
    created integer;
BEGIN
    IF p_state NOT IN ('succeeded', 'failed', 'indeterminate') THEN
        RETURN 0;
    END IF;
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
        WHERE e.id = p_event),
    ins AS (
        INSERT INTO callbacks (event_id, subscription_id, api_key_id, url, type, payload)
        SELECT b.id, s.id, NULL, s.url, b.type, b.payload FROM b JOIN subscriptions s ON s.state = 'active' AND b.type = ANY (s.events)
        UNION ALL
        SELECT b.id, NULL, b.api_key_id, b.callback_url, b.type, b.payload FROM b WHERE b.callback_url IS NOT NULL
        RETURNING 1)
    SELECT count(*) INTO created FROM ins;
    IF created > 0 THEN
        PERFORM pg_notify('pushrelay', 'callback');
    END IF;
    RETURN created;
END
$body$;
COMMENT ON FUNCTION enqueue_push_callbacks(uuid, text, json, integer, text) IS 'Creates the callbacks a publish owes once it is final (called by the statement that makes it final).';
