-- Rate limits pause an identity on one provider, not just the job that hit them (DESIGN §5).

CREATE TABLE provider_pauses (
    identity_token uuid NOT NULL REFERENCES identities (identity_token) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider IN ('facebook', 'linkedin', 'pinterest', 'twitter', 'youtube')),
    paused_until   timestamptz NOT NULL,
    reason         text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity_token, provider)
);
COMMENT ON TABLE provider_pauses IS 'A provider rate-limited this identity: none of its jobs for that provider is claimed before paused_until (the provider''s reset, or a backoff). Other identities and providers go on. Rows past paused_until are inert.';
