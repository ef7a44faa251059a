"""Our SigV4 signer (storage_sigv4_tool) against botocore's S3SigV4Auth, Debian's python3-botocore,
as an offline oracle: the same inputs must give byte-identical Authorization headers. botocore
encodes the query itself from raw parameters, so query canonicalisation is checked independently."""
import datetime
import os
import subprocess
import urllib.parse

import pytest

import botocore.auth as ba  # Debian's python3-botocore (tools/install_deps.sh)
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOOL = os.environ.get("SIGV4_TOOL", "")
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_auth(url, params, headers, region, amz_date, token=None):
    ts = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")

    class FrozenDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return ts

    req = AWSRequest(method="GET", url=url, params=params, headers=dict(headers))
    orig = ba.datetime.datetime
    ba.datetime.datetime = FrozenDateTime
    try:
        ba.S3SigV4Auth(Credentials(KEY, SECRET, token), "s3", region).add_auth(req)
    finally:
        ba.datetime.datetime = orig
    return req.headers["Authorization"]


def our_auth(host, path, params, headers, region, amz_date, token=None):
    args = [TOOL, "GET", host, path, amz_date, KEY, SECRET, region, "s3", EMPTY]
    if token:
        args += ["-t", token]
    for k, v in params:
        args += ["-q", k, v]
    for k, v in headers:
        args += ["-h", k, v]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


CASES = [
    # (bucket, key, query params as our S3 client sends them)
    ("models", "", [("list-type", "2"), ("prefix", "resnet/"), ("delimiter", "/")]),
    ("models", "", [("list-type", "2"), ("prefix", "a b/c+d=e&f/"), ("continuation-token", "1/abc+/def==")]),
    ("models", "", [("list-type", "2"), ("prefix", "")]),
    ("models", "resnet/1/model.onnx", []),
    ("models", "dir with space/file+plus=eq.bin", []),
    ("my-bucket", "unicode/modèle-ünïcode/1/weights~v2.bin", []),
    ("b", "a/b/c/d/e/f/g/h/i/j/very_long_name_" + "x" * 200 + ".onnx", []),
]


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1"])
@pytest.mark.parametrize("bucket,key,params", CASES)
@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEJr//////////wEaDOtoken+with/slash=="])
def test_matches_botocore(bucket, key, params, region, token):
    assert TOOL and os.path.exists(TOOL), "SIGV4_TOOL must name the built storage_sigv4_tool"
    host = "127.0.0.1:4568"
    path = "/" + bucket + ("/" + urllib.parse.quote(key, safe="/-_.~") if key else "")
    amz_date = "20261127T101500Z"
    headers = [("x-amz-content-sha256", EMPTY)]
    if token:
        headers.append(("x-amz-security-token", token))
    expected = botocore_auth("http://" + host + path, dict(params), headers, region, amz_date, token)
    ours = our_auth(host, path, params, [("x-amz-content-sha256", EMPTY)], region, amz_date, token)
    assert ours == expected


def test_a_wrong_secret_differs():
    """The comparison can fail: a different secret gives a different signature."""
    host, path, amz_date = "127.0.0.1:4568", "/models/x", "20261127T101500Z"
    expected = botocore_auth("http://" + host + path, {}, [("x-amz-content-sha256", EMPTY)], "us-east-1", amz_date)
    args = [TOOL, "GET", host, path, amz_date, KEY, SECRET + "x", "us-east-1", "s3", EMPTY, "-h",
            "x-amz-content-sha256", EMPTY]
    ours = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    assert ours != expected
