"""Drives the official `twilio` Python SDK's Participants, Delivery Receipts, media
messages, content templates and error mapping against a running emulator.

The base URL comes from the environment variable EMULATOR_URL. The SDK is pointed at
it by the shared custom HTTP client (emulator_sdk.py, fixtures in conftest.py) that
rewrites https://conversations.twilio.com (and https://chat.twilio.com, for the Chat
v2 view of media messages) to that URL; everything else is the SDK's own code.

What the SDKs cannot do, as on Twilio, goes over plain HTTP:
  - uploading media: POST {EMULATOR_URL}/v1/Services/{IS}/Media (raw bytes);
  - moving delivery receipts along: POST {EMULATOR_URL}/_emulator/receipts;
  - injecting faults: POST {EMULATOR_URL}/_emulator/faults, each rule limited to this
    suite's account and deleted by its id afterwards (other suites share the server).

Every test runs on both URL forms:
  default: client.conversations.v1.conversations(CH)…
  service: client.conversations.v1.services(IS).conversations(CH)…
"""

import json

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from emulator_sdk import assert_rest_error, create_service

MISSING_PARTICIPANT = "MB" + "0" * 32
MISSING_RECEIPT = "DY" + "0" * 32
MISSING_MEDIA = "ME" + "0" * 32
CONTENT_SID = "HX" + "0123456789abcdef" * 2
FORMS = ["default", "service"]

SMS_ADDRESS = "+15550000001"
SMS_ADDRESS_2 = "+15550000002"
PROXY_ADDRESS = "+15017122661"
JPEG = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10 + b"\xff\xd9"


@pytest.fixture(scope="module")
def service_sid(client, account_sid):
    return create_service(client, account_sid, "python-participants-suite").sid


class Form:
    """One of the two URL forms, with the service its conversations live in."""

    def __init__(self, name, client, service_sid, default_service_sid):
        self.name = name
        self.client = client
        v1 = client.conversations.v1
        if name == "default":
            self.root = v1
            self.prefix = "/v1"
            self.chat_service_sid = default_service_sid
        else:
            self.root = v1.services(service_sid)
            self.prefix = f"/v1/Services/{service_sid}"
            self.chat_service_sid = service_sid

    def conversations(self, sid=None):
        return self.root.conversations if sid is None else self.root.conversations(sid)

    def new_conversation(self):
        conversation = self.conversations().create(friendly_name=f"python {self.name}")
        assert conversation.chat_service_sid == self.chat_service_sid
        return conversation.sid

    def participants(self, conversation_sid):
        return self.conversations(conversation_sid).participants

    def messages(self, conversation_sid):
        return self.conversations(conversation_sid).messages

    def path(self, conversation_sid, rest=""):
        return f"{self.prefix}/Conversations/{conversation_sid}{rest}"


@pytest.fixture(params=FORMS)
def form(request, client, service_sid, default_service_sid):
    return Form(request.param, client, service_sid, default_service_sid)


@pytest.fixture
def conversation_sid(form):
    return form.new_conversation()


@pytest.fixture
def participants(form, conversation_sid):
    return form.participants(conversation_sid)


@pytest.fixture
def messages(form, conversation_sid):
    return form.messages(conversation_sid)


def add_sms(participants, address=SMS_ADDRESS):
    return participants.create(messaging_binding_address=address, messaging_binding_proxy_address=PROXY_ADDRESS)


def delivery(total, sent="none", delivered="none", read="none", failed="none", undelivered="none"):
    return {
        "total": total, "sent": sent, "delivered": delivered, "read": read,
        "failed": failed, "undelivered": undelivered,
    }


# Plain-HTTP helpers: what the SDK has no method for.


def move_receipts(base_url, account_sid, conversation_sid, message_sid, status, receipt_sid=None, error_code=None):
    change = {
        "account_sid": account_sid, "conversation_sid": conversation_sid,
        "message_sid": message_sid, "status": status,
    }
    if receipt_sid is not None:
        change["receipt_sid"] = receipt_sid
    if error_code is not None:
        change["error_code"] = error_code
    response = requests.post(f"{base_url}/_emulator/receipts", json=change, timeout=30)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def upload_media(base_url, account_sid, service, content=JPEG, filename="car.jpg", content_type="image/jpeg"):
    response = requests.post(
        f"{base_url}/v1/Services/{service}/Media",
        params={"Filename": filename},
        data=content,
        headers={"Content-Type": content_type},
        auth=(account_sid, "any-token"),
        timeout=30,
    )
    assert response.status_code == 201, (response.status_code, response.text)
    media = response.json()
    assert media["sid"].startswith("ME") and len(media["sid"]) == 34, media
    return media


class Fault:
    """A fault rule for this suite's account, deleted by its id when the block ends."""

    def __init__(self, base_url, rule):
        self.base_url = base_url
        response = requests.post(f"{base_url}/_emulator/faults", json=rule, timeout=30)
        assert response.status_code == 201, (response.status_code, response.text)
        self.rule = response.json()
        self.id = self.rule["id"]

    def view(self):
        response = requests.get(f"{self.base_url}/_emulator/faults/{self.id}", timeout=30)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        response = requests.delete(f"{self.base_url}/_emulator/faults/{self.id}", timeout=30)
        assert response.status_code == 204, (response.status_code, response.text)


# 1. participants


def test_chat_participant_create_fetch_by_sid_and_identity(form, participants, conversation_sid, account_sid, base_url):
    alice = participants.create(identity="alice", attributes=json.dumps({"role": "agent"}))

    assert alice.sid.startswith("MB") and len(alice.sid) == 34, alice.sid
    assert alice.identity == "alice"
    assert json.loads(alice.attributes) == {"role": "agent"}
    assert alice.messaging_binding is None
    assert alice.role_sid.startswith("RL") and len(alice.role_sid) == 34, alice.role_sid
    assert alice.account_sid == account_sid
    assert alice.conversation_sid == conversation_sid
    assert alice.last_read_message_index is None
    assert alice.url == base_url + form.path(conversation_sid, f"/Participants/{alice.sid}")
    if form.name == "service":
        assert alice.chat_service_sid == form.chat_service_sid

    by_sid = participants(alice.sid).fetch()
    by_identity = participants("alice").fetch()
    for fetched in (by_sid, by_identity):
        assert fetched.sid == alice.sid
        assert fetched.identity == "alice"
        assert fetched.attributes == alice.attributes
        assert fetched.date_created == alice.date_created
        assert fetched.url == alice.url

    bob = participants.create(identity="bob")
    assert bob.attributes == "{}"
    assert [p.sid for p in participants.list()] == [alice.sid, bob.sid]
    assert [p.identity for p in participants.list(page_size=1)] == ["alice", "bob"]


def test_sms_participant_has_a_messaging_binding(participants):
    sms = add_sms(participants)
    assert sms.sid.startswith("MB") and len(sms.sid) == 34, sms.sid
    assert sms.identity is None
    assert sms.messaging_binding == {"type": "sms", "address": SMS_ADDRESS, "proxy_address": PROXY_ADDRESS}
    fetched = participants(sms.sid).fetch()
    assert fetched.messaging_binding == sms.messaging_binding
    assert [p.sid for p in participants.list()] == [sms.sid]


def test_update_participant_by_sid_and_by_identity(participants):
    alice = participants.create(identity="alice")

    updated = participants(alice.sid).update(attributes='{"vip": true}', last_read_message_index=4)
    assert updated.sid == alice.sid
    assert json.loads(updated.attributes) == {"vip": True}
    assert updated.last_read_message_index == 4
    assert updated.date_created == alice.date_created

    again = participants("alice").update(last_read_message_index=7)
    assert again.sid == alice.sid
    assert again.last_read_message_index == 7
    assert json.loads(again.attributes) == {"vip": True}

    fetched = participants("alice").fetch()
    assert (fetched.last_read_message_index, json.loads(fetched.attributes)) == (7, {"vip": True})


def test_delete_participant_by_sid_and_by_identity(participants):
    alice = participants.create(identity="alice")
    bob = participants.create(identity="bob")
    sms = add_sms(participants)

    assert participants(alice.sid).delete() is True
    assert participants("bob").delete() is True
    assert [p.sid for p in participants.list()] == [sms.sid]

    for gone in (alice.sid, "alice", bob.sid, "bob"):
        with pytest.raises(TwilioRestException) as excinfo:
            participants(gone).fetch()
        assert_rest_error(excinfo, 404, 20404)
    with pytest.raises(TwilioRestException) as excinfo:
        participants(alice.sid).delete()
    assert_rest_error(excinfo, 404, 20404)

    # The identity is free again.
    assert participants.create(identity="alice").sid not in (alice.sid, bob.sid)


def test_duplicate_participants_are_409s(participants):
    participants.create(identity="alice")
    with pytest.raises(TwilioRestException) as excinfo:
        participants.create(identity="alice")
    assert_rest_error(excinfo, 409, 50433)

    add_sms(participants)
    with pytest.raises(TwilioRestException) as excinfo:
        add_sms(participants)
    assert_rest_error(excinfo, 409, 50416)

    # Same address through another proxy number is another participant.
    other = participants.create(messaging_binding_address=SMS_ADDRESS, messaging_binding_proxy_address="+15017122662")
    assert other.messaging_binding["proxy_address"] == "+15017122662"
    assert len(participants.list()) == 3


def test_unknown_participant_is_a_404(participants):
    for missing in (MISSING_PARTICIPANT, "nobody"):
        with pytest.raises(TwilioRestException) as excinfo:
            participants(missing).fetch()
        assert_rest_error(excinfo, 404, 20404)
        with pytest.raises(TwilioRestException) as excinfo:
            participants(missing).update(attributes="{}")
        assert_rest_error(excinfo, 404, 20404)
        with pytest.raises(TwilioRestException) as excinfo:
            participants(missing).delete()
        assert_rest_error(excinfo, 404, 20404)


# 2. messages and their author participant


def test_message_participant_sid_follows_the_author(participants, messages):
    alice = participants.create(identity="alice")
    sms = add_sms(participants)

    by_alice = messages.create(author="alice", body="hi")
    assert by_alice.participant_sid == alice.sid
    assert messages(by_alice.sid).fetch().participant_sid == alice.sid

    by_phone = messages.create(author=SMS_ADDRESS, body="from the phone")
    assert by_phone.participant_sid == sms.sid

    assert messages.create(body="system speaking").participant_sid is None
    assert messages.create(author="stranger", body="who?").participant_sid is None

    # Re-resolved when the author changes.
    moved = messages(by_alice.sid).update(author=SMS_ADDRESS)
    assert moved.participant_sid == sms.sid
    gone = messages(by_alice.sid).update(author="stranger")
    assert gone.participant_sid is None
    back = messages(by_alice.sid).update(author="alice")
    assert back.participant_sid == alice.sid
    assert [m.participant_sid for m in messages.list()] == [alice.sid, sms.sid, None, None]


def test_chat_only_messages_have_no_delivery(participants, messages):
    participants.create(identity="alice")
    participants.create(identity="bob")
    message = messages.create(author="alice", body="chat only")
    assert message.delivery is None
    assert messages(message.sid).fetch().delivery is None
    assert messages(message.sid).delivery_receipts.list() == []


# 3. delivery receipts


def test_receipts_are_created_sent_for_each_sms_participant(form, participants, messages, conversation_sid, account_sid, base_url):
    participants.create(identity="alice")
    first = add_sms(participants, SMS_ADDRESS)
    second = add_sms(participants, SMS_ADDRESS_2)

    message = messages.create(author="alice", body="to the phones")
    assert message.delivery == delivery(2, sent="all")

    receipts = messages(message.sid).delivery_receipts.list()
    assert [r.participant_sid for r in receipts] == [first.sid, second.sid]
    for receipt in receipts:
        assert receipt.sid.startswith("DY") and len(receipt.sid) == 34, receipt.sid
        assert receipt.channel_message_sid.startswith("SM") and len(receipt.channel_message_sid) == 34
        assert receipt.status == "sent"
        assert receipt.error_code == 0
        assert receipt.message_sid == message.sid
        assert receipt.conversation_sid == conversation_sid
        assert receipt.account_sid == account_sid
        assert receipt.url == base_url + form.path(conversation_sid, f"/Messages/{message.sid}/Receipts/{receipt.sid}")
        if form.name == "service":
            assert receipt.chat_service_sid == form.chat_service_sid

        fetched = messages(message.sid).delivery_receipts(receipt.sid).fetch()
        for field in ["sid", "participant_sid", "channel_message_sid", "status", "error_code", "date_created", "url"]:
            assert getattr(fetched, field) == getattr(receipt, field), field

    assert [r.sid for r in messages(message.sid).delivery_receipts.list(page_size=1)] == [r.sid for r in receipts]

    # A message from one phone goes to the other one only.
    from_phone = messages.create(author=SMS_ADDRESS, body="reply")
    assert from_phone.delivery == delivery(1, sent="all")
    assert [r.participant_sid for r in messages(from_phone.sid).delivery_receipts.list()] == [second.sid]

    with pytest.raises(TwilioRestException) as excinfo:
        messages(message.sid).delivery_receipts(MISSING_RECEIPT).fetch()
    assert_rest_error(excinfo, 404, 20404)


def test_moving_receipts_changes_delivery_and_status(participants, messages, conversation_sid, account_sid, emulator_url):
    add_sms(participants, SMS_ADDRESS)
    add_sms(participants, SMS_ADDRESS_2)
    message = messages.create(body="track me")
    receipts = messages(message.sid).delivery_receipts.list()
    first, second = receipts

    move_receipts(emulator_url, account_sid, conversation_sid, message.sid, "delivered", receipt_sid=first.sid)
    assert messages(message.sid).fetch().delivery == delivery(2, sent="all", delivered="some")
    assert messages(message.sid).delivery_receipts(first.sid).fetch().status == "delivered"
    assert messages(message.sid).delivery_receipts(second.sid).fetch().status == "sent"

    move_receipts(emulator_url, account_sid, conversation_sid, message.sid, "read")
    assert messages(message.sid).fetch().delivery == delivery(2, sent="all", delivered="all", read="all")
    listed = messages.list()
    assert listed[0].delivery == delivery(2, sent="all", delivered="all", read="all")
    assert [r.status for r in messages(message.sid).delivery_receipts.list()] == ["read", "read"]
    moved = messages(message.sid).delivery_receipts(first.sid).fetch()
    assert moved.date_updated >= moved.date_created

    # Failures carry Twilio's error code.
    failing = messages.create(body="will fail")
    doomed, lost = messages(failing.sid).delivery_receipts.list()
    move_receipts(emulator_url, account_sid, conversation_sid, failing.sid, "failed", receipt_sid=doomed.sid, error_code=30008)
    move_receipts(emulator_url, account_sid, conversation_sid, failing.sid, "undelivered", receipt_sid=lost.sid, error_code=30005)
    failed = messages(failing.sid).fetch()
    assert failed.delivery["total"] == 2
    assert (failed.delivery["failed"], failed.delivery["undelivered"], failed.delivery["read"]) == ("some", "some", "none")
    fetched = messages(failing.sid).delivery_receipts(doomed.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 30008)
    fetched = messages(failing.sid).delivery_receipts(lost.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30005)

    # A receipt does not go backwards: read → delivered is refused.
    response = requests.post(
        f"{emulator_url}/_emulator/receipts",
        json={"account_sid": account_sid, "conversation_sid": conversation_sid, "message_sid": message.sid,
              "status": "delivered"},
        timeout=30,
    )
    assert response.status_code == 400, (response.status_code, response.text)
    assert messages(message.sid).fetch().delivery["read"] == "all"


# 4. media


@pytest.fixture
def media_service(form):
    """The service whose media a conversation of this form can use."""
    return form.chat_service_sid


def test_media_message(form, messages, conversation_sid, media_service, account_sid, emulator_url, client):
    media = upload_media(emulator_url, account_sid, media_service)
    assert media["service_sid"] == media_service
    assert (media["size"], media["content_type"], media["filename"]) == (len(JPEG), "image/jpeg", "car.jpg")

    message = messages.create(author="alice", media_sid=media["sid"])
    assert message.body is None
    assert message.media == [
        {"sid": media["sid"], "size": len(JPEG), "content_type": "image/jpeg", "filename": "car.jpg"}
    ]
    fetched = messages(message.sid).fetch()
    assert (fetched.media, fetched.body) == (message.media, None)
    assert [m.media for m in messages.list()] == [message.media]

    # The upload now names its message, and its bytes are still there.
    auth = (account_sid, "any-token")
    metadata = requests.get(f"{emulator_url}/v1/Services/{media_service}/Media/{media['sid']}", auth=auth, timeout=30)
    assert metadata.status_code == 200, metadata.text
    assert (metadata.json()["message_sid"], metadata.json()["channel_sid"]) == (message.sid, conversation_sid)
    content = requests.get(f"{emulator_url}/v1/Services/{media_service}/Media/{media['sid']}/Content", auth=auth, timeout=30)
    assert (content.status_code, content.content, content.headers["Content-Type"]) == (200, JPEG, "image/jpeg")

    # Chat v2 sees the same message as a media message, with one media object.
    chat = client.chat.v2.services(media_service).channels(conversation_sid).messages(message.sid).fetch()
    assert chat.type == "media"
    assert isinstance(chat.media, dict), repr(chat.media)
    assert chat.media["sid"] == media["sid"]
    assert chat.media["content_type"] == "image/jpeg"

    # An upload goes with one message only.
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(media_sid=media["sid"])
    assert_rest_error(excinfo, 400, 50508)
    assert len(messages.list()) == 1


def test_media_errors(form, messages, media_service, service_sid, default_service_sid, account_sid, emulator_url):
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(media_sid="MEnot-a-sid")
    assert_rest_error(excinfo, 400, 50510)

    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(media_sid=MISSING_MEDIA)
    assert_rest_error(excinfo, 400, 50507)

    # Media uploaded to another service is not found from this one.
    other = default_service_sid if media_service == service_sid else service_sid
    elsewhere = upload_media(emulator_url, account_sid, other)
    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(media_sid=elsewhere["sid"])
    assert_rest_error(excinfo, 400, 50507)

    # None of the failures took an index or the upload.
    ok = upload_media(emulator_url, account_sid, media_service, content=b"GIF89a", filename="x.gif", content_type="image/gif")
    message = messages.create(media_sid=ok["sid"])
    assert message.index == 0
    assert message.media[0]["filename"] == "x.gif"

    # The body of a media message cannot be set afterwards.
    with pytest.raises(TwilioRestException) as excinfo:
        messages(message.sid).update(body="caption")
    assert_rest_error(excinfo, 400, 50509)
    assert messages(message.sid).update(attributes='{"seen": true}').media == message.media


# 5. content templates


def test_content_template_message(messages):
    message = messages.create(content_sid=CONTENT_SID, content_variables=json.dumps({"1": "John"}), body="ignored")
    assert message.content_sid == CONTENT_SID
    assert message.body is None
    assert message.media is None
    fetched = messages(message.sid).fetch()
    assert (fetched.content_sid, fetched.body) == (CONTENT_SID, None)

    plain = messages.create(body="plain")
    assert plain.content_sid is None

    with pytest.raises(TwilioRestException) as excinfo:
        messages.create(content_sid=CONTENT_SID, content_variables="{not json")
    assert_rest_error(excinfo, 400, 21656)
    assert [m.sid for m in messages.list()] == [message.sid, plain.sid]


# 6. faults: the SDK surfaces the emulator's Twilio error


def messages_pattern(form):
    return "/v1/Conversations/*/Messages" if form.name == "default" else "/v1/Services/*/Conversations/*/Messages"


def test_injected_429_surfaces_as_twilio_rest_exception(form, messages, account_sid, emulator_url, http_client):
    rule = {
        "method": "POST",
        "path": messages_pattern(form),
        "account": account_sid,
        "error": {"status": 429, "code": 20429, "message": "Too Many Requests", "retry_after_seconds": 1},
        "times": 1,
    }
    with Fault(emulator_url, rule) as fault:
        with pytest.raises(TwilioRestException) as excinfo:
            messages.create(body="throttled")
        assert_rest_error(excinfo, 429, 20429)
        # The SDK prefixes the operation to the error's message.
        assert excinfo.value.msg == "Unable to create record: Too Many Requests", excinfo.value.msg
        assert excinfo.value.method == "POST"
        assert http_client.responses[-1].headers.get("Retry-After") == "1"

        created = messages.create(body="accepted")
        assert created.index == 0
        assert [m.sid for m in messages.list()] == [created.sid]
        assert fault.view()["fired"] == 1
        assert fault.view()["remaining"] == 0


def test_injected_503_on_participant_create(form, participants, account_sid, emulator_url):
    path = "/v1/Conversations/*/Participants" if form.name == "default" else "/v1/Services/*/Conversations/*/Participants"
    rule = {"method": "POST", "path": path, "account": account_sid, "error": {"status": 503}, "times": 1}
    with Fault(emulator_url, rule):
        with pytest.raises(TwilioRestException) as excinfo:
            participants.create(identity="alice")
        assert_rest_error(excinfo, 503, 20503)
        # The faulted request never reached the store: the identity is still free.
        alice = participants.create(identity="alice")
        assert [p.sid for p in participants.list()] == [alice.sid]
