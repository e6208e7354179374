-- PushRelay: the initial schema. Plain names, timestamptz, readable states; every table commented.

CREATE TABLE api_keys (
    id                    bigserial PRIMARY KEY,
    public_key            text NOT NULL UNIQUE,
    private_key_sha256    bytea NOT NULL,
    callback_secret       bytea NOT NULL,
    callback_secret_key_id text NOT NULL,
    description           text NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz
);
COMMENT ON TABLE api_keys IS 'Credentials of Push API clients (HTTP Basic public_key:private_key). The private key is stored only as its SHA-256; the callback secret (whsec_…, signs per-request callback_url callbacks) only as AES-GCM ciphertext.';
COMMENT ON COLUMN api_keys.private_key_sha256 IS 'SHA-256 of the private key; the key itself is shown once by `pushrelay keys create` and never stored.';
COMMENT ON COLUMN api_keys.callback_secret IS 'AES-GCM ciphertext (nonce|ciphertext|tag) of the whsec_ callback secret.';
COMMENT ON COLUMN api_keys.revoked_at IS 'Set to refuse the key from then on; keys are never deleted so events keep their author.';

CREATE TABLE identities (
    identity_token     uuid PRIMARY KEY,
    user_token         text,
    provider           text NOT NULL CHECK (provider IN ('facebook', 'linkedin', 'pinterest', 'twitter', 'youtube')),
    provider_user_id   text NOT NULL,
    display_name       text NOT NULL DEFAULT '',
    state              text NOT NULL DEFAULT 'connected' CHECK (state IN ('connected', 'needs_reconnect', 'disconnected')),
    credentials        bytea,
    credentials_key_id text,
    token_expires_at   timestamptz,
    scope              text,
    connected_at       timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    disconnected_at    timestamptz,
    UNIQUE (provider, provider_user_id),
    CHECK ((credentials IS NULL) = (credentials_key_id IS NULL)),
    CHECK (state <> 'disconnected' OR credentials IS NULL)
);
COMMENT ON TABLE identities IS 'A social account a user connected (identity-connected webhook). Tokens live only in `credentials`, AES-GCM ciphertext of a JSON document; a disconnected identity keeps its row (for history) without credentials.';
COMMENT ON COLUMN identities.identity_token IS 'The <identity_token> of Push API paths.';
COMMENT ON COLUMN identities.state IS 'connected: usable. needs_reconnect: the provider refused the token and it could not be refreshed. disconnected: identity-disconnected received, credentials erased.';
COMMENT ON COLUMN identities.credentials IS 'AES-GCM ciphertext (nonce|ciphertext|tag) of {access_token, access_token_secret, refresh_token}; NULL once disconnected.';
COMMENT ON COLUMN identities.credentials_key_id IS 'Which PUSHRELAY_ENCRYPTION_KEY encrypted `credentials` (first 8 bytes of its SHA-256, hex).';

CREATE TABLE identity_accounts (
    identity_token     uuid NOT NULL REFERENCES identities (identity_token) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('page', 'group', 'organization', 'channel', 'board')),
    account_id         text NOT NULL,
    name               text NOT NULL DEFAULT '',
    access_token       bytea,
    access_token_key_id text,
    PRIMARY KEY (identity_token, kind, account_id),
    CHECK ((access_token IS NULL) = (access_token_key_id IS NULL))
);
COMMENT ON TABLE identity_accounts IS 'Pages, organizations, channels and boards an identity may publish to, with their own token where the provider has one (Facebook page tokens), encrypted like identities.credentials.';

CREATE TABLE events (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind              text NOT NULL CHECK (kind IN ('identity.connected', 'identity.disconnected', 'publish.requested')),
    source            text NOT NULL CHECK (source IN ('push_api', 'webhook')),
    idempotency_key   text UNIQUE,
    request_sha256    bytea,
    identity_token    uuid,
    provider          text CHECK (provider IN ('facebook', 'linkedin', 'pinterest', 'twitter', 'youtube')),
    path              text,
    api_key_id        bigint REFERENCES api_keys (id),
    body              jsonb NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE events IS 'Every accepted inbound request, raw (jsonb), kept before it was acknowledged. Credentials are removed from identity-connected bodies (they live only as ciphertext in identities).';
COMMENT ON COLUMN events.idempotency_key IS 'push:<api key id>:<Idempotency-Key header> or webhook:<webhook-id>; a repeated key returns the first event''s reply and creates nothing.';
COMMENT ON COLUMN events.request_sha256 IS 'SHA-256 of route and body, to refuse an Idempotency-Key reused for a different request.';
COMMENT ON COLUMN events.path IS 'For publish requests: the route relative to the identity, e.g. twitter/post or pinterest/board/123/pin.';
CREATE INDEX events_identity_token_idx ON events (identity_token, received_at);

CREATE TABLE publish_jobs (
    event_id          uuid PRIMARY KEY REFERENCES events (id),
    identity_token    uuid NOT NULL REFERENCES identities (identity_token),
    operation         text NOT NULL,
    request           jsonb NOT NULL,
    callback_url      text,
    state             text NOT NULL CHECK (state IN ('scheduled', 'queued', 'running', 'succeeded', 'failed', 'indeterminate', 'cancelled')),
    run_at            timestamptz NOT NULL DEFAULT now(),
    attempt_count     integer NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_expires_at  timestamptz,
    progress          jsonb NOT NULL DEFAULT '{}',
    result            json,
    error_code        integer,
    error_info        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'running') = (lease_owner IS NOT NULL)),
    CHECK ((state IN ('succeeded', 'failed', 'indeterminate', 'cancelled')) = (finished_at IS NOT NULL))
);
COMMENT ON TABLE publish_jobs IS 'The relay queue: one row per publish request. Workers claim queued rows whose run_at has come with FOR UPDATE SKIP LOCKED under a lease.';
COMMENT ON COLUMN publish_jobs.request IS 'The validated request content (the OneAll object, normalised), as the adapter receives it.';
COMMENT ON COLUMN publish_jobs.state IS 'scheduled/queued: waiting; running: leased to lease_owner until lease_expires_at; succeeded/failed/cancelled: final; indeterminate: the provider may have published (answer lost), never retried automatically.';
COMMENT ON COLUMN publish_jobs.run_at IS 'Not before this time: the schedule, a retry backoff or a provider rate-limit reset.';
COMMENT ON COLUMN publish_jobs.progress IS 'Intermediate provider ids (uploaded media ids, upload sessions) saved so a retry resumes instead of starting over.';
COMMENT ON COLUMN publish_jobs.result IS 'The OneAll result.data of a succeeded job.';
COMMENT ON COLUMN publish_jobs.error_code IS 'For failed/indeterminate jobs: the HTTP status PushRelay answers with (OneAll meaning), error_info the sentence.';
CREATE INDEX publish_jobs_ready_idx ON publish_jobs (run_at) WHERE state IN ('queued', 'scheduled');
CREATE INDEX publish_jobs_lease_idx ON publish_jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX publish_jobs_identity_idx ON publish_jobs (identity_token);

CREATE TABLE provider_attempts (
    id                bigserial PRIMARY KEY,
    event_id          uuid NOT NULL REFERENCES publish_jobs (event_id),
    try_number        integer NOT NULL,
    step              text NOT NULL,
    method            text NOT NULL,
    url               text NOT NULL,
    request_summary   jsonb NOT NULL DEFAULT '{}',
    http_status       integer,
    outcome           text NOT NULL CHECK (outcome IN ('succeeded', 'retryable', 'rate_limited', 'token_rejected', 'permanent', 'unreachable', 'answer_lost')),
    response_excerpt  text,
    error             text,
    started_at        timestamptz NOT NULL,
    duration_ms       double precision NOT NULL
);
COMMENT ON TABLE provider_attempts IS 'Every HTTP call made to a provider for a publish job: what was sent (summarised, no secrets), what came back (excerpt, no secrets), how long it took.';
COMMENT ON COLUMN provider_attempts.try_number IS 'Which try of the job (publish_jobs.attempt_count at the time) made this call.';
COMMENT ON COLUMN provider_attempts.step IS 'The step of the operation, e.g. media.upload, media.append, tweets.create.';
COMMENT ON COLUMN provider_attempts.outcome IS 'succeeded; retryable (5xx/408, safe to retry); rate_limited (429 or rate-limit codes); token_rejected; permanent (4xx); unreachable (no connection: nothing was sent); answer_lost (sent, no answer).';
CREATE INDEX provider_attempts_event_idx ON provider_attempts (event_id, id);

-- Views for the common admin questions.
CREATE VIEW event_status AS
SELECT e.id AS event_id, e.kind, e.source, e.identity_token, e.provider, e.path, e.received_at,
       j.state, j.attempt_count, j.run_at, j.finished_at, j.error_code, j.error_info, j.result
FROM events e LEFT JOIN publish_jobs j ON j.event_id = e.id;
COMMENT ON VIEW event_status IS 'One row per inbound event with the state of its publish job, if any.';

CREATE VIEW queue_depth AS
SELECT state, count(*) AS jobs, min(run_at) AS oldest_run_at
FROM publish_jobs WHERE state IN ('scheduled', 'queued', 'running') GROUP BY state;
COMMENT ON VIEW queue_depth IS 'How much work is waiting or running, and since when.';
