"""Schemathesis hooks: every SID in a generated path names a resource that exists.

Loaded through SCHEMATHESIS_HOOKS=hooks (with this directory on PYTHONPATH). On import it
seeds the emulator at EMULATOR_URL, as the account in EMULATOR_CREDENTIALS ("AC…:token"),
through the API itself: a service, conversations on both URL forms, participants (one of
them SMS, so that messages have receipts), a message, a user in a conversation, roles,
a credential, an address configuration and conversation webhooks. `map_path_parameters`
then fills each path parameter with the SID of the resource it names; a DELETE gets a
resource made for it, so that every operation finds what it addresses however many
deletes run before it.
"""

import base64
import itertools
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid

import schemathesis

BASE = os.environ["EMULATOR_URL"].rstrip("/")
AUTHORIZATION = "Basic " + base64.b64encode(os.environ["EMULATOR_CREDENTIALS"].encode()).decode()
COUNTER = itertools.count(1)


def call(method, path, **form):
    """One request to the emulator; its JSON answer. A refusal stops the run: the hooks
    only make what the API must accept."""
    data = urllib.parse.urlencode(form).encode() if method == "POST" else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", AUTHORIZATION)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"seeding {method} {path} answered {error.code}: {error.read()!r}") from error
    return json.loads(body) if body else {}


# Names unique to this run: both specs' runs seed the same emulator.
RUN = uuid.uuid4().hex[:8]


def unique(prefix):
    return f"{prefix}{RUN}-{next(COUNTER)}"


def phone():
    return f"+1{int(RUN, 16) % 1000:03d}{next(COUNTER):07d}"


class Scope:
    """The resources of one service: the account's default (`/v1/Conversations/…`) or an
    explicit one (`/v1/Services/{IS}/…` and Chat v2)."""

    def __init__(self, service):
        self.service = service
        self.prefix = f"/v1/Services/{service}"
        self.conversation = self.make("conversation")
        self.user = self.make("user")
        call("POST", f"{self.prefix}/Conversations/{self.conversation}/Participants", Identity=self.user_identity)
        self.participant = self.make("participant")
        call(
            "POST",
            f"{self.prefix}/Conversations/{self.conversation}/Participants",
            **{"MessagingBinding.Address": phone(), "MessagingBinding.ProxyAddress": "+15017122661"},
        )
        self.message = self.make("message")
        receipts = call("GET", f"{self.prefix}/Conversations/{self.conversation}/Messages/{self.message}/Receipts")
        self.receipt = receipts["delivery_receipts"][0]["sid"]
        self.webhook = self.make("webhook")
        self.role = self.make("role")

    def make(self, kind):
        """A new resource of `kind` in this service; its SID."""
        conversation = f"{self.prefix}/Conversations/{getattr(self, 'conversation', '')}"
        if kind == "conversation":
            return call("POST", f"{self.prefix}/Conversations", FriendlyName="seeded")["sid"]
        if kind == "user":
            self.user_identity = unique("user-")
            return call("POST", f"{self.prefix}/Users", Identity=self.user_identity)["sid"]
        if kind == "participant":
            return call("POST", f"{conversation}/Participants", Identity=unique("participant-"))["sid"]
        if kind == "message":
            return call("POST", f"{conversation}/Messages", Body="seeded", Author="seeded")["sid"]
        if kind == "webhook":
            form = {"Target": "webhook", "Configuration.Url": "http://127.0.0.1:9/hook", "Configuration.Filters": "onMessageAdded"}
            return call("POST", f"{conversation}/Webhooks", **form)["sid"]
        if kind == "role":
            form = {"FriendlyName": unique("role-"), "Type": "conversation", "Permission": "sendMessage"}
            return call("POST", f"{self.prefix}/Roles", **form)["sid"]
        if kind == "service":
            return call("POST", "/v1/Services", FriendlyName=unique("service-"))["sid"]
        if kind == "credential":
            return call("POST", "/v1/Credentials", Type="fcm", Secret="seeded")["sid"]
        if kind == "address":
            return call("POST", "/v1/Configuration/Addresses", Type="sms", Address=phone())["sid"]
        return None


DEFAULT = Scope(call("GET", "/v1/Configuration")["default_chat_service_sid"])
EXPLICIT = Scope(DEFAULT.make("service"))
CREDENTIAL = DEFAULT.make("credential")
ADDRESS = DEFAULT.make("address")

# What the segment before a `{Sid}` names.
KINDS = {
    "Conversations": "conversation",
    "Channels": "conversation",
    "Messages": "message",
    "Participants": "participant",
    "Members": "participant",
    "Receipts": "receipt",
    "Webhooks": "webhook",
    "Users": "user",
    "Roles": "role",
    "Services": "service",
    "Credentials": "credential",
    "Addresses": "address",
}
# Resources shared by the whole account rather than one service.
ACCOUNT_WIDE = {"service": EXPLICIT.service, "credential": CREDENTIAL, "address": ADDRESS}
# Named parameters, whatever the path.
NAMED = {
    "ChatServiceSid": "service",
    "ServiceSid": "service",
    "ConversationSid": "conversation",
    "ChannelSid": "conversation",
    "MessageSid": "message",
    "UserSid": "user",
}


def seeded(scope, kind, fresh):
    """The SID of the seeded resource of `kind`, or (`fresh`) of a new one. A new one cannot
    always be made (a generated update may have closed the conversation): then the seeded
    one is deleted, and the operations after it address a resource that is gone, a 404."""
    shared = ACCOUNT_WIDE.get(kind) or getattr(scope, kind)
    if fresh and kind != "receipt":
        try:
            return scope.make(kind)
        except RuntimeError:
            return shared
    return shared


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return path_parameters
    operation = ctx.operation
    path = operation.path
    scope = EXPLICIT if path.startswith(("/v1/Services/{", "/v2/")) else DEFAULT
    segments = path.strip("/").split("/")
    deleting = operation.method.upper() == "DELETE"
    for name in list(path_parameters):
        if name in NAMED:
            path_parameters[name] = seeded(scope, NAMED[name], fresh=False)
        elif name == "Sid":
            kind = KINDS.get(segments[segments.index("{Sid}") - 1])
            if kind is not None:
                path_parameters[name] = seeded(scope, kind, fresh=deleting)
    return path_parameters
