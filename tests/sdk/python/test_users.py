"""Drives the official `twilio` Python SDK's Users, User Conversations and Participant
Conversations against a running emulator.

The base URL comes from the environment variable EMULATOR_URL; the SDK is pointed at it
by the shared custom HTTP client (emulator_sdk.py, fixtures in conftest.py).

Every test runs on both URL forms:
  default: client.conversations.v1.users…, .participant_conversations
  service: client.conversations.v1.services(IS).users…, .participant_conversations
"""

import pytest
from twilio.base.exceptions import TwilioRestException

from emulator_sdk import assert_rest_error, create_service

FORMS = ["default", "service"]
SMS_ADDRESS = "+15550000101"
PROXY_ADDRESS = "+15017122661"


@pytest.fixture(scope="module")
def service_sid(client, account_sid):
    return create_service(client, account_sid, "python-users-suite").sid


class Form:
    """One of the two URL forms, with the service its users live in."""

    def __init__(self, name, client, service_sid, default_service_sid):
        self.name = name
        v1 = client.conversations.v1
        self.root = v1 if name == "default" else v1.services(service_sid)
        self.chat_service_sid = default_service_sid if name == "default" else service_sid
        self.prefix = "/v1" if name == "default" else f"/v1/Services/{service_sid}"


@pytest.fixture(params=FORMS)
def form(request, client, service_sid, default_service_sid):
    return Form(request.param, client, service_sid, default_service_sid)


def test_users_support_every_operation_on_both_forms(form):
    identity = f"py-{form.name}-alice"
    user = form.root.users.create(identity=identity, friendly_name="Alice", attributes='{"a":1}')
    assert user.sid.startswith("US") and user.identity == identity
    assert user.chat_service_sid == form.chat_service_sid
    assert user.role_sid.startswith("RL") and user.attributes == '{"a":1}'
    assert user.is_online is None and user.is_notifiable is None
    assert user.url.endswith(f"{form.prefix}/Users/{user.sid}")
    assert user.links["user_conversations"] == f"{user.url}/Conversations"

    assert form.root.users(user.sid).fetch().identity == identity
    assert form.root.users(identity).fetch().sid == user.sid
    assert user.sid in [listed.sid for listed in form.root.users.list()]
    updated = form.root.users(user.sid).update(friendly_name="Alice A.")
    assert updated.friendly_name == "Alice A." and updated.attributes == '{"a":1}'

    with pytest.raises(TwilioRestException) as excinfo:
        form.root.users.create(identity=identity)
    assert_rest_error(excinfo, 409, 50201)
    assert form.root.users(user.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        form.root.users(user.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_user_conversations_and_participant_conversations_on_both_forms(form):
    identity = f"py-{form.name}-bea"
    user = form.root.users.create(identity=identity)
    conversation = form.root.conversations.create(friendly_name="python users")
    participant = form.root.conversations(conversation.sid).participants.create(identity=identity)
    for body in ["one", "two"]:
        form.root.conversations(conversation.sid).messages.create(body=body)
    sms = form.root.conversations(conversation.sid).participants.create(
        messaging_binding_address=SMS_ADDRESS, messaging_binding_proxy_address=PROXY_ADDRESS
    )

    listed = form.root.users(user.sid).user_conversations.list()
    assert [seen.conversation_sid for seen in listed] == [conversation.sid]
    seen = listed[0]
    assert seen.participant_sid == participant.sid and seen.user_sid == user.sid
    assert seen.unread_messages_count == 2 and seen.notification_level == "default"
    updated = form.root.users(identity).user_conversations(conversation.sid).update(
        notification_level="muted", last_read_message_index=0
    )
    assert updated.notification_level == "muted" and updated.unread_messages_count == 1
    assert form.root.users(user.sid).user_conversations(conversation.sid).fetch().last_read_message_index == 0

    by_identity = form.root.participant_conversations.list(identity=identity)
    assert [(found.conversation_sid, found.participant_user_sid) for found in by_identity] == [
        (conversation.sid, user.sid)
    ]
    by_address = form.root.participant_conversations.list(address=SMS_ADDRESS)
    assert [found.participant_sid for found in by_address] == [sms.sid]
    assert by_address[0].participant_messaging_binding["address"] == SMS_ADDRESS

    assert form.root.users(user.sid).user_conversations(conversation.sid).delete() is True
    assert form.root.users(user.sid).user_conversations.list() == []
    with pytest.raises(TwilioRestException) as excinfo:
        form.root.users(user.sid).user_conversations(conversation.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)
