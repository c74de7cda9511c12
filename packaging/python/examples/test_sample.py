"""A sample suite using the pytest plugin, as a user's suite would: no conftest, no setup.

`.ci/run` installs the built wheel into a fresh virtual environment and runs this file
there, so it proves the wheel's binary, the `pytest11` entry point and each fixture.
"""

import urllib.error
import urllib.request

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio_conversations_emulator.client import EmulatorHttpClient


def test_the_client_fixture_talks_to_the_emulator(twilio_client, twilio_account_sid):
    conversation = twilio_client.conversations.v1.conversations.create(friendly_name="Support")
    messages = twilio_client.conversations.v1.conversations(conversation.sid).messages
    messages.create(author="alice", body="hello")

    listed = messages.list(limit=20)

    assert conversation.account_sid == twilio_account_sid
    assert [(message.author, message.body) for message in listed] == [("alice", "hello")]


def test_each_test_gets_an_account_of_its_own(twilio_emulator, twilio_client):
    other = twilio_emulator.client()
    other.conversations.v1.conversations.create(unique_name="only-in-the-other-account")

    with pytest.raises(TwilioRestException) as raised:
        twilio_client.conversations.v1.conversations("only-in-the-other-account").fetch()

    assert raised.value.status == 404


def test_the_receiver_gets_signed_webhooks(twilio_client, twilio_webhook_receiver):
    twilio_client.conversations.v1.configuration.webhooks().update(
        post_webhook_url=twilio_webhook_receiver.url + "/twilio/post",
        method="POST",
        filters=["onMessageAdded"],
    )
    conversation = twilio_client.conversations.v1.conversations.create()

    # REST writes fire webhooks only with this header, as on Twilio.
    twilio_client.conversations.v1.conversations(conversation.sid).messages.create(
        author="alice", body="hi", x_twilio_webhook_enabled="true"
    )

    [delivery] = twilio_webhook_receiver.wait_for("onMessageAdded")
    assert delivery.valid
    assert delivery.path == "/twilio/post"
    assert delivery.params["Body"] == "hi"
    assert delivery.params["ConversationSid"] == conversation.sid


def test_the_receiver_refuses_a_bad_signature(twilio_webhook_receiver):
    request = urllib.request.Request(
        twilio_webhook_receiver.url + "/twilio/post",
        data=b"EventType=onMessageAdded&Body=forged",
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 403
    [forged] = twilio_webhook_receiver.wait_for("onMessageAdded")
    assert not forged.valid


def test_reset_empties_every_account(twilio_emulator, twilio_client):
    twilio_client.conversations.v1.conversations.create(unique_name="before-the-reset")

    twilio_emulator.reset()

    assert twilio_client.conversations.v1.conversations.list() == []
    assert twilio_emulator.health()["status"] == "ok"

def test_hosts_with_an_edge_and_region_go_to_the_emulator(twilio_emulator, twilio_account_sid):
    # The SDK puts the edge and region into the host before the HTTP client sees the URL.
    client = Client(
        twilio_account_sid,
        "token",
        region="au1",
        edge="sydney",
        http_client=EmulatorHttpClient(twilio_emulator.base_url),
    )

    conversation = client.conversations.v1.conversations.create(friendly_name="far away")

    assert conversation.url.startswith(twilio_emulator.base_url + "/v1/Conversations/")
