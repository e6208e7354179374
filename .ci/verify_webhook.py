"""Verifies one callback with the Standard Webhooks reference library (PyPI `standardwebhooks`).

Usage: verify_webhook.py <secret> <webhook-id> <webhook-timestamp> <webhook-signature> <body file>
Exit 0 when the signature verifies, 1 when it does not. PushRelay's tests call it (when
PUSHRELAY_STANDARD_WEBHOOKS_PYTHON names a Python that has the package) so that our signatures pass
someone else's implementation, not only our own.
"""
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

secret, webhook_id, timestamp, signature, body_path = sys.argv[1:6]
with open(body_path, "rb") as body_file:
    body = body_file.read()
headers = {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
try:
    Webhook(secret).verify(body, headers)
except WebhookVerificationError as error:
    print(f"not verified: {error}", file=sys.stderr)
    sys.exit(1)
print("verified")
