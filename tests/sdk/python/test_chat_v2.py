"""Drives the official `twilio` Python SDK's Programmable Chat v2 client against a
running emulator.

The base URL comes from the environment variable EMULATOR_URL. The SDK is pointed at
it by the shared custom HTTP client (emulator_sdk.py, fixtures in conftest.py) that
rewrites both https://chat.twilio.com and https://conversations.twilio.com to that
URL; everything else is the SDK's own code.

Chat v2 and Conversations v1 share one store: a channel is a conversation (same CH
SID) and a chat message is a conversation message (same IM SID, same index sequence).
Most tests run on both the account's default Conversation Service and a service
created through Conversations v1:
  client.chat.v2.services(IS).channels(CH).messages
"""

import json
import secrets
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from emulator_sdk import assert_rest_error, create_service

MISSING_CHANNEL = "CH" + "0" * 32
MISSING_MESSAGE = "IM" + "0" * 32
MISSING_SERVICE = "IS" + "0" * 32
SERVICES = ["default", "created"]


@pytest.fixture(scope="module")
def created_service_sid(client, account_sid):
    return create_service(client, account_sid, "python-chat-suite").sid


@pytest.fixture(params=SERVICES)
def service_sid(request, default_service_sid, created_service_sid):
    return default_service_sid if request.param == "default" else created_service_sid


@pytest.fixture
def chat(client, service_sid):
    """The Chat v2 service: `chat.channels`, `chat.channels(CH).messages`."""
    return client.chat.v2.services(service_sid)


def unique(prefix):
    return f"{prefix}-{secrets.token_hex(5)}"


@pytest.fixture
def channel(chat):
    created = chat.channels.create(friendly_name="python chat", unique_name=unique("py-chat"))
    assert created.sid.startswith("CH") and len(created.sid) == 34, created.sid
    return created


@pytest.fixture
def messages(chat, channel):
    return chat.channels(channel.sid).messages


def assert_list_error(excinfo, status, code):
    """The SDK's Page raises a plain TwilioException carrying the HTTP response."""
    response = excinfo.value.args[1]
    assert response.status_code == status, response.text
    assert json.loads(response.text)["code"] == code, response.text


def channel_url(chat_base_url, service_sid, channel_sid):
    return f"{chat_base_url}/v2/Services/{service_sid}/Channels/{channel_sid}"


def create_many(messages, count):
    return [messages.create(from_=f"user{i}", body=f"message {i}") for i in range(count)]


MESSAGE_FIELDS = [
    "sid", "account_sid", "service_sid", "to", "channel_sid", "attributes", "date_created",
    "date_updated", "last_updated_by", "was_edited", "_from", "body", "index", "type", "media", "url",
]

CHANNEL_FIELDS = [
    "sid", "account_sid", "service_sid", "friendly_name", "unique_name", "attributes", "type",
    "date_created", "date_updated", "created_by", "members_count", "messages_count", "url", "links",
]


def assert_same(actual, expected, fields):
    for field in fields:
        assert getattr(actual, field) == getattr(expected, field), field


# 1. channels


def test_channel_create_echoes_fields(chat, service_sid, account_sid, chat_base_url):
    name = unique("py-create")
    before = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    created = chat.channels.create(
        friendly_name="General", unique_name=name, attributes=json.dumps({"topic": "news"})
    )
    after = datetime.now(timezone.utc) + timedelta(seconds=5)

    assert created.sid.startswith("CH") and len(created.sid) == 34, created.sid
    assert created.account_sid == account_sid
    assert created.service_sid == service_sid
    assert created.friendly_name == "General"
    assert created.unique_name == name
    assert json.loads(created.attributes) == {"topic": "news"}
    assert created.type == "public"
    assert created.created_by == "system"
    assert created.members_count == 0
    assert created.messages_count == 0
    assert isinstance(created.date_created, datetime), repr(created.date_created)
    assert before <= created.date_created <= after, created.date_created
    assert isinstance(created.date_updated, datetime), repr(created.date_updated)
    url = channel_url(chat_base_url, service_sid, created.sid)
    assert created.url == url
    assert created.links["messages"] == url + "/Messages"
    assert created.links["members"] == url + "/Members"


def test_channel_create_defaults_and_explicit_fields(chat):
    bare = chat.channels.create()
    assert bare.friendly_name is None
    assert bare.unique_name is None
    assert bare.attributes == "{}"
    assert bare.type == "public"
    assert bare.created_by == "system"

    private = chat.channels.create(
        type="private",
        created_by="alice",
        date_created=datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    assert private.type == "private"
    assert private.created_by == "alice"
    assert private.date_created == datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_channel_fetch_by_sid_and_by_unique_name(chat, channel):
    by_sid = chat.channels(channel.sid).fetch()
    assert_same(by_sid, channel, CHANNEL_FIELDS)

    by_name = chat.channels(channel.unique_name).fetch()
    assert by_name.sid == channel.sid
    assert_same(by_name, channel, CHANNEL_FIELDS)


def test_channel_list_pages_in_creation_order(client, http_client, chat_base_url):
    # A service of its own, so that the list holds exactly these channels.
    service = client.conversations.v1.services.create(friendly_name="python chat list").sid
    chat = client.chat.v2.services(service)
    assert chat.channels.list() == []

    created = [chat.channels.create(unique_name=f"list-{i}", friendly_name=f"channel {i}") for i in range(5)]
    private = chat.channels.create(unique_name="list-private", type="private")

    before = len(http_client.requests)
    listed = chat.channels.list(page_size=2)
    pages = http_client.requests[before:]
    assert [c.sid for c in listed] == [c.sid for c in created] + [private.sid]
    assert [c.unique_name for c in listed] == [f"list-{i}" for i in range(5)] + ["list-private"]
    assert all(c.service_sid == service for c in listed)
    # Pages of 2, 2 and 2: the later ones come from the emulator's next_page_url.
    assert len(pages) == 3, pages
    for method, url, _, _ in pages[1:]:
        assert method == "GET"
        assert url.startswith(f"{chat_base_url}/v2/Services/{service}/Channels"), url

    assert [c.sid for c in chat.channels.list(type=["private"])] == [private.sid]
    assert [c.sid for c in chat.channels.list(type=["public"])] == [c.sid for c in created]
    assert [c.sid for c in chat.channels.list(limit=3)] == [c.sid for c in created[:3]]


def test_channel_update(chat, channel):
    updated = chat.channels(channel.sid).update(
        friendly_name="Renamed", attributes='{"v": 2}', created_by="bob"
    )
    assert updated.sid == channel.sid
    assert updated.friendly_name == "Renamed"
    assert json.loads(updated.attributes) == {"v": 2}
    assert updated.created_by == "bob"
    assert updated.unique_name == channel.unique_name
    assert updated.type == "public"
    assert updated.date_created == channel.date_created
    assert updated.date_updated >= channel.date_created

    # Update through the unique name, then the old name no longer resolves.
    new_name = unique("py-renamed")
    renamed = chat.channels(channel.unique_name).update(unique_name=new_name)
    assert renamed.sid == channel.sid
    assert renamed.unique_name == new_name
    assert renamed.friendly_name == "Renamed"
    assert chat.channels(new_name).fetch().sid == channel.sid
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(channel.unique_name).fetch()
    assert_rest_error(excinfo, 404, 50300)


def test_channel_delete(chat, client):
    doomed = chat.channels.create(unique_name=unique("py-doomed"))
    chat.channels(doomed.sid).messages.create(body="goes with it")
    assert chat.channels(doomed.sid).delete() is True

    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(doomed.sid).fetch()
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(doomed.sid).delete()
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioException) as excinfo:
        chat.channels(doomed.sid).messages.list()
    assert_list_error(excinfo, 404, 50300)
    # Gone from Conversations too (which uses its own 20404).
    with pytest.raises(TwilioRestException) as excinfo:
        client.conversations.v1.conversations(doomed.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)

    # Deleting by unique name works as well.
    named = chat.channels.create(unique_name=unique("py-doomed-named"))
    assert chat.channels(named.unique_name).delete() is True
    assert named.sid not in [c.sid for c in chat.channels.list()]


# 2. messages


def test_message_create_echoes_fields(messages, channel, service_sid, account_sid, chat_base_url):
    before = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    first = messages.create(from_="alice", body="hello there", attributes=json.dumps({"k": [1, 2]}))
    after = datetime.now(timezone.utc) + timedelta(seconds=5)

    assert first.sid.startswith("IM") and len(first.sid) == 34, first.sid
    assert first.account_sid == account_sid
    assert first.service_sid == service_sid
    assert first.channel_sid == channel.sid
    assert first.to == channel.sid
    assert first._from == "alice"
    assert first.body == "hello there"
    assert json.loads(first.attributes) == {"k": [1, 2]}
    assert first.index == 0
    assert first.type == "text"
    assert first.media is None
    assert first.was_edited is False
    assert first.last_updated_by is None
    assert isinstance(first.date_created, datetime), repr(first.date_created)
    assert before <= first.date_created <= after, first.date_created
    assert isinstance(first.date_updated, datetime), repr(first.date_updated)
    assert first.url == channel_url(chat_base_url, service_sid, channel.sid) + f"/Messages/{first.sid}"

    second = messages.create(body="second")
    assert second.index == 1
    assert second.sid != first.sid


def test_message_create_defaults(messages):
    message = messages.create()
    assert message._from == "system"
    assert message.body == ""
    assert message.attributes == "{}"
    assert message.last_updated_by is None
    assert message.was_edited is False
    assert message.index == 0

    dated = messages.create(
        body="backfilled",
        date_created=datetime(2019, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
        last_updated_by="importer",
    )
    assert dated.date_created == datetime(2019, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert dated.last_updated_by == "importer"
    assert dated.index == 1


def test_message_fetch_returns_what_create_returned(messages):
    created = messages.create(from_="bob", body="fetch me", attributes='{"n": 1}')
    fetched = messages(created.sid).fetch()
    assert_same(fetched, created, MESSAGE_FIELDS)


def test_messages_count_follows_the_channel(chat, channel, messages):
    create_many(messages, 3)
    assert chat.channels(channel.sid).fetch().messages_count == 3


def test_message_list_pages_in_order(messages, http_client, chat_base_url, channel):
    created = create_many(messages, 7)

    before = len(http_client.requests)
    listed = messages.list(page_size=3)
    pages = http_client.requests[before:]

    assert [m.sid for m in listed] == [m.sid for m in created]
    assert [m.index for m in listed] == list(range(7))
    assert [m.body for m in listed] == [f"message {i}" for i in range(7)]
    assert [m._from for m in listed] == [f"user{i}" for i in range(7)]
    # Three pages of 3, 3 and 1: the second and third come from the emulator's next_page_url.
    assert len(pages) == 3, pages
    for method, url, _, _ in pages[1:]:
        assert method == "GET"
        assert url.startswith(chat_base_url + "/v2/Services/"), url
        assert f"/Channels/{channel.sid}/Messages" in url, url

    page = messages.page(page_size=3)
    assert [m.sid for m in page] == [m.sid for m in created[:3]]
    assert page.next_page_url.startswith(chat_base_url + "/"), page.next_page_url
    last = page.next_page().next_page()
    assert [m.sid for m in last] == [created[6].sid]
    assert last.next_page() is None


def test_message_list_desc_and_limit(messages):
    sids = [m.sid for m in create_many(messages, 5)]

    descending = messages.list(order="desc")
    assert [m.sid for m in descending] == sids[::-1]
    assert [m.index for m in descending] == [4, 3, 2, 1, 0]
    assert [m.sid for m in messages.list(order="desc", page_size=2)] == sids[::-1]
    assert [m.sid for m in messages.list(order="asc", page_size=2)] == sids
    assert [m.sid for m in messages.list(limit=2)] == sids[:2]


def test_message_page_size_above_100_is_clamped(messages):
    created = create_many(messages, 101)
    page = messages.page(page_size=500)
    assert len(list(page)) == 100
    assert page.next_page_url is not None
    assert [m.sid for m in page.next_page()] == [created[100].sid]


def test_message_update(messages):
    messages.create(body="zeroth")
    original = messages.create(from_="carol", body="before", attributes='{"v": 1}')
    assert (original.index, original.was_edited) == (1, False)

    updated = messages(original.sid).update(
        body="after", attributes='{"v": 2}', last_updated_by="dave"
    )
    assert updated.sid == original.sid
    assert updated.body == "after"
    assert json.loads(updated.attributes) == {"v": 2}
    assert updated.was_edited is True
    assert updated.last_updated_by == "dave"
    assert updated._from == "carol"
    assert updated.index == 1
    assert updated.date_created == original.date_created
    assert updated.date_updated >= original.date_created

    refetched = messages(original.sid).fetch()
    assert_same(refetched, updated, MESSAGE_FIELDS)

    # From can be rewritten; the untouched fields stay.
    reauthored = messages(original.sid).update(from_="erin")
    assert (reauthored._from, reauthored.body, reauthored.last_updated_by) == ("erin", "after", "dave")
    assert reauthored.was_edited is True


def test_message_delete(messages):
    keep = messages.create(body="keep")
    doomed = messages.create(body="doomed")

    assert messages(doomed.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        messages(doomed.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)
    with pytest.raises(TwilioRestException) as excinfo:
        messages(doomed.sid).delete()
    assert_rest_error(excinfo, 404, 20404)
    assert [m.sid for m in messages.list()] == [keep.sid]
    # Indices are not reused after a delete.
    assert messages.create(body="next").index == 2


def test_messages_on_a_channel_addressed_by_unique_name(chat, channel):
    by_name = chat.channels(channel.unique_name).messages
    message = by_name.create(from_="frank", body="via unique name")
    assert message.channel_sid == channel.sid
    assert message.to == channel.sid
    assert message.index == 0

    assert by_name(message.sid).fetch().body == "via unique name"
    assert by_name(message.sid).update(body="edited by name").was_edited is True
    assert [m.sid for m in chat.channels(channel.sid).messages.list()] == [message.sid]
    assert [m.body for m in by_name.list()] == ["edited by name"]
    assert by_name(message.sid).delete() is True
    assert by_name.list() == []


# 3. one store: Chat and Conversations see the same channels and messages


def test_conversation_message_appears_in_chat(client, chat, channel, messages, service_sid):
    conversation = client.conversations.v1.services(service_sid).conversations(channel.sid)
    chat_first = messages.create(from_="alice", body="from chat")
    via_conversations = conversation.messages.create(author="bob", body="from conversations")
    assert via_conversations.index == 1

    listed = messages.list()
    assert [m.sid for m in listed] == [chat_first.sid, via_conversations.sid]
    assert [m.index for m in listed] == [0, 1]
    seen = listed[1]
    assert seen._from == "bob"
    assert seen.body == "from conversations"
    assert seen.channel_sid == channel.sid
    assert seen.was_edited is False
    assert messages(via_conversations.sid).fetch()._from == "bob"

    # The next chat message continues the same index sequence.
    assert messages.create(body="third").index == 2
    assert chat.channels(channel.sid).fetch().messages_count == 3


def test_chat_message_appears_in_conversations(client, messages, channel, service_sid):
    conversation = client.conversations.v1.services(service_sid).conversations(channel.sid)
    sent = messages.create(from_="carol", body="hello conversations", attributes='{"x": 1}')
    second = messages.create(from_="dave", body="again")

    listed = conversation.messages.list()
    assert [m.sid for m in listed] == [sent.sid, second.sid]
    assert [m.author for m in listed] == ["carol", "dave"]
    assert [m.index for m in listed] == [0, 1]
    fetched = conversation.messages(sent.sid).fetch()
    assert fetched.author == "carol"
    assert fetched.body == "hello conversations"
    assert json.loads(fetched.attributes) == {"x": 1}
    assert fetched.conversation_sid == channel.sid
    assert fetched.date_created == sent.date_created

    # An edit made in Conversations shows in Chat as an edit.
    conversation.messages(sent.sid).update(body="edited in conversations")
    seen = messages(sent.sid).fetch()
    assert seen.body == "edited in conversations"
    assert seen.was_edited is True

    # A delete made in Chat is gone from Conversations.
    assert messages(second.sid).delete() is True
    assert [m.sid for m in conversation.messages.list()] == [sent.sid]

    # The channel is the conversation, under the same service.
    same = conversation.fetch()
    assert same.chat_service_sid == service_sid
    assert same.unique_name == channel.unique_name


def test_conversation_is_a_private_channel(client, service_sid, chat_base_url):
    name = unique("py-conv")
    conversation = client.conversations.v1.services(service_sid).conversations.create(
        friendly_name="from conversations", unique_name=name, attributes='{"c": true}'
    )
    chat = client.chat.v2.services(service_sid)

    channel = chat.channels(conversation.sid).fetch()
    assert channel.sid == conversation.sid
    assert channel.type == "private"
    assert channel.service_sid == service_sid
    assert channel.friendly_name == "from conversations"
    assert channel.unique_name == name
    assert json.loads(channel.attributes) == {"c": True}
    assert channel.created_by == "system"
    assert channel.messages_count == 0
    assert channel.date_created == conversation.date_created
    assert channel.url == channel_url(chat_base_url, service_sid, conversation.sid)

    assert chat.channels(name).fetch().sid == conversation.sid
    assert conversation.sid in [c.sid for c in chat.channels.list(type=["private"])]
    assert conversation.sid not in [c.sid for c in chat.channels.list(type=["public"])]


def test_default_form_sees_the_default_service_channels(client, default_service_sid, created_service_sid):
    # /v1/Conversations/… is the default service's: its conversations are that service's channels.
    conversation = client.conversations.v1.conversations.create(friendly_name="default form")
    chat = client.chat.v2.services(default_service_sid)
    channel = chat.channels(conversation.sid).fetch()
    assert channel.type == "private"
    assert channel.service_sid == default_service_sid

    sent = chat.channels(conversation.sid).messages.create(from_="gina", body="to the default form")
    seen = client.conversations.v1.conversations(conversation.sid).messages(sent.sid).fetch()
    assert (seen.author, seen.body, seen.index) == ("gina", "to the default form", 0)
    reply = client.conversations.v1.conversations(conversation.sid).messages.create(author="hal", body="reply")
    assert [(m._from, m.index) for m in chat.channels(conversation.sid).messages.list()] == [("gina", 0), ("hal", 1)]
    assert reply.index == 1

    # A channel of another service is not on the default form.
    other = client.chat.v2.services(created_service_sid).channels.create()
    with pytest.raises(TwilioRestException) as excinfo:
        client.conversations.v1.conversations(other.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_chat_channel_is_a_conversation(client, channel, service_sid):
    conversation = client.conversations.v1.services(service_sid).conversations(channel.sid).fetch()
    assert conversation.sid == channel.sid
    assert conversation.friendly_name == channel.friendly_name
    assert conversation.unique_name == channel.unique_name
    assert conversation.chat_service_sid == service_sid
    by_name = client.conversations.v1.services(service_sid).conversations(channel.unique_name).fetch()
    assert by_name.sid == channel.sid


# 4. errors


def test_unknown_channel_is_50300(chat):
    missing = chat.channels(MISSING_CHANNEL)
    with pytest.raises(TwilioRestException) as excinfo:
        missing.fetch()
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        missing.update(friendly_name="nope")
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        missing.delete()
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        missing.messages.create(body="into the void")
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioException) as excinfo:
        missing.messages.list()
    assert_list_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(unique("no-such-name")).messages.create(body="nope")
    assert_rest_error(excinfo, 404, 50300)


def test_channel_of_another_service_is_50300(client, default_service_sid, created_service_sid):
    channel = client.chat.v2.services(default_service_sid).channels.create(unique_name=unique("py-other"))
    elsewhere = client.chat.v2.services(created_service_sid)
    with pytest.raises(TwilioRestException) as excinfo:
        elsewhere.channels(channel.sid).fetch()
    assert_rest_error(excinfo, 404, 50300)
    with pytest.raises(TwilioRestException) as excinfo:
        elsewhere.channels(channel.unique_name).messages.create(body="wrong service")
    assert_rest_error(excinfo, 404, 50300)


def test_unknown_message_is_20404(messages):
    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).fetch()
    assert_rest_error(excinfo, 404, 20404)
    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).update(body="nope")
    assert_rest_error(excinfo, 404, 20404)
    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).delete()
    assert_rest_error(excinfo, 404, 20404)


def test_unknown_service_is_20404(client):
    chat = client.chat.v2.services(MISSING_SERVICE)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels.create(friendly_name="nowhere")
    assert_rest_error(excinfo, 404, 20404)
    with pytest.raises(TwilioException) as excinfo:
        chat.channels.list()
    assert_list_error(excinfo, 404, 20404)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(MISSING_CHANNEL).messages.create(body="nowhere")
    assert_rest_error(excinfo, 404, 20404)


def test_duplicate_unique_name_is_50307(chat, channel, client, service_sid):
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels.create(unique_name=channel.unique_name)
    assert_rest_error(excinfo, 409, 50307)

    other = chat.channels.create(unique_name=unique("py-other"))
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(other.sid).update(unique_name=channel.unique_name)
    assert_rest_error(excinfo, 409, 50307)
    assert chat.channels(other.sid).fetch().unique_name == other.unique_name

    # A conversation's unique name is taken for channels too.
    taken = unique("py-conv-name")
    client.conversations.v1.services(service_sid).conversations.create(unique_name=taken)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels.create(unique_name=taken)
    assert_rest_error(excinfo, 409, 50307)


def test_invalid_attributes_are_50304(chat, channel, messages):
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(body="bad", attributes="{not json")
    assert_rest_error(excinfo, 400, 50304)

    good = messages.create(body="good")
    assert good.index == 0  # the failed create took no index
    with pytest.raises(TwilioRestException) as excinfo:
        messages(good.sid).update(attributes="[unterminated")
    assert_rest_error(excinfo, 400, 50304)
    assert messages(good.sid).fetch().attributes == "{}"

    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels.create(attributes="{nope")
    assert_rest_error(excinfo, 400, 50304)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.channels(channel.sid).update(attributes="{nope")
    assert_rest_error(excinfo, 400, 50304)


def test_members_are_the_channels_chat_participants(chat, channel, client, service_sid):
    members = chat.channels(channel.sid).members
    created = members.create(identity="py-member", attributes='{"team":"a"}')
    assert created.sid.startswith("MB") and created.identity == "py-member"
    assert created.channel_sid == channel.sid and created.service_sid == service_sid
    participants = client.conversations.v1.services(service_sid).conversations(channel.sid).participants
    participants.create(messaging_binding_address="+15550007777", messaging_binding_proxy_address="+15550008888")

    assert [m.identity for m in members.list()] == ["py-member"], "SMS participants are not members"
    assert members("py-member").fetch().sid == created.sid
    assert members(created.sid).update(last_consumed_message_index=3).last_consumed_message_index == 3
    assert participants(created.sid).fetch().last_read_message_index == 3
    assert chat.channels(channel.sid).fetch().members_count == 1
    with pytest.raises(TwilioRestException) as excinfo:
        members.create(identity="py-member")
    assert (excinfo.value.status, excinfo.value.code) == (409, 50404)
    assert members(created.sid).delete()
    assert members.list() == []


# --- Users and Roles: the service's Conversations users and roles, in Chat's shape ---


def test_chat_users_support_every_operation(client, chat, channel, service_sid):
    identity = unique("py-chat-user")
    chat.channels(channel.sid).members.create(identity=identity)

    created = chat.users.create(identity=identity, friendly_name="Ada", attributes='{"a": 1}')
    fetched = chat.users(identity).fetch()
    through_conversations = client.conversations.v1.services(service_sid).users(created.sid).fetch()
    updated = chat.users(created.sid).update(friendly_name="Countess")
    listed = [user.sid for user in chat.users.list()]
    user_channels = chat.users(created.sid).user_channels.list()

    assert created.sid.startswith("US") and created.service_sid == service_sid
    assert created.identity == identity and created.is_online is None
    assert created.joined_channels_count == 1, "the identity was a member before the user existed"
    assert fetched.sid == created.sid
    assert through_conversations.friendly_name == "Ada", "the same record through Conversations"
    assert updated.friendly_name == "Countess"
    assert created.sid in listed
    assert [c.channel_sid for c in user_channels] == [channel.sid]
    assert user_channels[0].status == "joined"
    muted = chat.users(created.sid).user_channels(channel.sid).update(notification_level="muted")
    assert muted.notification_level == "muted" and muted.member_sid == user_channels[0].member_sid

    assert chat.users(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        chat.users(created.sid).fetch()
    assert_rest_error(excinfo, 404, 50200)


def test_chat_user_errors_carry_chats_codes(chat):
    identity = unique("py-chat-dup")
    chat.users.create(identity=identity)

    with pytest.raises(TwilioRestException) as duplicate:
        chat.users.create(identity=identity)
    with pytest.raises(TwilioRestException) as missing:
        chat.users("nobody-" + identity).update(friendly_name="x")

    assert_rest_error(duplicate, 409, 50201)
    assert_rest_error(missing, 404, 50200)


def test_chat_roles_are_the_conversations_roles_in_chats_names(client, chat, service_sid):
    defaults = chat.roles.list()
    created = chat.roles.create(
        friendly_name=unique("py-role"), type="channel", permission=["removeMember", "sendMessage"]
    )
    through_conversations = client.conversations.v1.services(service_sid).roles(created.sid).fetch()
    updated = chat.roles(created.sid).update(permission=["destroyChannel"])

    assert [role.type for role in defaults[:3]] == ["deployment", "deployment", "channel"]
    assert created.type == "channel" and created.service_sid == service_sid
    assert created.permissions == ["removeMember", "sendMessage"]
    assert through_conversations.type == "conversation"
    assert through_conversations.permissions == ["removeParticipant", "sendMessage"]
    assert chat.roles(created.sid).fetch().permissions == updated.permissions == ["destroyChannel"]

    assert chat.roles(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        chat.roles(created.sid).fetch()
    assert_rest_error(excinfo, 404, 50100)
    with pytest.raises(TwilioRestException) as excinfo:
        chat.roles.create(friendly_name="bad", type="service", permission=["sendMessage"])
    assert_rest_error(excinfo, 400, 50105)


def seed_bindings(emulator_url, account_sid):
    """A new service of the account with two push bindings, imported through the control
    plane: only client SDKs register bindings on Twilio, so the REST API cannot."""
    service_sid = "IS" + secrets.token_hex(16)
    document = {"accounts": [{"account_sid": account_sid, "services": [{
        "sid": service_sid,
        "friendly_name": "python push",
        "bindings": [
            {"binding_type": "apn", "endpoint": "ada-phone", "identity": "ada"},
            {"binding_type": "fcm", "endpoint": "bo-phone", "identity": "bo"},
        ],
    }]}]}
    request = urllib.request.Request(
        f"{emulator_url}/_emulator/state",
        data=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    return service_sid


def test_chat_bindings_and_user_bindings_through_the_sdk(client, emulator_url, account_sid):
    chat = client.chat.v2.services(seed_bindings(emulator_url, account_sid))

    assert sorted(binding.identity for binding in chat.bindings.list()) == ["ada", "bo"]
    apn = chat.bindings.list(binding_type=["apn"])
    assert [binding.identity for binding in apn] == ["ada"]
    fetched = chat.bindings(apn[0].sid).fetch()
    assert fetched.endpoint == "ada-phone" and fetched.binding_type == "apn"
    assert fetched.links["user"].endswith("/Users/ada"), fetched.links
    user = chat.users.create(identity="ada")
    user_bindings = chat.users(user.sid).user_bindings
    assert [binding.sid for binding in user_bindings.list()] == [apn[0].sid]
    assert user_bindings(apn[0].sid).fetch().user_sid == user.sid

    assert user_bindings(apn[0].sid).delete() is True
    assert [binding.identity for binding in chat.bindings.list(identity=["ada", "bo"])] == ["bo"]
    with pytest.raises(TwilioRestException) as excinfo:
        chat.bindings(apn[0].sid).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_invites_are_created_listed_fetched_and_deleted_through_the_sdk(chat, channel):
    invites = chat.channels(channel.sid).invites
    created = invites.create(identity="ada")
    other = invites.create(identity="bo")

    assert created.sid.startswith("IN") and len(created.sid) == 34, created.sid
    assert (created.channel_sid, created.identity, created.created_by) == (channel.sid, "ada", None)
    assert created.role_sid.startswith("RL")
    assert invites(created.sid).fetch().identity == "ada"
    assert [invite.sid for invite in invites.list()] == [created.sid, other.sid]
    assert [invite.sid for invite in invites.list(identity=["bo"])] == [other.sid]
    with pytest.raises(TwilioRestException) as excinfo:
        invites.create(identity="ada")
    assert_rest_error(excinfo, 409, 20001)

    assert invites(created.sid).delete() is True
    assert [invite.sid for invite in invites.list()] == [other.sid]


def test_chat_service_notifications_are_the_services_notification_configuration(client, created_service_sid):
    updated = client.chat.v2.services(created_service_sid).update(
        notifications_new_message_enabled=True,
        notifications_invited_to_channel_template="join ${CHANNEL}",
    )

    assert updated.notifications["new_message"]["enabled"] is True
    assert updated.notifications["invited_to_channel"]["template"] == "join ${CHANNEL}"
    conversations = client.conversations.v1.services(created_service_sid).configuration.notifications().fetch()
    assert conversations.new_message["enabled"] is True
