"""Drives the official `twilio` Python SDK against a running emulator.

The base URL comes from the environment variable EMULATOR_URL (for example
http://127.0.0.1:40123). The SDK is pointed at it by the shared custom HTTP client
(emulator_sdk.py, fixtures in conftest.py) that rewrites
https://conversations.twilio.com to that URL; everything else is the SDK's own
code: request encoding, paging (it follows the emulator's next_page_url),
deserialization and error mapping.

Every Messages test runs on both URL forms:
  default: client.conversations.v1.conversations(CH).messages
  service: client.conversations.v1.services(IS).conversations(CH).messages
"""

import json
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from emulator_sdk import assert_rest_error, create_service

MISSING_MESSAGE = "IM" + "0" * 32
MISSING_CONVERSATION = "CH" + "0" * 32
MISSING_SERVICE = "IS" + "0" * 32
FORMS = ["default", "service"]


@pytest.fixture(scope="module")
def service_sid(client, account_sid):
    service = create_service(client, account_sid, "python-sdk-suite")
    assert service.friendly_name == "python-sdk-suite"
    assert isinstance(service.date_created, datetime)
    return service.sid


class Form:
    """One of the two URL forms Messages are served on."""

    def __init__(self, name, client, service_sid):
        self.name = name
        self.service_sid = service_sid
        v1 = client.conversations.v1
        self.root = v1 if service_sid is None else v1.services(service_sid)
        self.prefix = "/v1" if service_sid is None else f"/v1/Services/{service_sid}"

    def conversations(self, sid=None):
        return self.root.conversations if sid is None else self.root.conversations(sid)

    def messages(self, conversation_sid):
        return self.conversations(conversation_sid).messages

    def message_path(self, conversation_sid, message_sid):
        return f"{self.prefix}/Conversations/{conversation_sid}/Messages/{message_sid}"


@pytest.fixture(params=FORMS)
def form(request, client, service_sid):
    return Form(request.param, client, None if request.param == "default" else service_sid)


@pytest.fixture
def conversation_sid(form, client, service_sid):
    conversation = form.conversations().create(friendly_name=f"python {form.name}")
    assert conversation.sid.startswith("CH") and len(conversation.sid) == 34, conversation.sid
    if form.service_sid is not None:
        assert conversation.chat_service_sid == service_sid
    else:
        default = client.conversations.v1.configuration().fetch().default_chat_service_sid
        assert conversation.chat_service_sid == default
    return conversation.sid


@pytest.fixture
def messages(form, conversation_sid):
    return form.messages(conversation_sid)


def assert_same_message(actual, expected):
    for field in [
        "sid", "account_sid", "conversation_sid", "index", "author", "body", "attributes",
        "participant_sid", "media", "delivery", "content_sid", "date_created", "date_updated",
        "url", "links",
    ]:
        assert getattr(actual, field) == getattr(expected, field), field


def create_many(messages, count):
    return [messages.create(body=f"message {i}") for i in range(count)]


# 1. create


def test_create_echoes_fields_and_parses_dates(form, messages, conversation_sid, account_sid, base_url):
    sent_at = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    attributes = json.dumps({"importance": "high", "tags": ["a", "b"]})
    first = messages.create(author="alice", body="hello there", attributes=attributes, date_created=sent_at)

    assert first.sid.startswith("IM") and len(first.sid) == 34, first.sid
    assert first.index == 0
    assert first.author == "alice"
    assert first.body == "hello there"
    assert json.loads(first.attributes) == {"importance": "high", "tags": ["a", "b"]}
    assert first.account_sid == account_sid
    assert first.conversation_sid == conversation_sid
    assert isinstance(first.date_created, datetime), repr(first.date_created)
    assert first.date_created == sent_at
    assert isinstance(first.date_updated, datetime), repr(first.date_updated)
    assert first.participant_sid is None
    assert first.media is None
    assert first.url == base_url + form.message_path(conversation_sid, first.sid)
    assert isinstance(first.links, dict) and first.links, first.links
    if form.service_sid is not None:
        assert first.chat_service_sid == form.service_sid

    second = messages.create(body="second")
    third = messages.create(body="third")
    assert (second.index, third.index) == (1, 2)
    assert len({first.sid, second.sid, third.sid}) == 3


def test_create_defaults(messages):
    before = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    message = messages.create(body="no author given")
    after = datetime.now(timezone.utc) + timedelta(seconds=5)

    assert message.author == "system"
    assert message.attributes == "{}"
    assert message.participant_sid is None
    assert isinstance(message.date_created, datetime), repr(message.date_created)
    assert before <= message.date_created <= after, message.date_created
    assert message.index == 0


# 2. fetch


def test_fetch_returns_what_create_returned(messages):
    created = messages.create(
        author="bob",
        body="fetch me",
        attributes='{"n": 1}',
        date_created=datetime(2022, 12, 31, 23, 59, 58, tzinfo=timezone.utc),
    )
    fetched = messages(created.sid).fetch()
    assert_same_message(fetched, created)
    assert fetched.date_created == datetime(2022, 12, 31, 23, 59, 58, tzinfo=timezone.utc)


# 3. list and paging


def test_list_follows_next_page_url_across_pages(messages, http_client, base_url, conversation_sid):
    created = create_many(messages, 7)

    before = len(http_client.requests)
    listed = messages.list(page_size=3)
    page_requests = http_client.requests[before:]

    assert [m.sid for m in listed] == [m.sid for m in created]
    assert [m.index for m in listed] == list(range(7))
    assert [m.body for m in listed] == [f"message {i}" for i in range(7)]
    # Three pages of 3, 3 and 1: the second and third come from the emulator's next_page_url.
    assert len(page_requests) == 3, page_requests
    assert all(method == "GET" for method, _, _, _ in page_requests)
    for _, url, _, _ in page_requests[1:]:
        assert url.startswith(base_url + "/"), url
        assert conversation_sid in url and "/Messages" in url, url


def test_list_limit_and_order(messages):
    created = create_many(messages, 7)
    sids = [m.sid for m in created]

    limited = messages.list(limit=5)
    assert [m.sid for m in limited] == sids[:5]

    descending = messages.list(order="desc")
    assert [m.sid for m in descending] == sids[::-1]
    assert [m.index for m in descending] == list(range(6, -1, -1))

    descending_paged = messages.list(order="desc", page_size=2)
    assert [m.sid for m in descending_paged] == sids[::-1]

    streamed = list(messages.stream(page_size=3, limit=4))
    assert [m.sid for m in streamed] == sids[:4]


def test_page_has_next_page_url_on_the_emulator(messages, base_url):
    created = create_many(messages, 5)

    page = messages.page(page_size=2)
    assert [m.sid for m in page] == [m.sid for m in created[:2]]
    assert page.next_page_url is not None
    assert page.next_page_url.startswith(base_url + "/"), page.next_page_url

    second = page.next_page()
    assert [m.sid for m in second] == [m.sid for m in created[2:4]]
    third = second.next_page()
    assert [m.sid for m in third] == [created[4].sid]
    assert third.next_page_url is None
    assert third.next_page() is None


def test_page_size_above_100_is_clamped_not_rejected(messages, http_client):
    created = create_many(messages, 101)

    page = messages.page(page_size=200)
    assert len(list(page)) == 100
    assert page.next_page_url is not None

    before = len(http_client.requests)
    everything = messages.list(limit=200)
    assert [m.sid for m in everything] == [m.sid for m in created]
    assert len(http_client.requests) - before == 2, http_client.requests[before:]


def test_list_of_empty_conversation(messages):
    assert messages.list() == []
    assert messages.list(limit=200) == []


# 4. update


def test_update_changes_fields_but_not_index(messages):
    messages.create(body="zeroth")
    original = messages.create(author="carol", body="before", attributes='{"v": 1}')
    assert original.index == 1

    updated = messages(original.sid).update(body="after", attributes='{"v": 2}', author="dave")
    assert updated.sid == original.sid
    assert updated.body == "after"
    assert json.loads(updated.attributes) == {"v": 2}
    assert updated.author == "dave"
    assert updated.index == 1
    assert updated.date_created == original.date_created
    assert isinstance(updated.date_updated, datetime)
    assert updated.date_updated >= original.date_created

    refetched = messages(original.sid).fetch()
    assert refetched.body == "after"
    assert json.loads(refetched.attributes) == {"v": 2}
    assert refetched.author == "dave"
    assert refetched.index == 1

    # An update that names one field leaves the others alone.
    body_only = messages(original.sid).update(body="again")
    assert (body_only.body, body_only.author, json.loads(body_only.attributes)) == ("again", "dave", {"v": 2})


# 5. delete


def test_delete_returns_true_and_the_message_is_gone(messages):
    keep = messages.create(body="keep")
    doomed = messages.create(body="doomed")

    assert messages(doomed.sid).delete() is True

    with pytest.raises(TwilioRestException) as excinfo:
        messages(doomed.sid).fetch()
    assert_rest_error(excinfo, 404, 20404)
    assert [m.sid for m in messages.list()] == [keep.sid]

    with pytest.raises(TwilioRestException) as excinfo:
        messages(doomed.sid).delete()
    assert_rest_error(excinfo, 404, 20404)

    # Indices are not reused after a delete.
    assert messages.create(body="next").index == 2


# 6. errors


def test_unknown_message_is_a_404(messages):
    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).fetch()
    assert_rest_error(excinfo, 404, 20404)

    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).update(body="nope")
    assert_rest_error(excinfo, 404, 20404)

    with pytest.raises(TwilioRestException) as excinfo:
        messages(MISSING_MESSAGE).delete()
    assert_rest_error(excinfo, 404, 20404)


def test_unknown_conversation_is_a_404(form):
    missing = form.messages(MISSING_CONVERSATION)
    with pytest.raises(TwilioRestException) as excinfo:
        missing.create(body="into the void")
    assert_rest_error(excinfo, 404, 20404)

    # The SDK's Page raises a plain TwilioException carrying the HTTP response.
    with pytest.raises(TwilioException) as excinfo:
        missing.list()
    response = excinfo.value.args[1]
    assert response.status_code == 404
    assert json.loads(response.text)["code"] == 20404

    with pytest.raises(TwilioRestException) as excinfo:
        form.conversations(MISSING_CONVERSATION).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_unknown_service_is_a_404(client):
    conversation = client.conversations.v1.conversations.create().sid
    messages = client.conversations.v1.services(MISSING_SERVICE).conversations(conversation).messages
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(body="wrong service")
    assert_rest_error(excinfo, 404, 20404)


def test_invalid_attributes_are_a_400(messages):
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(body="bad", attributes="{not json")
    assert_rest_error(excinfo, 400, 50304)

    good = messages.create(body="good")
    with pytest.raises(TwilioRestException) as excinfo:
        messages(good.sid).update(attributes="[unterminated")
    assert_rest_error(excinfo, 400, 50304)
    assert messages(good.sid).fetch().attributes == "{}"
    # The failed create did not take an index.
    assert good.index == 0


# 7. conversations addressed by unique_name


def test_conversation_by_unique_name(form):
    unique_name = f"py-{form.name}-{secrets.token_hex(4)}"
    conversation = form.conversations().create(unique_name=unique_name, friendly_name="named")
    assert conversation.unique_name == unique_name

    fetched = form.conversations(unique_name).fetch()
    assert fetched.sid == conversation.sid
    assert fetched.unique_name == unique_name
    assert fetched.friendly_name == "named"

    by_name = form.messages(unique_name)
    message = by_name.create(author="erin", body="via unique name")
    assert message.conversation_sid == conversation.sid
    assert message.index == 0

    assert by_name(message.sid).fetch().body == "via unique name"
    assert [m.sid for m in form.messages(conversation.sid).list()] == [message.sid]
    assert [m.sid for m in by_name.list()] == [message.sid]
