-- The records of callback deliveries by group commit: the deliveries that end together share one CALL and
-- one commit, and PL/pgSQL keeps the statements' plans (the statement sent per delivery was parsed and
-- planned each time: 0.55 ms of PostgreSQL's time a delivery under load).
--
-- Each element of p_batch is one delivery: {id, owner, attempt, state, next_attempt_at, http_status, error,
-- response_excerpt, started_at, duration_ms, disables_subscription}. For each, if `owner` still holds the
-- callback's lease: the callback moves to `state` (`pending` again at `next_attempt_at` for a retry), the try
-- is recorded in callback_attempts, and a 410 from a subscriber disables its subscription. The commit is not
-- waited for on the disk: a record lost in a crash only means one more delivery with the same webhook-id.
-- `recorded` counts the deliveries written (the others had lost their lease).
CREATE PROCEDURE record_callback_deliveries(p_batch jsonb, INOUT recorded integer DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    d record;
    subscription uuid;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    recorded := 0;
    FOR d IN
        SELECT * FROM jsonb_to_recordset(p_batch) AS x(
            id uuid, owner text, attempt integer, state text, next_attempt_at timestamptz, http_status integer, error text,
            response_excerpt text, started_at timestamptz, duration_ms double precision, disables_subscription boolean)
    LOOP
        UPDATE callbacks SET state = d.state, lease_owner = NULL, lease_expires_at = NULL,
            next_attempt_at = coalesce(d.next_attempt_at, next_attempt_at),
            delivered_at = CASE WHEN d.state = 'delivered' THEN now() END
        WHERE id = d.id AND lease_owner = d.owner
        RETURNING subscription_id INTO subscription;
        CONTINUE WHEN NOT FOUND;
        recorded := recorded + 1;
        INSERT INTO callback_attempts (callback_id, attempt, http_status, error, response_excerpt, started_at, duration_ms)
        VALUES (d.id, d.attempt, d.http_status, d.error, d.response_excerpt, d.started_at, d.duration_ms);
        IF d.disables_subscription AND subscription IS NOT NULL THEN
            UPDATE subscriptions SET state = 'disabled', disabled_at = now(), disabled_reason = 'the subscriber answered 410 Gone'
            WHERE id = subscription AND state = 'active';
        END IF;
    END LOOP;
    COMMIT;
END
$$;
COMMENT ON PROCEDURE record_callback_deliveries(jsonb, integer) IS 'Group commit of the records of callback deliveries (not waited for on the disk): moves each callback on if its lease is still held, records the try, disables a subscription that answered 410.';
