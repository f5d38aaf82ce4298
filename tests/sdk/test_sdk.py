"""The official Huawei Cloud Python SDK (`huaweicloudsdkcce`), unchanged, against
`postcheck serve`: default AK/SK signing, `.with_endpoints([...])`, CCE's error codes as
the SDK parses them."""

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcce.v3 import (
    CceClient,
    CreatePostCheckRequest,
    PostcheckClusterRequestBody,
    PostcheckSpec,
)

from conftest import CLUSTER, OTHER_PROJECT, PROJECT


def client(base: str, ak: str, sk: str, project: str) -> CceClient:
    return CceClient.new_builder().with_credentials(BasicCredentials(ak, sk, project)).with_endpoints([base]).build()


def post_check_request(target: str = "v1.36", source: str = "v1.35") -> CreatePostCheckRequest:
    spec = PostcheckSpec(cluster_id=CLUSTER, cluster_version=source, target_version=target)
    return CreatePostCheckRequest(cluster_id=CLUSTER, body=PostcheckClusterRequestBody(api_version="v3", kind="PostCheckTask", spec=spec))


def test_create_post_check_returns_the_task(service):
    response = client(service.base, service.ak, service.sk, PROJECT).create_post_check(post_check_request())
    assert response.kind == "PostCheckTask"
    assert response.api_version == "v3"
    assert len(response.metadata.uid) == 36
    assert response.spec.cluster_id == CLUSTER
    assert response.spec.target_version == "v1.36"
    assert response.status.phase == "Success", response


def test_a_wrong_sk_raises_401_with_cces_code(service):
    with pytest.raises(ClientRequestException) as raised:
        client(service.base, service.ak, "not-the-secret-key", PROJECT).create_post_check(post_check_request())
    assert raised.value.status_code == 401
    assert raised.value.error_code == "CCE.01401001"
    assert raised.value.request_id, "the SDK reads X-Request-Id"


def test_a_foreign_project_raises_403_with_cces_code(service):
    # A valid key pair of another project, used on this project's cluster.
    with pytest.raises(ClientRequestException) as raised:
        client(service.base, service.other_ak, service.other_sk, PROJECT).create_post_check(post_check_request())
    assert raised.value.status_code == 403
    assert raised.value.error_code == "CCE.01403001"


def test_a_target_lower_than_the_source_raises_400_with_cces_code(service):
    with pytest.raises(ClientRequestException) as raised:
        client(service.base, service.ak, service.sk, PROJECT).create_post_check(post_check_request(target="v1.30", source="v1.35"))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "CCE.01400015"


def test_an_unregistered_cluster_of_another_project_raises_404(service):
    with pytest.raises(ClientRequestException) as raised:
        client(service.base, service.other_ak, service.other_sk, OTHER_PROJECT).create_post_check(post_check_request())
    assert raised.value.status_code == 404
    assert raised.value.error_code == "CCE.01404001"
