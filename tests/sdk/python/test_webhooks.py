"""Drives webhooks with the official `twilio` Python SDK: configured through the SDK's
own Configuration and Conversation Webhook resources, triggered by SDK writes with
`x_twilio_webhook_enabled`, received by a local receiver, and every delivery checked
with the SDK's own `twilio.request_validator.RequestValidator`.

The emulator signs with the auth token the account's latest request used, so the token
the SDK client was built with validates its webhooks, with no setting.

Inbound SMS, which no SDK can send, goes through the control plane:
POST {EMULATOR_URL}/_emulator/inbound.
"""

import http.server
import queue
import threading
import urllib.parse

import pytest
import requests
from twilio.request_validator import RequestValidator

from emulator_sdk import create_service

TOKEN = "any-token"  # the token conftest's client authenticates with
FORMS = ["default", "service"]
POST_EVENTS = [
    "onConversationAdded",
    "onConversationUpdated",
    "onParticipantAdded",
    "onMessageAdded",
    "onMessageUpdated",
]
# Not onMessageRemoved: twilio-python 9.13's deletes drop their X-Twilio-Webhook-Enabled
# header (`_delete` builds the headers, then replaces them with `values.of({})`), so a
# delete through this SDK fires nothing, on Twilio as here. The Node suite and the Rust
# tests cover removals.


class Receiver:
    """An HTTP server on a random loopback port that records every request and answers
    with `self.status` and `self.body`."""

    def __init__(self):
        self.requests = queue.Queue()
        self.status, self.body = 200, b""
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                receiver.requests.put((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_GET = do_POST = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self):
        """The next request as (method, url, params, headers), its URL as the app sees it."""
        method, path, headers, body = self.requests.get(timeout=10)
        url = self.base + path
        if method == "POST":
            params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        else:
            params = {}
        return method, url, params, headers

    def close(self):
        self.server.shutdown()


@pytest.fixture()
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def service_sid(client, account_sid):
    return create_service(client, account_sid, "python-webhooks-suite").sid


def validated(receiver, validator):
    """The next delivery, after the SDK's validator accepted its signature."""
    method, url, params, headers = receiver.next()
    signature = headers.get("x-twilio-signature")
    assert validator.validate(url, params, signature), (method, url, params)
    if method == "GET":
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    return params


def root(client, form, service_sid):
    v1 = client.conversations.v1
    return v1 if form == "default" else v1.services(service_sid)


@pytest.mark.parametrize("form", FORMS)
def test_post_events_configured_through_the_sdk_validate_with_request_validator(client, receiver, form, service_sid):
    if form == "default":
        client.conversations.v1.configuration.webhooks().update(
            method="POST", filters=POST_EVENTS, post_webhook_url=receiver.base + "/hooks?source=sdk"
        )
    else:
        client.conversations.v1.services(service_sid).configuration.webhooks().update(
            method="POST", filters=POST_EVENTS, post_webhook_url=receiver.base + "/hooks?source=sdk"
        )
    validator = RequestValidator(TOKEN)
    scope = root(client, form, service_sid)

    conversation = scope.conversations.create(friendly_name="webhooks", x_twilio_webhook_enabled="true")
    scope.conversations(conversation.sid).update(friendly_name="renamed", x_twilio_webhook_enabled="true")
    participant = scope.conversations(conversation.sid).participants.create(
        identity="py-user", x_twilio_webhook_enabled="true"
    )
    message = scope.conversations(conversation.sid).messages.create(
        author="py-user", body="hello", x_twilio_webhook_enabled="true"
    )
    scope.conversations(conversation.sid).messages(message.sid).update(body="edited", x_twilio_webhook_enabled="true")

    events = [validated(receiver, validator) for _ in POST_EVENTS]
    assert [event["EventType"] for event in events] == POST_EVENTS
    for event in events:
        assert event["ConversationSid"] == conversation.sid
        assert event["Source"] == "API"
        assert event["RetryCount"] == "0"
    added = events[3]
    assert (added["Body"], added["Author"], added["ParticipantSid"], added["Index"]) == (
        "hello",
        "py-user",
        participant.sid,
        "0",
    )
    assert events[4]["Body"] == "edited"
    # Clear the settings for the other form's run.
    if form == "service":
        client.conversations.v1.services(service_sid).configuration.webhooks().update(post_webhook_url="")
    else:
        client.conversations.v1.configuration.webhooks().update(post_webhook_url="")


@pytest.mark.parametrize("form", FORMS)
def test_conversation_scoped_webhooks_created_through_the_sdk_deliver_signed_get_requests(
    client, receiver, form, service_sid
):
    scope = root(client, form, service_sid)
    conversation = scope.conversations.create()
    webhook = scope.conversations(conversation.sid).webhooks.create(
        target="webhook",
        configuration_url=receiver.base + "/scoped",
        configuration_method="GET",
        configuration_filters=["onMessageAdded"],
    )
    assert webhook.sid.startswith("WH")
    assert [w.sid for w in scope.conversations(conversation.sid).webhooks.list()] == [webhook.sid]

    scope.conversations(conversation.sid).messages.create(body="via get", x_twilio_webhook_enabled="true")

    params = validated(receiver, RequestValidator(TOKEN))
    assert params["EventType"] == "onMessageAdded"
    assert params["Body"] == "via get"
    scope.conversations(conversation.sid).webhooks(webhook.sid).delete()


def test_a_pre_event_answer_modifies_a_message_created_through_the_sdk(client, receiver):
    client.conversations.v1.configuration.webhooks().update(
        filters=["onMessageAdd"], pre_webhook_url=receiver.base + "/pre", post_webhook_url=""
    )
    receiver.body = b'{"body": "modified by the app"}'
    conversation = client.conversations.v1.conversations.create()
    try:
        message = client.conversations.v1.conversations(conversation.sid).messages.create(
            body="original", x_twilio_webhook_enabled="true"
        )
        params = validated(receiver, RequestValidator(TOKEN))
    finally:
        client.conversations.v1.configuration.webhooks().update(pre_webhook_url="")
    assert params["EventType"] == "onMessageAdd"
    assert params["Body"] == "original"
    assert message.body == "modified by the app"


def test_an_sms_user_texting_in_fires_a_validated_webhook(client, account_sid, emulator_url, receiver):
    client.conversations.v1.configuration.webhooks().update(
        method="POST", filters=["onMessageAdded"], post_webhook_url=receiver.base + "/sms"
    )
    conversation = client.conversations.v1.conversations.create()
    client.conversations.v1.conversations(conversation.sid).participants.create(
        messaging_binding_address="+15553334444", messaging_binding_proxy_address="+15556667777"
    )
    try:
        answer = requests.post(
            emulator_url + "/_emulator/inbound",
            json={"account_sid": account_sid, "from": "+15553334444", "to": "+15556667777", "body": "texting in"},
            timeout=30,
        )
        params = validated(receiver, RequestValidator(TOKEN))
    finally:
        client.conversations.v1.configuration.webhooks().update(post_webhook_url="")
    assert answer.status_code == 200, answer.text
    assert answer.json()["deliveries"][0]["outcome"] == "delivered"
    assert (params["Source"], params["Author"], params["Body"]) == ("SMS", "+15553334444", "texting in")
