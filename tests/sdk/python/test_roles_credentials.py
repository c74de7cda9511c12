"""Drives the official `twilio` Python SDK's Roles, Credentials, Conversation With
Participants, Service Bindings and service Notifications configuration against a
running emulator.

The base URL comes from the environment variable EMULATOR_URL; the SDK is pointed at it
by the shared custom HTTP client (emulator_sdk.py, fixtures in conftest.py).

Roles and Conversation With Participants run on both URL forms:
  default: client.conversations.v1.roles…, .conversation_with_participants
  service: client.conversations.v1.services(IS).roles…, .conversation_with_participants
Credentials are account-level; Bindings and Notifications exist on the service form only.
"""

import json

import pytest
from twilio.base.exceptions import TwilioRestException

from emulator_sdk import assert_rest_error, create_service

FORMS = ["default", "service"]
DEFAULT_ROLE_NAMES = {"service admin", "service user", "channel user"}


@pytest.fixture(scope="module")
def service_sid(client, account_sid):
    return create_service(client, account_sid, "python-roles-suite").sid


class Form:
    """One of the two URL forms, with the service its records live in."""

    def __init__(self, name, client, service_sid, default_service_sid):
        self.name = name
        v1 = client.conversations.v1
        self.root = v1 if name == "default" else v1.services(service_sid)
        self.chat_service_sid = default_service_sid if name == "default" else service_sid
        self.prefix = "/v1" if name == "default" else f"/v1/Services/{service_sid}"
        self.conversations = v1.conversations if name == "default" else v1.services(service_sid).conversations


@pytest.fixture(params=FORMS)
def form(request, client, service_sid, default_service_sid):
    return Form(request.param, client, service_sid, default_service_sid)


def test_roles_support_every_operation_and_list_the_defaults_on_both_forms(form):
    defaults = form.root.roles.list()
    assert {role.friendly_name for role in defaults} >= DEFAULT_ROLE_NAMES
    assert all(role.chat_service_sid == form.chat_service_sid for role in defaults)

    role = form.root.roles.create(
        friendly_name=f"py-{form.name}-moderator", type="conversation", permission=["sendMessage", "leaveConversation"]
    )
    assert role.sid.startswith("RL") and role.type == "conversation"
    assert role.permissions == ["sendMessage", "leaveConversation"]
    assert role.url.endswith(f"{form.prefix}/Roles/{role.sid}")
    assert form.root.roles(role.sid).fetch().friendly_name == f"py-{form.name}-moderator"
    assert role.sid in [listed.sid for listed in form.root.roles.list()]

    updated = form.root.roles(role.sid).update(permission=["sendMessage"])
    assert updated.permissions == ["sendMessage"]
    assert form.root.roles(role.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        form.root.roles(role.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_credentials_keep_their_secret_out_of_every_answer(client, http_client):
    credentials = client.conversations.v1.credentials
    created = credentials.create(type="fcm", friendly_name="py-android", secret="py-top-secret")
    assert created.sid.startswith("CR") and created.type == "fcm"
    assert created.friendly_name == "py-android"

    fetched = credentials(created.sid).fetch()
    assert fetched.sid == created.sid and fetched.friendly_name == "py-android"
    # The recording client keeps the raw answer, which the SDK's object does not expose.
    assert "py-top-secret" not in http_client.responses[-1].text
    assert created.sid in [listed.sid for listed in credentials.list()]

    updated = credentials(created.sid).update(type="fcm", friendly_name="py-android prod")
    assert updated.friendly_name == "py-android prod" and updated.type == "fcm"
    assert credentials(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        credentials(created.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_a_conversation_is_created_with_its_participants_on_both_forms(form):
    created = form.root.conversation_with_participants.create(
        friendly_name=f"py-{form.name}-with-participants",
        participant=[
            json.dumps({"identity": f"py-{form.name}-alice"}),
            json.dumps({"identity": f"py-{form.name}-bob", "attributes": '{"vip":true}'}),
        ],
    )
    assert created.sid.startswith("CH") and created.chat_service_sid == form.chat_service_sid
    assert created.friendly_name == f"py-{form.name}-with-participants"

    participants = form.conversations(created.sid).participants.list()
    assert sorted(p.identity for p in participants) == [f"py-{form.name}-alice", f"py-{form.name}-bob"]

    with pytest.raises(TwilioRestException) as excinfo:
        form.root.conversation_with_participants.create(participant=["identity=alice"])
    assert_rest_error(excinfo, 400, 20001)


def test_bindings_list_empty_and_notifications_update_on_the_service_form(client, service_sid):
    service = client.conversations.v1.services(service_sid)
    assert service.bindings.list() == []
    with pytest.raises(TwilioRestException) as excinfo:
        service.bindings("BS00000000000000000000000000000000").fetch()
    assert_rest_error(excinfo, 404, 20404)

    defaults = service.configuration.notifications().fetch()
    assert defaults.chat_service_sid == service_sid and defaults.log_enabled is False
    assert defaults.new_message["enabled"] is False

    updated = service.configuration.notifications().update(new_message_enabled=True, new_message_sound="chime")
    assert updated.new_message["enabled"] is True and updated.new_message["sound"] == "chime"
    assert updated.new_message["template"] == defaults.new_message["template"]
    assert updated.added_to_conversation == defaults.added_to_conversation
    assert service.configuration.notifications().fetch().new_message == updated.new_message
