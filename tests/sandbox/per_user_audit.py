"""The per-user approach to auditing access keys, as most scripts and older tools do it: list
users, then for every user list keys, each key's last use, inline and attached policies, groups,
login profile and tags. The baseline for aws-keyaudit's call count in `make bench`.
Prints {"calls": N, "users": U, "keys": K}."""
import json

import boto3
import botocore

iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
calls = 0


def call(fn, **kw):
    global calls
    calls += 1
    try:
        return fn(**kw)
    except botocore.exceptions.ClientError:
        return {}


users, keys, marker = [], 0, None
while True:
    page = call(iam.list_users, **({"Marker": marker} if marker else {}))
    users += page.get("Users", [])
    marker = page.get("Marker")
    if not page.get("IsTruncated"):
        break
for u in users:
    name = u["UserName"]
    for k in call(iam.list_access_keys, UserName=name).get("AccessKeyMetadata", []):
        keys += 1
        call(iam.get_access_key_last_used, AccessKeyId=k["AccessKeyId"])
    call(iam.list_user_policies, UserName=name)
    call(iam.list_attached_user_policies, UserName=name)
    call(iam.list_groups_for_user, UserName=name)
    call(iam.get_login_profile, UserName=name)
    call(iam.list_user_tags, UserName=name)
print(json.dumps({"calls": calls, "users": len(users), "keys": keys}))
