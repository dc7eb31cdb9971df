"""Builds IAM users, keys and policies in moto for aws-keyaudit's tests, demo and benchmark.

  keyaudit_fixture.py scenario        every check and every IP verdict, one user each
  keyaudit_fixture.py bulk N          N users, every second one with an access key
  keyaudit_fixture.py events K        K CloudTrail calls for every access key (each key from its own address)

IAM is reached through AWS_ENDPOINT_URL_IAM (moto, started by tests/sandbox/moto_server.py);
key ages are set through its /_sandbox/backdate route. Prints a JSON summary.
"""
import json
import os
import sys
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL_IAM"]
iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def backdate(**body):
    req = urllib.request.Request(ENDPOINT + "/_sandbox/backdate", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
DENY_IP = {
    "Sid": "DenyOutsideOffice",
    "Effect": "Deny",
    "Action": "*",
    "Resource": "*",
    "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}, "Bool": {"aws:ViaAWSService": "false"}},
}


def user(name, keys=1, tags=None, password=False):
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    if password:
        iam.create_login_profile(UserName=name, Password="Example-Passw0rd!")
    return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]


def scenario():
    owner = {"owner": "platform-team"}
    out = {}
    # Old, long unused, unrestricted, no owner: KA-ROTATE, KA-UNUSED, KA-NO-OWNER-TAG, KA-NO-IP-RESTRICTION (NONE).
    out["old-ci"] = user("old-ci")
    iam.put_user_policy(UserName="old-ci", PolicyName="admin", PolicyDocument=doc(ALLOW_ALL))
    backdate(user="old-ci", key_index=0, days=200, last_used_days=120, service="s3", user_days=400)
    # Restricted by its own inline policy (AWS's documented example): no findings.
    out["office-user"] = user("office-user", tags=owner)
    iam.put_user_policy(UserName="office-user", PolicyName="allow", PolicyDocument=doc(ALLOW_ALL))
    iam.put_user_policy(UserName="office-user", PolicyName="deny-outside-office", PolicyDocument=doc(DENY_IP))
    backdate(user="office-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Restricted through a group's inline policy.
    iam.create_group(GroupName="office")
    iam.put_group_policy(GroupName="office", PolicyName="deny-outside-office", PolicyDocument=doc(DENY_IP))
    out["group-user"] = user("group-user", tags=owner)
    iam.add_user_to_group(GroupName="office", UserName="group-user")
    backdate(user="group-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Restricted through a customer managed policy.
    arn = iam.create_policy(PolicyName="DenyOutsideOffice", PolicyDocument=doc(DENY_IP))["Policy"]["Arn"]
    out["managed-user"] = user("managed-user", tags=owner)
    iam.attach_user_policy(UserName="managed-user", PolicyArn=arn)
    backdate(user="managed-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # The restriction lives in a non-default version: it does not count (NONE).
    arn2 = iam.create_policy(PolicyName="Rewritten", PolicyDocument=doc(DENY_IP))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn2, PolicyDocument=doc(ALLOW_ALL), SetAsDefault=True)
    out["rewritten-user"] = user("rewritten-user", tags=owner)
    iam.attach_user_policy(UserName="rewritten-user", PolicyArn=arn2)
    backdate(user="rewritten-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Allow-only restriction with IfExists: WEAK.
    out["weak-user"] = user("weak-user", tags=owner)
    iam.put_user_policy(UserName="weak-user", PolicyName="allow-office", PolicyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}}}))
    backdate(user="weak-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # A deny that only covers some traffic: PARTIAL.
    out["partial-user"] = user("partial-user", tags=owner)
    iam.put_user_policy(UserName="partial-user", PolicyName="p", PolicyDocument=doc(ALLOW_ALL, {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}))
    backdate(user="partial-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Two denies with disjoint ranges: BROKEN.
    out["broken-user"] = user("broken-user", tags=owner)
    iam.put_user_policy(UserName="broken-user", PolicyName="b", PolicyDocument=doc(ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}))
    backdate(user="broken-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # A "restriction" that allows every address: NONE.
    out["wide-user"] = user("wide-user", tags=owner)
    iam.put_user_policy(UserName="wide-user", PolicyName="w", PolicyDocument=doc(ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}}))
    backdate(user="wide-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Odd documents: scalar values, no Condition, NotAction, NotResource.
    out["odd-user"] = user("odd-user", tags=owner)
    iam.put_user_policy(UserName="odd-user", PolicyName="odd", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x", "Condition": {"NotIpAddressIfExists": {"aws:sourceip": "192.0.2.1"}}}}))
    iam.put_user_policy(UserName="odd-user", PolicyName="plain", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    backdate(user="odd-user", key_index=0, days=10, last_used_days=1, user_days=30)
    # Two active keys: KA-TWO-ACTIVE.
    out["rotating"] = user("rotating", keys=2, tags=owner)
    iam.put_user_policy(UserName="rotating", PolicyName="deny", PolicyDocument=doc(DENY_IP))
    backdate(user="rotating", key_index=0, days=20, last_used_days=1, user_days=30)
    backdate(user="rotating", key_index=1, days=2, last_used_days=1)
    # Console user whose key came with the user and was never used: KA-PWD-AND-KEY, KA-INITIAL-SETUP.
    out["console-user"] = user("console-user", tags=owner, password=True)
    iam.put_user_policy(UserName="console-user", PolicyName="deny", PolicyDocument=doc(DENY_IP))
    backdate(user="console-user", key_index=0, last_used_days=None)
    # An old inactive key: KA-INACTIVE-STALE.
    out["retired"] = user("retired", tags=owner)
    iam.update_access_key(UserName="retired", AccessKeyId=out["retired"][0], Status="Inactive")
    backdate(user="retired", key_index=0, days=300, last_used_days=250, user_days=400)
    # Never used, 60 days old: KA-UNUSED counts never-used keys from creation.
    out["never-used"] = user("never-used", tags=owner)
    iam.put_user_policy(UserName="never-used", PolicyName="deny", PolicyDocument=doc(DENY_IP))
    backdate(user="never-used", key_index=0, days=60, last_used_days=None, user_days=90)
    # Users without keys cost no per-user calls.
    for i in range(20):
        iam.create_user(UserName=f"no-keys-{i:02d}")
    return out


def bulk(n):
    for i in range(n):
        name = f"user-{i:05d}"
        iam.create_user(UserName=name)
        if i % 2 == 0:
            iam.create_access_key(UserName=name)
    return {"users": n, "with_keys": (n + 1) // 2}


def events(k):
    keys = 0
    for page in iam.get_paginator("list_users").paginate():
        for u in page["Users"]:
            for key in iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"]:
                keys += 1
                body = {"access_key_id": key["AccessKeyId"], "events": [{"source_ip": f"198.51.{keys // 250}.{keys % 250 + 1}", "count": k}]}
                req = urllib.request.Request(ENDPOINT + "/_sandbox/cloudtrail-events", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
                urllib.request.urlopen(req).read()
    return {"keys": keys, "events": keys * k}


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "scenario"
    if what == "scenario":
        print(json.dumps(scenario()))
    elif what == "events":
        print(json.dumps(events(int(sys.argv[2]))))
    else:
        print(json.dumps(bulk(int(sys.argv[2]))))
