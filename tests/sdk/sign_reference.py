"""Prints the SDK-HMAC-SHA256 signature that the official SDK's own signer makes for the
request in `crates/server/src/auth/signer.rs`'s test `matches_a_signature_made_by_the_python_sdk`.

    python3 tests/sdk/sign_reference.py

The Rust test pins this value, so the service's verifier is checked against the SDK's
signer itself, not against our reading of it. `test_signer_reference.py` re-runs it.
"""

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

PATH = ("/api/v3/projects/e9993fc787d94b6c886cbaa340f9c0f4/clusters/"
        "8978deaa-1743-11ee-8e46-0255ac10004c/operation/postcheck")


def reference_signature() -> str:
    request = SdkRequest(
        method="POST",
        schema="http",
        host="127.0.0.1:39773",
        resource_path=PATH,
        query_params=[],
        header_params={
            "Content-Type": "application/json",
            "User-Agent": "huaweicloud-usdk-python/3.0",
            "X-Project-Id": "e9993fc787d94b6c886cbaa340f9c0f4",
            "X-Sdk-Date": "20261129T043543Z",
        },
        body='{"a":1}',
    )
    signed = Signer(BasicCredentials("AKEXAMPLE", "SKEXAMPLE", "e9993fc787d94b6c886cbaa340f9c0f4")).sign(request)
    auth = signed.header_params["Authorization"]
    assert "SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date" in auth, auth
    return auth.rsplit("Signature=", 1)[1]


if __name__ == "__main__":
    print(reference_signature())
