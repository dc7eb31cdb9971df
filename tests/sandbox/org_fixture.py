"""An AWS Organization in moto for aws-keyaudit's organisation benchmark: N member accounts, each
with one IAM user whose access key is 150 days old (one KA-ROTATE finding per account).

  org_fixture.py N        prints the member account ids as JSON

moto is reached through AWS_ENDPOINT_URL_IAM (tests/sandbox/moto_server.py serves every service
on one port); members are entered through OrganizationAccountAccessRole, as the audit does.
"""
import json
import os
import sys
import urllib.request

import boto3

URL = os.environ["AWS_ENDPOINT_URL_IAM"]
KW = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def main(n):
    org = boto3.client("organizations", **KW)
    org.create_organization(FeatureSet="ALL")
    sts = boto3.client("sts", **KW)
    ids = []
    for i in range(n):
        acct = org.create_account(AccountName=f"member-{i:04d}", Email=f"member-{i:04d}@example.com")["CreateAccountStatus"]["AccountId"]
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]
        iam = boto3.client(
            "iam", endpoint_url=URL, region_name="us-east-1",
            aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
        )
        iam.create_user(UserName="robot")
        iam.create_access_key(UserName="robot")
        body = json.dumps({"user": "robot", "key_index": 0, "days": 150, "account_id": acct}).encode()
        urllib.request.urlopen(urllib.request.Request(URL + "/_sandbox/backdate", data=body, headers={"Content-Type": "application/json"})).read()
        ids.append(acct)
    return ids


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
