"""The backup bucket's policy, request by request: every request of a multipart upload and of a
small upload as the Velero AWS plugin sends them (velero-plugin-for-aws@release-1.14:
object_store.go PutObject sets aws:kms and the key on the upload; the SDK's manager.Uploader
goes multipart from 5 MiB, aws-sdk-go-v2 feature/s3/manager/upload.go MinUploadPartSize), with
the stack key, another key, other encryption and none; and reads by Velero, a break-glass
role and an administrator."""

from __future__ import annotations

import pytest

from design.backup import SSE_HEADER, SSE_KEY_HEADER, bucket_policy
from tests.support.iam_eval import Request, condition_holds, denied_by

BUCKET = "arn:aws:s3:::eks-prod-velero-123456789012"
OBJECT = f"{BUCKET}/backups/nightly-20261201013000/nightly-20261201013000.tar.gz"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
VELERO = "arn:aws:iam::123456789012:role/eks-prod-velero"
BREAK_GLASS = "arn:aws:iam::123456789012:role/backup-break-glass"
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
POLICY = bucket_policy(bucket_arn=BUCKET, key_arn=KEY, readers=[VELERO, BREAK_GLASS])


def put(principal: str = VELERO, **headers: str) -> Request:
    """An s3:PutObject-authorised request (PutObject, CreateMultipartUpload, UploadPart,
    CompleteMultipartUpload all are: S3 User Guide, mpuoverview.html, "Multipart upload API
    and permissions") over TLS, with the SSE headers given."""
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": principal}
    if "sse" in headers:
        context[SSE_HEADER] = headers["sse"]
    if "key" in headers:
        context[SSE_KEY_HEADER] = headers["key"]
    return Request("s3:PutObject", OBJECT, context)


def multipart(**create_headers: str) -> dict[str, Request]:
    return {
        "CreateMultipartUpload": put(**create_headers),
        "UploadPart 1": put(),
        "UploadPart 2": put(),
        "CompleteMultipartUpload": put(),
    }


def test_every_request_of_a_multipart_upload_with_the_stack_key_passes():
    for name, request in multipart(sse="aws:kms", key=KEY).items():
        assert denied_by(POLICY, request) == [], name


def test_a_small_upload_with_the_stack_key_passes():
    assert denied_by(POLICY, put(sse="aws:kms", key=KEY)) == []


def test_an_upload_without_headers_passes_and_gets_the_buckets_default_the_stack_key():
    assert denied_by(POLICY, put()) == []


@pytest.mark.parametrize(
    ("headers", "sid"),
    [
        ({"sse": "aws:kms", "key": OTHER_KEY}, "DenyOtherKeys"),
        ({"sse": "AES256"}, "DenyOtherEncryption"),
        ({"sse": "aws:kms:dsse", "key": KEY}, "DenyOtherEncryption"),
        ({"sse": "aws:kms"}, "DenyTheAwsManagedKey"),
    ],
)
def test_another_key_or_encryption_is_refused_at_the_first_request(headers, sid):
    assert denied_by(POLICY, put(**headers)) == [sid]
    requests = multipart(**headers)
    assert denied_by(POLICY, requests.pop("CreateMultipartUpload")) == [sid]
    # The parts never start: S3 refuses UploadPart for an upload it never created.
    assert all(denied_by(POLICY, r) == [] for r in requests.values())


def test_plain_http_is_refused_for_every_request():
    request = put(sse="aws:kms", key=KEY)
    request.context["aws:SecureTransport"] = "false"  # type: ignore[index]
    assert denied_by(POLICY, request) == ["DenyInsecureTransport"]


@pytest.mark.parametrize(
    ("principal", "denied"), [(VELERO, []), (BREAK_GLASS, []), (ADMIN, ["DenyOtherReaders"])]
)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
def test_only_velero_and_the_break_glass_principals_read_backups(principal, denied, action):
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": principal}
    assert denied_by(POLICY, Request(action, OBJECT, context)) == denied


def test_listing_and_deleting_are_not_limited_by_the_read_rule():
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": ADMIN}
    assert denied_by(POLICY, Request("s3:ListBucket", BUCKET, context)) == []


def test_the_former_ifexists_rule_denied_every_part_the_evaluator_shows_it():
    """The rule this replaces: with ...IfExists, a part without the header matched the Deny."""
    former = {
        "Statement": [
            {
                "Sid": "DenyOtherKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET}/*",
                "Condition": {"StringNotEqualsIfExists": {SSE_KEY_HEADER: KEY}},
            }
        ]
    }
    results = {n: denied_by(former, r) for n, r in multipart(sse="aws:kms", key=KEY).items()}
    assert results == {
        "CreateMultipartUpload": [],
        "UploadPart 1": ["DenyOtherKeys"],
        "UploadPart 2": ["DenyOtherKeys"],
        "CompleteMultipartUpload": ["DenyOtherKeys"],
    }


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"StringNotEquals": {"k": "a"}}, {}, True),  # negated, key absent: true
        ({"StringEquals": {"k": "a"}}, {}, False),
        ({"StringNotEqualsIfExists": {"k": "a"}}, {}, True),
        ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
        ({"Null": {"k": "true"}}, {}, True),
        ({"Null": {"k": "false"}}, {}, False),
        ({"Null": {"k": "false"}}, {"k": "x"}, True),
        ({"StringNotEquals": {"k": "a"}, "Null": {"k": "false"}}, {}, False),
        ({"ArnNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
        ({"ArnNotEquals": {"k": ["a", "b"]}}, {"k": "c"}, True),
        ({"Bool": {"k": "false"}}, {"k": "FALSE"}, True),
    ],
)
def test_the_evaluator_follows_the_iam_rules_for_absent_keys(condition, context, holds):
    assert condition_holds(condition, context) is holds


def test_the_evaluator_refuses_operators_it_does_not_model():
    with pytest.raises(ValueError, match="NumericLessThan"):
        condition_holds({"NumericLessThan": {"k": "1"}}, {"k": "0"})
