"""A body over the emulator's limit (1 MiB by default) gets Twilio's 413 JSON, not a broken
pipe, from clients that send the whole body before reading the answer: Python's urllib,
and requests through twilio-python. Twenty attempts of each size on both URL forms."""

import base64
import json
import urllib.error
import urllib.request

import pytest
from twilio.base.exceptions import TwilioRestException

ATTEMPTS = 20
SIZES_MB = [2, 5, 20]


@pytest.fixture(scope="module")
def conversation_paths(client, account_sid):
    service = client.conversations.v1.services.create(friendly_name="oversized")
    on_default = client.conversations.v1.conversations.create()
    on_service = client.conversations.v1.services(service.sid).conversations.create()
    return {
        "default": (None, on_default.sid, f"/v1/Conversations/{on_default.sid}/Messages"),
        "service": (service.sid, on_service.sid, f"/v1/Services/{service.sid}/Conversations/{on_service.sid}/Messages"),
    }


@pytest.mark.parametrize("form", ["default", "service"])
@pytest.mark.parametrize("megabytes", SIZES_MB)
def test_urllib_reads_the_413_every_time(emulator_url, account_sid, conversation_paths, form, megabytes):
    _, _, path = conversation_paths[form]
    body = b"Body=" + b"a" * (megabytes * 1024 * 1024)
    credentials = base64.b64encode(f"{account_sid}:token".encode()).decode()
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(emulator_url + path, data=body, method="POST")
        request.add_header("Authorization", f"Basic {credentials}")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        answer = json.loads(refused.value.read())
        assert (refused.value.code, answer["code"]) == (413, 20413), f"attempt {attempt}: {answer}"


@pytest.mark.parametrize("form", ["default", "service"])
@pytest.mark.parametrize("megabytes", SIZES_MB)
def test_the_sdk_raises_twilios_413_every_time(client, conversation_paths, form, megabytes):
    service_sid, conversation_sid, _ = conversation_paths[form]
    root = client.conversations.v1 if service_sid is None else client.conversations.v1.services(service_sid)
    messages = root.conversations(conversation_sid).messages
    text = "a" * (megabytes * 1024 * 1024)
    for attempt in range(ATTEMPTS):
        with pytest.raises(TwilioRestException) as refused:
            messages.create(body=text)
        assert (refused.value.status, refused.value.code) == (413, 20413), f"attempt {attempt}: {refused.value}"
