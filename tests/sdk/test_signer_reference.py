"""The Rust verifier's pinned SDK-HMAC-SHA256 vector is what the SDK's own signer makes."""

import re
from pathlib import Path

from sign_reference import reference_signature

SIGNER_RS = Path(__file__).resolve().parents[2] / "crates/server/src/auth/signer.rs"


def test_the_pinned_signature_is_the_sdks():
    pinned = re.search(r'PYTHON_SDK_SIGNATURE: &str =\s*"([0-9a-f]{64})"', SIGNER_RS.read_text()).group(1)
    assert reference_signature() == pinned
