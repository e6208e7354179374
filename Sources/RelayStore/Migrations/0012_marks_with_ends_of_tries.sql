-- The publish worker's two group commits, the marks before publishing calls and the ends of tries, in one
-- CALL when both are waiting: one round trip, one CALL's fixed cost and one commit instead of two.
-- The marks are made first, in the same transaction that finish_tries commits; what each part writes and
-- answers is that of mark_publishing_batch and finish_tries (0011).
CREATE PROCEDURE mark_and_finish(
    p_events uuid[], p_owner text, p_batch jsonb, p_channel text, INOUT marked uuid[] DEFAULT NULL, INOUT held text DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    WITH u AS (
        UPDATE publish_jobs SET publish_call_started_at = now(), updated_at = now()
        WHERE event_id = ANY (p_events) AND lease_owner = p_owner
        RETURNING event_id)
    SELECT coalesce(array_agg(event_id), '{}') INTO marked FROM u;
    CALL finish_tries(p_batch, p_channel, held);
END
$$;
COMMENT ON PROCEDURE mark_and_finish(uuid[], text, jsonb, text, uuid[], text) IS 'Group commit of marks before publishing calls (as mark_publishing_batch) and ends of tries (as finish_tries) in one transaction, committed by finish_tries.';
