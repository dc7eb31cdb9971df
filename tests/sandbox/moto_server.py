"""moto for the sandbox: IAM and STS on 127.0.0.1, plus control routes moto lacks.

moto's own HTTP API can reset state but cannot age anything: IAM stamps every access key with
the current time, so key-age checks could never be tested. This launcher runs moto's WSGI app
in-process (as moto's ThreadedMotoServer does) behind a small middleware that serves
/_sandbox/* and edits moto's in-memory models directly.

  POST /_sandbox/backdate  {"user": "u", "key_index": 0 | "access_key_id": "AKIA...",
                            "days": 200, "last_used_days": 120 | null, "service": "s3",
                            "region": "us-east-1", "user_days": 400, "account_id": "123456789012"}
  POST /_sandbox/root-keys {"present": true}   GetAccountSummary then reports root access keys
                                               (moto has no root user to give keys to)
  POST /_sandbox/service-credential {"user": "u", "service": "bedrock.amazonaws.com", "days": 200,
                            "expires_in_days": 30 | null, "status": "Active"}
                                               a service-specific credential (moto has none):
                                               IAM ListServiceSpecificCredentials answers with them
  POST /_sandbox/cloudtrail-events {"access_key_id": "AKIA...", "events": [{"source_ip": "198.51.100.7",
                            "vpc_endpoint_id": "vpce-0abc" | null, "user_agent": "...", "region": "us-east-1",
                            "event_source": "s3.amazonaws.com", "event_name": "ListBuckets", "hours_ago": 2,
                            "count": 1}]}
                                               CloudTrail event history (moto has no LookupEvents):
                                               CloudTrail's LookupEvents answers with them
  POST /_sandbox/cloudtrail-rate {"rate": 2, "burst": 2}
                                               LookupEvents' limit per account and region
                                               (default 2/s as AWS; 0 = unlimited)
  GET  /_sandbox/cloudtrail-stats              {"requests": n, "throttled": n, "first": t, "last": t}
  POST /_sandbox/faults {"throttle_rate": 0.3, "seed": 1, "latency_ms": 100,
                         "accounts": {"111111111111": {"throttle_rate": 0.5, "deny": true}}}
                                               that share of AWS requests answer 400 Throttling;
                                               every AWS request waits latency_ms first; the
                                               requests of one account (by the caller's access
                                               key) are throttled at their own rate, or refused
                                               (403 AccessDenied); "deny_actions": ["CreateAccessKey"]
                                               refuses those query actions for everyone;
                                               "mfa_actions": [...] refuses them to long-term keys
                                               (no session token), as an MFA-requiring policy does
  GET  /_sandbox/faults                        {"throttled": {"<account>": n}}: the per-account throttles so far
  GET  /_sandbox/health
Reset with moto's own POST /moto-api/reset.

Usage: moto_server.py [--host 127.0.0.1] [--port 0]   (prints "PORT <n>" once listening)
"""

import argparse
import datetime
import io
import json
import os
import random
import sys
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import AccessKeyLastUsed, AccountSummary, iam_backends

ROOT_KEYS = {"present": False}
_original_summary = AccountSummary.summary_map


def _patched_summary(self):
    summary = dict(_original_summary.fget(self))
    if ROOT_KEYS["present"]:
        summary["AccountAccessKeysPresent"] = 1
    return summary


# moto has no root user to hold keys; let tests say that it has one.
AccountSummary.summary_map = property(_patched_summary)
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def _now():
    # moto keeps naive UTC datetimes
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def backdate(body):
    account = body.get("account_id", DEFAULT_ACCOUNT_ID)
    backend = iam_backends[account]["aws"]
    user_name = body["user"]
    if user_name not in backend.users:
        raise KeyError(f"no IAM user {user_name!r} in account {account}")
    user = backend.users[user_name]
    if "user_days" in body:
        user.create_date = _now() - datetime.timedelta(days=float(body["user_days"]))
    keys = user.access_keys
    if "access_key_id" in body:
        matches = [k for k in keys if k.access_key_id == body["access_key_id"]]
        if not matches:
            raise KeyError(f"user {user_name!r} has no access key {body['access_key_id']}")
        key = matches[0]
    else:
        index = int(body.get("key_index", 0))
        if index >= len(keys):
            raise KeyError(f"user {user_name!r} has {len(keys)} access keys, no index {index}")
        key = keys[index]
    if "days" in body:
        key.create_date = _now() - datetime.timedelta(days=float(body["days"]))
    if "last_used_days" in body:
        if body["last_used_days"] is None:
            key.last_used = None
        else:
            key.last_used = AccessKeyLastUsed(
                timestamp=_now() - datetime.timedelta(days=float(body["last_used_days"])),
                service=body.get("service", "sts"),
                region=body.get("region", "us-east-1"),
            )
    return {
        "user": user_name,
        "access_key_id": key.access_key_id,
        "create_date": key.create_date.isoformat() + "Z",
        "last_used": key.last_used.timestamp.isoformat() + "Z" if key.last_used else None,
    }


# Service-specific credentials (CodeCommit, Keyspaces, Bedrock API keys), which moto lacks:
# IAM's ListServiceSpecificCredentials (UserName or AllUsers, Marker/MaxItems) is answered here in
# IAM's query-protocol shape; tests create them through the control route.
SERVICE_CREDENTIALS = []


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_service_credential(body):
    user = body["user"]
    backend = iam_backends[body.get("account_id", DEFAULT_ACCOUNT_ID)]["aws"]
    if user not in backend.users:
        raise KeyError(f"no IAM user {user!r}")
    created = _now() - datetime.timedelta(days=float(body.get("days", 0)))
    expires = body.get("expires_in_days")
    cred = {
        "UserName": user,
        "Status": body.get("status", "Active"),
        "ServiceUserName": f"{user}-at-{len(SERVICE_CREDENTIALS)}",
        "CreateDate": _iso(created),
        "ServiceSpecificCredentialId": "ACCA" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17)),
        "ServiceName": body.get("service", "codecommit.amazonaws.com"),
    }
    if expires is not None:
        cred["ExpirationDate"] = _iso(_now() + datetime.timedelta(days=float(expires)))
    SERVICE_CREDENTIALS.append(cred)
    return cred


def list_service_credentials(params):
    from xml.sax.saxutils import escape

    creds = SERVICE_CREDENTIALS
    if params.get("AllUsers", ["false"])[0].lower() != "true":
        creds = [c for c in creds if c["UserName"] == params.get("UserName", [""])[0]]
    start = int(params.get("Marker", ["0"])[0] or 0)
    size = int(params.get("MaxItems", ["100"])[0] or 100)
    page = creds[start : start + size]
    more = start + size < len(creds)
    members = "".join(
        "<member>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in c.items()) + "</member>" for c in page
    )
    marker = f"<Marker>{start + size}</Marker>" if more else ""
    return (
        '<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<ListServiceSpecificCredentialsResult><ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"
        f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{marker}</ListServiceSpecificCredentialsResult>"
        "<ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>"
    ).encode()


# CloudTrail event history, which moto lacks: LookupEvents (awsJson1.1, X-Amz-Target
# com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents) over fixture events, per
# account and region, newest first, 90 days kept, paginated with NextToken, and limited per account
# and region like AWS (token bucket, ThrottlingException beyond it).
CLOUDTRAIL_EVENTS = []
CLOUDTRAIL_LIMIT = {"rate": 2.0, "burst": 2.0}
CLOUDTRAIL_STATS = {"requests": 0, "throttled": 0, "first": None, "last": None}
_ct_buckets = {}
_ct_lock = threading.Lock()
LOOKUP_KEYS = {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}


def _key_owner(access_key_id):
    """(account, user) owning an access key, or None."""
    for account in list(iam_backends.keys()):
        backend = iam_backends[account]["aws"]
        for user in backend.users.values():
            if any(k.access_key_id == access_key_id for k in user.access_keys):
                return account, user
    return None


def add_cloudtrail_events(body):
    key_id = body["access_key_id"]
    owner = _key_owner(key_id)
    account, user = (owner[0], owner[1].name) if owner else (body.get("account_id", DEFAULT_ACCOUNT_ID), body.get("user", "unknown"))
    added = 0
    for spec in body.get("events", []):
        count = int(spec.get("count", 1))
        for i in range(count):
            when = _now() - datetime.timedelta(hours=float(spec.get("hours_ago", 1)), minutes=i)
            vpce = spec.get("vpc_endpoint_id")
            record = {
                "eventVersion": "1.10",
                "userIdentity": {
                    "type": "IAMUser",
                    "principalId": "AIDA" + key_id[4:20],
                    "arn": f"arn:aws:iam::{account}:user/{user}",
                    "accountId": account,
                    "accessKeyId": key_id,
                    "userName": user,
                },
                "eventTime": _iso(when),
                "eventSource": spec.get("event_source", "s3.amazonaws.com"),
                "eventName": spec.get("event_name", "ListBuckets"),
                "awsRegion": spec.get("region", "us-east-1"),
                "sourceIPAddress": spec.get("source_ip") or ("10.0.1.23" if vpce else "198.51.100.7"),
                "userAgent": spec.get("user_agent", "aws-cli/2.32.0 md/command#s3.ls"),
                "requestParameters": None,
                "responseElements": None,
                "requestID": f"req-{len(CLOUDTRAIL_EVENTS)}",
                "eventID": f"{len(CLOUDTRAIL_EVENTS):08d}-0000-4000-8000-000000000000",
                "readOnly": True,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
            }
            if vpce:
                record["vpcEndpointId"] = vpce
                record["vpcEndpointAccountId"] = account
            CLOUDTRAIL_EVENTS.append({"account": account, "region": record["awsRegion"], "key": key_id, "user": user, "time": when, "record": record})
            added += 1
    return {"added": added, "account": account, "user": user}


def _ct_error(start_response, code, message, status="400 Bad Request"):
    reply = json.dumps({"__type": code, "message": message}).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(reply)))])
    return [reply]


def _ct_take(account, region):
    rate, burst = CLOUDTRAIL_LIMIT["rate"], CLOUDTRAIL_LIMIT["burst"]
    if rate <= 0:
        return True
    now = time.monotonic()
    with _ct_lock:
        tokens, last = _ct_buckets.get((account, region), (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1:
            _ct_buckets[(account, region)] = (tokens, now)
            return False
        _ct_buckets[(account, region)] = (tokens - 1, now)
        return True


def lookup_events(environ, body, start_response):
    import re

    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/cloudtrail/aws4_request", auth)
    if not m:
        return _ct_error(start_response, "UnrecognizedClientException", "The security token included in the request is invalid.")
    region = m.group(2)
    account = caller_account(environ) or DEFAULT_ACCOUNT_ID
    now = time.time()
    with _ct_lock:
        CLOUDTRAIL_STATS["requests"] += 1
        CLOUDTRAIL_STATS["first"] = CLOUDTRAIL_STATS["first"] or now
        CLOUDTRAIL_STATS["last"] = now
    if not _ct_take(account, region):
        with _ct_lock:
            CLOUDTRAIL_STATS["throttled"] += 1
        return _ct_error(start_response, "ThrottlingException", "Rate exceeded")
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        return _ct_error(start_response, "SerializationException", "Start of structure or map found where not expected.")
    attrs = req.get("LookupAttributes") or []
    if len(attrs) > 1 or any(a.get("AttributeKey") not in LOOKUP_KEYS or not a.get("AttributeValue") for a in attrs):
        return _ct_error(start_response, "InvalidLookupAttributesException", "You can only specify one lookup attribute with a valid key and value.")
    max_results = int(req.get("MaxResults", 50))
    if not 1 <= max_results <= 50:
        return _ct_error(start_response, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    end = datetime.datetime.fromtimestamp(float(req.get("EndTime", now)), datetime.timezone.utc).replace(tzinfo=None)
    start = datetime.datetime.fromtimestamp(float(req.get("StartTime", now - 90 * 86400)), datetime.timezone.utc).replace(tzinfo=None)
    if start > end:
        return _ct_error(start_response, "InvalidTimeRangeException", "Start time must be before end time.")
    oldest = _now() - datetime.timedelta(days=90)
    field = {"AccessKeyId": "key", "Username": "user"}
    matches = [
        e for e in CLOUDTRAIL_EVENTS
        if e["account"] == account and e["region"] == region and max(start, oldest) <= e["time"] <= end
        and all(
            (e[field[a["AttributeKey"]]] if a["AttributeKey"] in field else e["record"].get(a["AttributeKey"][0].lower() + a["AttributeKey"][1:])) == a["AttributeValue"]
            for a in attrs
        )
    ]
    matches.sort(key=lambda e: e["time"], reverse=True)
    token = req.get("NextToken")
    offset = 0
    if token:
        if not (token.startswith("ct-") and token[3:].isdigit()):
            return _ct_error(start_response, "InvalidNextTokenException", "Invalid NextToken.")
        offset = int(token[3:])
    page = matches[offset : offset + max_results]
    events = [
        {
            "EventId": e["record"]["eventID"],
            "EventName": e["record"]["eventName"],
            "ReadOnly": "true",
            "AccessKeyId": e["key"],
            "EventTime": e["time"].replace(tzinfo=datetime.timezone.utc).timestamp(),
            "EventSource": e["record"]["eventSource"],
            "Username": e["user"],
            "Resources": [],
            "CloudTrailEvent": json.dumps(e["record"]),
        }
        for e in page
    ]
    out = {"Events": events}
    if offset + max_results < len(matches):
        out["NextToken"] = f"ct-{offset + max_results}"
    reply = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(reply)))])
    return [reply]


DENIED = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>AccessDenied</Code><Message>User is not authorized to perform this action (sandbox fault)</Message></Error>"
    b"<RequestId>sandbox</RequestId></ErrorResponse>"
)


def caller_account(environ):
    """The account of the request's signing key (moto's own mapping), or None when unsigned."""
    import re

    from moto.iam.models import get_account_id_from

    m = re.search(r"Credential=([A-Z0-9]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(m.group(1)) if m else None


THROTTLED = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>"
)


class Control:
    def __init__(self, app):
        self.app = app
        self.throttle_rate = 0.0
        self.rng = random.Random(0)
        self.latency = 0.0
        self.accounts = {}
        self.deny_actions = []
        self.mfa_actions = []
        self.lock = threading.Lock()

    def aws(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if self.latency:
            time.sleep(self.latency)
        if self.throttle_rate and self.rng.random() < self.throttle_rate:
            start_response("400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(THROTTLED)))])
            return [THROTTLED]
        action = next((a for a in self.deny_actions if f"Action={a}&".encode() in body + b"&"), None)
        # IAM policies that require MFA refuse long-term keys: only session credentials pass.
        needs_mfa = not environ.get("HTTP_X_AMZ_SECURITY_TOKEN") and any(
            f"Action={a}&".encode() in body + b"&" for a in self.mfa_actions
        )
        if action or needs_mfa:
            start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(DENIED)))])
            return [DENIED]
        fault = self.accounts.get(caller_account(environ)) if self.accounts else None
        if fault and fault.get("deny"):
            start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(DENIED)))])
            return [DENIED]
        if fault and fault.get("throttle_rate"):
            with self.lock:
                throttled = fault["rng"].random() < float(fault["throttle_rate"])
                fault["throttled"] = fault.get("throttled", 0) + throttled
            if throttled:
                start_response("400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(THROTTLED)))])
                return [THROTTLED]
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith("CloudTrail_20131101.LookupEvents"):
            return lookup_events(environ, body, start_response)
        if b"Action=ListServiceSpecificCredentials" in body:
            from urllib.parse import parse_qs

            reply = list_service_credentials(parse_qs(body.decode()))
            start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(reply)))])
            return [reply]
        return self.app(environ, start_response)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_sandbox/"):
            return self.aws(environ, start_response)
        request = Request(environ)
        try:
            if path == "/_sandbox/health":
                result, status = {"ok": True, "services": ["iam", "sts", "cloudtrail"]}, 200
            elif path == "/_sandbox/backdate" and request.method == "POST":
                result, status = backdate(json.loads(request.get_data() or b"{}")), 200
            elif path == "/_sandbox/service-credential" and request.method == "POST":
                result, status = add_service_credential(json.loads(request.get_data() or b"{}")), 200
            elif path == "/_sandbox/cloudtrail-events" and request.method == "POST":
                result, status = add_cloudtrail_events(json.loads(request.get_data() or b"{}")), 200
            elif path == "/_sandbox/cloudtrail-rate" and request.method == "POST":
                body = json.loads(request.get_data() or b"{}")
                CLOUDTRAIL_LIMIT.update(rate=float(body.get("rate", 2)), burst=float(body.get("burst", 2)))
                _ct_buckets.clear()
                result, status = dict(CLOUDTRAIL_LIMIT), 200
            elif path == "/_sandbox/cloudtrail-stats":
                result, status = dict(CLOUDTRAIL_STATS), 200
            elif path == "/_sandbox/root-keys" and request.method == "POST":
                ROOT_KEYS["present"] = bool(json.loads(request.get_data() or b"{}").get("present", True))
                result, status = {"root_keys": ROOT_KEYS["present"]}, 200
            elif path == "/_sandbox/faults" and request.method == "GET":
                result, status = {"throttled": {a: f.get("throttled", 0) for a, f in self.accounts.items()}}, 200
            elif path == "/_sandbox/faults" and request.method == "POST":
                body = json.loads(request.get_data() or b"{}")
                self.throttle_rate = float(body.get("throttle_rate", 0.0))
                self.rng = random.Random(body.get("seed", 0))
                self.latency = float(body.get("latency_ms", 0)) / 1000.0
                self.deny_actions = list(body.get("deny_actions") or [])
                self.mfa_actions = list(body.get("mfa_actions") or [])
                self.accounts = {
                    str(a): dict(f, rng=random.Random(body.get('seed', 0))) for a, f in (body.get("accounts") or {}).items()
                }
                result, status = {"throttle_rate": self.throttle_rate, "latency_ms": self.latency * 1000, "accounts": sorted(self.accounts)}, 200
            else:
                result, status = {"error": f"no control route {request.method} {path}"}, 404
        except (KeyError, ValueError, TypeError) as e:
            result, status = {"error": str(e)}, 400
        return Response(json.dumps(result), status=status, mimetype="application/json")(
            environ, start_response
        )


def exit_with_parent(parent):
    # The harness may die without killing us; never outlive it.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    app = Control(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
