"""The admin commands against the service's database: what `cluster list` shows (never a
credential), `cluster remove`, and that the service sees both at once."""

import os
import subprocess
import tempfile

import pytest

from conftest import CLUSTER, KEY_HEX, PROJECT


def run(postcheck_bin, env, *args, check=True):
    done = subprocess.run([postcheck_bin, *args], capture_output=True, text=True, env=env, timeout=60)
    if check and done.returncode != 0:
        pytest.fail(f"postcheck {' '.join(args)} failed: {done.stderr}")
    return done


def test_cluster_list_and_remove(postcheck_bin, kubeconfig):
    data = tempfile.mkdtemp(prefix="postcheck-admin-")
    env = dict(os.environ, POSTCHECK_DATABASE_URL=f"sqlite:{data}/postcheck.db", POSTCHECK_KEY=KEY_HEX,
               POSTCHECK_ALLOW_ENDPOINT="127.0.0.0/8")
    added = run(postcheck_bin, env, "cluster", "add", "--project", PROJECT, "--cluster-id", CLUSTER, "--kubeconfig", kubeconfig, "--name", "lab")
    assert added.stdout.strip() == CLUSTER

    listed = run(postcheck_bin, env, "cluster", "list").stdout
    assert CLUSTER in listed and "lab" in listed and PROJECT in listed
    secret_lines = [l for l in open(kubeconfig).read().splitlines() if "token:" in l or "-data:" in l]
    for line in secret_lines:
        assert line.split(":", 1)[1].strip() not in listed, "cluster list shows a credential"
    with open(f"{data}/postcheck.db", "rb") as db:
        raw = db.read()
    for line in secret_lines:
        assert line.split(":", 1)[1].strip().encode() not in raw, "a credential is stored in the clear"

    again = run(postcheck_bin, env, "cluster", "add", "--project", PROJECT, "--cluster-id", CLUSTER, "--kubeconfig", kubeconfig, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr

    run(postcheck_bin, env, "cluster", "remove", "--project", PROJECT, "--cluster-id", CLUSTER)
    assert CLUSTER not in run(postcheck_bin, env, "cluster", "list", "--project", PROJECT).stdout
    gone = run(postcheck_bin, env, "cluster", "remove", "--project", PROJECT, "--cluster-id", CLUSTER, check=False)
    assert gone.returncode != 0


def test_bad_project_ids_are_refused(postcheck_bin):
    env = dict(os.environ, POSTCHECK_DATABASE_URL=f"sqlite:{tempfile.mkdtemp()}/p.db", POSTCHECK_KEY=KEY_HEX)
    done = run(postcheck_bin, env, "token", "create", "--project", "NOT-HEX", check=False)
    assert done.returncode != 0 and "project ID" in done.stderr


def test_cluster_add_refuses_an_exec_plugin_and_loopback_without_the_flag(postcheck_bin, kubeconfig, tmp_path):
    env = dict(os.environ, POSTCHECK_DATABASE_URL=f"sqlite:{tmp_path}/postcheck.db", POSTCHECK_KEY=KEY_HEX)
    env.pop("POSTCHECK_ALLOW_ENDPOINT", None)
    loopback = run(postcheck_bin, env, "cluster", "add", "--project", PROJECT, "--kubeconfig", kubeconfig, check=False)
    assert loopback.returncode != 0 and "loopback" in loopback.stderr, loopback.stderr
    marker = tmp_path / "exec-ran"
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(open(kubeconfig).read().replace(
        "  user:\n", f"  user:\n    exec: {{apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch {marker}']}}\n", 1))
    refused = run(postcheck_bin, env, "cluster", "add", "--project", PROJECT, "--kubeconfig", str(hostile),
                  "--allow-endpoint", "127.0.0.1", check=False)
    assert refused.returncode != 0 and "users[0].user.exec" in refused.stderr, refused.stderr
    assert not marker.exists()
