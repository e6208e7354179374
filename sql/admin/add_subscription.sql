-- Subscribe a URL to outcomes with plain SQL (the same as POST /subscriptions.json).
-- Make the secret yourself (whsec_ + base64 of at least 24 random bytes), e.g.:
--   echo "whsec_$(openssl rand -base64 32)"
-- Give it in clear in `secret`, without `secret_key_id`: PushRelay encrypts it within a poll interval.
INSERT INTO subscriptions (url, events, description, secret)
VALUES ('https://hooks.example.com/pushrelay', ARRAY['push.succeeded', 'push.failed', 'push.indeterminate'],
        'added by an admin', 'whsec_ReplaceMeWithTheBase64Of32RandomBytesAAAAAAAAAAA=')
RETURNING id;
