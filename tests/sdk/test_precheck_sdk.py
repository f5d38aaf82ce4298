"""CCE's pre-upgrade check and CCE Autopilot's check operations through the official
Huawei Cloud Python SDK (`huaweicloudsdkcce`), unchanged: `create_pre_check`,
`show_pre_check`, `list_pre_check_tasks`, their Autopilot twins and
`create_autopilot_post_check`, against `postcheck serve` and the real test control plane
(kube-apiserver 1.36, three kwok nodes). The answers are read through the SDK's own
models, so a field the SDK cannot parse fails here."""

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcce.v3 import (
    CreateAutopilotPostCheckRequest,
    CreateAutopilotPreCheckRequest,
    CreatePreCheckRequest,
    ListAutopilotPreCheckTasksRequest,
    ListPreCheckTasksRequest,
    PostcheckClusterRequestBody,
    PostcheckSpec,
    PrecheckClusterRequestBody,
    PrecheckSpec,
    ResourceSelector,
    ShowAutopilotPreCheckRequest,
    ShowPreCheckRequest,
    SkippedCheckItemList,
)

from conftest import CLUSTER, PROJECT
from test_sdk import client

PHASES = {"Success", "Failed"}


def pre_check_body(skipped=None) -> PrecheckClusterRequestBody:
    spec = PrecheckSpec(cluster_id=CLUSTER, cluster_version="v1.36", target_version="v1.37",
                        skipped_check_item_list=skipped)
    return PrecheckClusterRequestBody(api_version="v3", kind="PreCheckTask", spec=spec)


def items_of(status) -> list:
    """Every PreCheckItemStatus of the three parts, as the SDK parsed them."""
    items = []
    for part in (status.cluster_check_status, status.addon_check_status):
        if part is not None:
            items.extend(part.items_status or [])
    if status.node_check_status is not None:
        for node in status.node_check_status.node_stage_status or []:
            items.extend(node.items_status or [])
    return items


@pytest.fixture(scope="module")
def sdk(service):
    return client(service.base, service.ak, service.sk, PROJECT)


@pytest.fixture(scope="module")
def pre_check(sdk):
    """One synchronous pre-check of the test cluster, as the SDK returns it."""
    return sdk.create_pre_check(CreatePreCheckRequest(cluster_id=CLUSTER, body=pre_check_body()))


def test_create_pre_check_returns_a_finished_task_in_cces_shape(pre_check):
    assert pre_check.kind == "PreCheckTask"
    assert pre_check.api_version == "v3"
    assert len(pre_check.metadata.uid) == 36
    assert pre_check.spec.cluster_id == CLUSTER
    assert pre_check.spec.target_version == "v1.37"
    status = pre_check.status
    assert status.phase in PHASES, status
    assert status.expire_time_stamp, "a finished pre-check says when it goes stale"
    assert status.cluster_check_status.phase in PHASES
    items = items_of(status)
    assert items, status
    for item in items:
        assert item.name and item.kind in {"Exception", "Risk"}, item
        assert item.level in {"Info", "Warning", "Fatal"}, item
        assert item.phase in {"Init", "Running", "Success", "Failed", "Skipped", "Error"}, item
    nodes = status.node_check_status.node_stage_status
    assert {len(n.node_info.uid) for n in nodes} == {36}, "nodes are named by their UID"
    assert all(n.node_info.name.startswith("kwok-node-") for n in nodes)


def test_show_pre_check_reads_the_same_task(sdk, pre_check):
    shown = sdk.show_pre_check(ShowPreCheckRequest(cluster_id=CLUSTER, task_id=pre_check.metadata.uid))
    assert shown.metadata.uid == pre_check.metadata.uid
    assert shown.metadata.creation_timestamp and shown.metadata.update_timestamp
    assert shown.status.phase == pre_check.status.phase
    assert shown.status.expire_time_stamp == pre_check.status.expire_time_stamp


def test_list_pre_check_tasks_lists_it_in_cces_list_shape(sdk, pre_check):
    listed = sdk.list_pre_check_tasks(ListPreCheckTasksRequest(cluster_id=CLUSTER))
    assert listed.api_version == "v3"
    assert listed.kind == "List"
    assert pre_check.metadata.uid in [t.metadata.uid for t in listed.items]
    assert all(t.kind == "PreCheckTask" for t in listed.items)


def test_the_autopilot_pre_check_operations_serve_the_same_tasks(sdk, pre_check):
    created = sdk.create_autopilot_pre_check(
        CreateAutopilotPreCheckRequest(cluster_id=CLUSTER, body=pre_check_body()))
    assert created.kind == "PreCheckTask"
    assert created.status.phase in PHASES
    shown = sdk.show_autopilot_pre_check(
        ShowAutopilotPreCheckRequest(cluster_id=CLUSTER, task_id=pre_check.metadata.uid))
    assert shown.metadata.uid == pre_check.metadata.uid
    listed = sdk.list_autopilot_pre_check_tasks(ListAutopilotPreCheckTasksRequest(cluster_id=CLUSTER))
    uids = [t.metadata.uid for t in listed.items]
    assert created.metadata.uid in uids and pre_check.metadata.uid in uids


def test_create_autopilot_post_check_returns_the_task(sdk, pre_check):
    spec = PostcheckSpec(cluster_id=CLUSTER, cluster_version="v1.35", target_version="v1.36")
    body = PostcheckClusterRequestBody(api_version="v3", kind="PostCheckTask", spec=spec)
    task = sdk.create_autopilot_post_check(CreateAutopilotPostCheckRequest(cluster_id=CLUSTER, body=body))
    assert task.kind == "PostCheckTask"
    assert len(task.metadata.uid) == 36
    assert task.spec.target_version == "v1.36"
    assert task.status.phase == "Success", task


def test_an_unknown_skipped_item_raises_400_with_cces_code(sdk):
    skipped = [SkippedCheckItemList(name="no-such-item")]
    with pytest.raises(ClientRequestException) as raised:
        sdk.create_pre_check(CreatePreCheckRequest(cluster_id=CLUSTER, body=pre_check_body(skipped)))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "CCE.01400001"
    assert "no-such-item" in raised.value.error_msg


def test_a_selector_other_than_node_uid_in_raises_400(sdk, pre_check):
    name = items_of(pre_check.status)[0].name
    selector = ResourceSelector(key="node.name", values=["kwok-node-0"], operator="In")
    skipped = [SkippedCheckItemList(name=name, resource_selector=selector)]
    with pytest.raises(ClientRequestException) as raised:
        sdk.create_pre_check(CreatePreCheckRequest(cluster_id=CLUSTER, body=pre_check_body(skipped)))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "CCE.01400001"


def test_another_projects_pre_check_task_is_forbidden(service, pre_check):
    other = client(service.base, service.other_ak, service.other_sk, PROJECT)
    with pytest.raises(ClientRequestException) as raised:
        other.show_pre_check(ShowPreCheckRequest(cluster_id=CLUSTER, task_id=pre_check.metadata.uid))
    assert raised.value.status_code == 403
    assert raised.value.error_code == "CCE.01403001"
