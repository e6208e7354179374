#!/usr/bin/env bash
# PostgreSQL alone executing the intake's group commit, without the relay: what the server can do with the
# batches the relay sends it, beside anchor A (pgbench's single-row insert) on the same server in the same run.
#
# In a new database on the server of DATABASE_URL (its user may create databases), the script applies the
# migrations, connects one identity and makes one API key, writes batches of 14 publish requests for that
# identity (half signed webhooks with a webhook-id, half Push API requests with an API key, as the benchmark's
# ingest step sends them), and CALLs `enqueue_publishes` on each from pgbench, as the relay does:
#   - 1 client (one batch in flight, as the relay's group commit runs), synchronous_commit on;
#   - 2 clients (two batches in flight), synchronous_commit on;
#   - 1 client, the intake's three foreign keys dropped (what they cost; the relay keeps them).
# Each run starts from empty tables and a checkpoint. Prints batches/s and requests/s for each.
#
# usage: DATABASE_URL=postgres://user@host:port/db bench/intake-batch.sh [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server whose user may create databases}"
SECONDS_PER_RUN="${1:-8}"
if command -v pg_config > /dev/null && [ -x "$(pg_config --bindir)/pgbench" ]; then BIN="$(pg_config --bindir)"
else BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)")"; fi
DB="pushrelay_intake_batch_$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SERVER="${DATABASE_URL%/*}"
URL="$SERVER/$DB"
BATCH_SIZE=14

psql_db() { "$BIN/psql" "$URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"; "$BIN/psql" "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB" > /dev/null 2>&1 || true' EXIT
"$BIN/psql" "$DATABASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DB"
echo "database $DB"
for migration in Sources/RelayStore/Migrations/*.sql; do psql_db -1 -f "$migration"; done

IDENTITY="$(psql_db -c "SELECT gen_random_uuid()")"
psql_db <<SQL
INSERT INTO api_keys (public_key, private_key_sha256, callback_secret, callback_secret_key_id)
VALUES ('intake-batch', '\x00', '\x00', 'none');
INSERT INTO identities (identity_token, provider, provider_user_id, credentials, credentials_key_id)
VALUES ('$IDENTITY', 'twitter', '1', '\x00', 'none');
-- Batches as the relay renders them (NewPublish.batchFields: the content is a JSON string of the stored form),
-- enough for twice the fastest run seen (2600 a second with two clients); reused after each TRUNCATE. The
-- subquery's "WHERE n > 0" ties it to each n, so that each batch is made of its own rows.
CREATE TABLE bench_batches AS
SELECT n, quote_literal((
    SELECT jsonb_agg(jsonb_build_object(
        'ordinal', g, 'id', gen_random_uuid(), 'source', CASE WHEN g % 2 = 1 THEN 'webhook' ELSE 'push_api' END,
        'idempotency_key', CASE WHEN g % 2 = 1 THEN 'msg_' || gen_random_uuid() END, 'request_sha256', NULL,
        'identity_token', '$IDENTITY', 'provider', 'twitter', 'path', 'twitter/post',
        'api_key_id', CASE WHEN g % 2 = 0 THEN (SELECT id FROM api_keys) END,
        'body', jsonb_build_object('request', jsonb_build_object('push', jsonb_build_object('post',
                    jsonb_build_object('message', 'bench ' || n || '-' || g)))),
        'received_at', now(), 'operation', 'twitter/post',
        'content', jsonb_build_object('attachments', '[]'::jsonb, 'message', 'bench ' || n || '-' || g)::text,
        'callback_url', NULL, 'state', 'queued', 'run_at', now()))::text
    FROM generate_series(0, $BATCH_SIZE - 1) g WHERE n > 0)) AS batch
FROM generate_series(1, 6000 * $SECONDS_PER_RUN) n;
CREATE UNIQUE INDEX ON bench_batches (n);
CREATE SEQUENCE bench_batch_number;
CREATE TABLE anchor_events (key text PRIMARY KEY, body jsonb NOT NULL);
SQL

cat > "$WORK/call.sql" <<'SQL'
SELECT batch FROM bench_batches WHERE n = (SELECT nextval('bench_batch_number')) \gset
CALL enqueue_publishes(:batch::jsonb, 'pushrelay_intake_batch', NULL, NULL, 0, 0);
SQL
printf "INSERT INTO anchor_events (key, body) VALUES (gen_random_uuid()::text, '%s'::jsonb);\n" \
    "{\"type\":\"publish.requested\",\"data\":{\"path\":\"twitter/post\",\"request\":{\"push\":{\"post\":{\"message\":\"$(printf 'x%.0s' $(seq 900))\"}}}}}" \
    > "$WORK/insert.sql"

settle() {
    psql_db -c "TRUNCATE provider_attempts, callback_attempts, callbacks, publish_jobs, events, anchor_events" \
        -c "SELECT setval('bench_batch_number', 1, false)" -c "CHECKPOINT" > /dev/null
    sync
}
# The relay's connections plan every statement generically (DatabaseSettings): the same here.
pgbench_tps() {
    PGOPTIONS="-c synchronous_commit=on -c plan_cache_mode=force_generic_plan" \
        "$BIN/pgbench" -n "$@" "$URL" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
batches() {
    local clients="$1" label="$2" tps
    settle
    tps="$(pgbench_tps -c "$clients" -j "$clients" -T "$SECONDS_PER_RUN" -f "$WORK/call.sql")"
    awk -v label="$label" -v tps="$tps" -v size="$BATCH_SIZE" \
        'BEGIN { printf "%-58s %8.0f batches/s  %8.0f requests/s\n", label, tps, tps * size }'
}

settle
printf '%-58s %8.0f tx/s\n' "anchor A: pgbench single-row insert, 32 clients" \
    "$(pgbench_tps -c 32 -j 2 -T "$SECONDS_PER_RUN" -f "$WORK/insert.sql")"
batches 1 "enqueue_publishes, $BATCH_SIZE a batch, 1 batch in flight"
batches 2 "enqueue_publishes, $BATCH_SIZE a batch, 2 batches in flight"
psql_db -c "ALTER TABLE publish_jobs DROP CONSTRAINT publish_jobs_event_id_fkey, DROP CONSTRAINT publish_jobs_identity_token_fkey" \
    -c "ALTER TABLE events DROP CONSTRAINT events_api_key_id_fkey"
batches 1 "the same without the three foreign keys, 1 in flight"
