"""Every error path answers in CCE's JSON, so the official SDK (whose CCE exception handler
calls `json.loads` on every error body) raises `ClientRequestException` with a CCE code:
unknown route, 405, 413, unsupported content type, 429 throttled."""

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcce.v3 import CceClient, CreatePostCheckRequest, PostcheckClusterRequestBody, PostcheckSpec

from conftest import CLUSTER, PROJECT


def client(base: str, ak: str, sk: str) -> CceClient:
    return CceClient.new_builder().with_credentials(BasicCredentials(ak, sk, PROJECT)).with_endpoints([base]).build()


def http_info(cce: CceClient, version: str = "v1.35"):
    """What the SDK's own create_post_check would send, to be bent one way or another."""
    spec = PostcheckSpec(cluster_id=CLUSTER, cluster_version=version, target_version="v1.36")
    request = CreatePostCheckRequest(cluster_id=CLUSTER, body=PostcheckClusterRequestBody(api_version="v3", kind="PostCheckTask", spec=spec))
    return cce._create_post_check_http_info(request)


def raised(cce: CceClient, info: dict) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        cce._call_api(**info)
    return caught.value


def test_an_unknown_route_raises_404_with_cces_code(service):
    cce = client(service.base, service.ak, service.sk)
    info = http_info(cce)
    info["resource_path"] = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/nothing-here"
    error = raised(cce, info)
    assert (error.status_code, error.error_code) == (404, "CCE.01404001")
    assert error.request_id


def test_a_method_the_route_does_not_take_raises_405_with_cces_code(service):
    cce = client(service.base, service.ak, service.sk)
    info = http_info(cce)
    info["method"] = "DELETE"
    error = raised(cce, info)
    assert (error.status_code, error.error_code) == (405, "CCE.01405001")


def test_a_body_over_the_limit_raises_413_with_cces_code(service):
    cce = client(service.base, service.ak, service.sk)
    error = raised(cce, http_info(cce, version="v1." + "1" * 70000))
    assert (error.status_code, error.error_code) == (413, "CCE.01413001")


def test_an_unsupported_content_type_raises_400_with_cces_code(service):
    cce = client(service.base, service.ak, service.sk)
    info = http_info(cce)
    info["header_params"] = {"Content-Type": "text/plain"}
    error = raised(cce, info)
    assert (error.status_code, error.error_code) == (400, "CCE.01400006")


def test_throttled_authentication_raises_429_with_cces_code(strict_service):
    wrong = client(strict_service.base, strict_service.ak, "not-the-secret-key")
    first = raised(wrong, http_info(wrong))
    assert (first.status_code, first.error_code) == (401, "CCE.01401001")
    second = raised(wrong, http_info(wrong))
    assert (second.status_code, second.error_code) == (429, "CCE.02429001")
