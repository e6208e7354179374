-- Which identities must their users reconnect (token refused and not refreshable)?
SELECT identity_token, provider, provider_user_id, display_name, updated_at
FROM identities WHERE state = 'needs_reconnect' ORDER BY updated_at DESC;
