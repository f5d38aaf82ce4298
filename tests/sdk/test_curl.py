"""The seed's example request, sent with curl and a token, against a cluster of the real
test control plane, answered in the seed's example shape."""

import json
import subprocess
import tempfile
from pathlib import Path

from conftest import CLUSTER, PROJECT

SEED_REQUEST = {
    "kind": "PostCheckTask",
    "apiVersion": "v3",
    "spec": {
        "clusterID": "8978deaa-1743-11ee-8e46-0255ac10004c",
        "clusterVersion": "v1.15.11-r1",
        "targetVersion": "v1.19.16-r80",
    },
}


def curl_post(service, body: dict) -> tuple[int, dict, str]:
    url = f"{service.base}/api/v3/projects/{PROJECT}/clusters/{CLUSTER}/operation/postcheck"
    with tempfile.TemporaryDirectory() as tmp:
        head_file, body_file = Path(tmp) / "head", Path(tmp) / "body"
        subprocess.run(
            ["curl", "-sS", "-D", str(head_file), "-o", str(body_file), "-X", "POST", url,
             "-H", f"X-Auth-Token: {service.token}", "-H", "Content-Type: application/json",
             "--data", json.dumps(body)],
            capture_output=True, text=True, timeout=120, check=True,
        )
        head = head_file.read_text()
        payload = body_file.read_text()
    status = int(head.split()[1])
    assert payload, f"an empty answer with status {status}: {head}"
    return status, json.loads(payload), head.lower()


def assert_seed_shape(task: dict, spec: dict):
    assert task["kind"] == "PostCheckTask"
    assert task["apiVersion"] == "v3"
    assert isinstance(task["metadata"]["uid"], str) and len(task["metadata"]["uid"]) == 36
    assert task["spec"] == spec
    assert task["status"]["phase"] in ("Success", "Failed", "Error")


def test_the_seed_request_with_curl_gets_the_seed_shape(service):
    status, task, head = curl_post(service, SEED_REQUEST)
    assert status == 200, task
    assert "x-request-id:" in head
    assert_seed_shape(task, SEED_REQUEST["spec"])
    # The test cluster runs Kubernetes 1.36, not the seed's 1.19.16: the cluster was
    # examined and the version item fails, so the verdict is Failed (never Error).
    assert task["status"]["phase"] == "Failed", task
    failed = [i for i in task["status"]["itemsStatus"] if i["phase"] == "Failed"]
    assert any("v1.19.16" in i["message"] for i in failed), task


def test_the_seed_request_for_the_real_versions_succeeds(service):
    body = json.loads(json.dumps(SEED_REQUEST))
    body["spec"]["clusterVersion"] = "v1.35"
    body["spec"]["targetVersion"] = "v1.36"
    status, task, _ = curl_post(service, body)
    assert status == 200, task
    assert_seed_shape(task, body["spec"])
    assert task["status"]["phase"] == "Success", task
