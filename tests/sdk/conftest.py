"""Fixtures for the official Huawei Cloud SDK tests: a real `postcheck serve` process on
the embedded SQLite default, a real Kubernetes control plane from `testcluster`, and the
credentials the admin commands make.

Reads `POSTCHECK_BIN` (the built `postcheck` binary) and `TESTCLUSTER_BIN` (the built
`testcluster` binary); `scripts/test` exports both. A missing binary or a control plane
that cannot start fails the tests loudly: nothing is skipped.
"""

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = "e9993fc787d94b6c886cbaa340f9c0f4"
OTHER_PROJECT = "0123456789abcdef0123456789abcdef"
CLUSTER = "8978deaa-1743-11ee-8e46-0255ac10004c"
KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def _binary(variable: str) -> str:
    path = os.environ.get(variable)
    if not path:
        pytest.fail(f"{variable} is not set: build the binaries and export it (scripts/test does both)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{variable}={path} is not an executable file")
    return path


@pytest.fixture(scope="session")
def postcheck_bin() -> str:
    return _binary("POSTCHECK_BIN")


@pytest.fixture(scope="session")
def kubeconfig():
    """A real control plane (kube-apiserver 1.36 + etcd + kwok nodes) for the session."""
    testcluster = _binary("TESTCLUSTER_BIN")
    state = tempfile.mkdtemp(prefix="postcheck-sdk-cluster-")
    up = subprocess.run(
        [testcluster, "up", "--version", "1.36", "--nodes", "3", "--state", state],
        capture_output=True, text=True, timeout=600,
    )
    if up.returncode != 0 or not up.stdout.strip():
        pytest.fail(f"testcluster up failed (exit {up.returncode}):\n{up.stdout}\n{up.stderr}")
    path = up.stdout.strip().splitlines()[-1].strip()
    if not Path(path).is_file():
        pytest.fail(f"testcluster up did not print a kubeconfig path as its last line: {up.stdout!r}")
    try:
        yield path
    finally:
        subprocess.run([testcluster, "down", "--state", state], capture_output=True, timeout=120)


@dataclass
class Service:
    base: str
    token: str
    ak: str
    sk: str
    other_ak: str
    other_sk: str
    env: dict
    data: str


def _admin(postcheck_bin: str, env: dict, *args: str) -> str:
    done = subprocess.run([postcheck_bin, *args], capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"postcheck {' '.join(args)} failed (exit {done.returncode}): {done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def service(postcheck_bin, kubeconfig):
    """`postcheck serve` on a fresh SQLite database, with the test cluster registered."""
    data = tempfile.mkdtemp(prefix="postcheck-sdk-data-")
    env = dict(os.environ)
    env["POSTCHECK_DATABASE_URL"] = f"sqlite:{data}/postcheck.db"
    env["POSTCHECK_KEY"] = KEY_HEX
    # The test control plane listens on loopback, which the endpoint policy refuses by
    # default: the tests allow it explicitly, as an operator would with --allow-endpoint.
    env["POSTCHECK_ALLOW_ENDPOINT"] = "127.0.0.0/8"
    _admin(postcheck_bin, env, "cluster", "add", "--project", PROJECT, "--cluster-id", CLUSTER, "--kubeconfig", kubeconfig)
    token = _admin(postcheck_bin, env, "token", "create", "--project", PROJECT).strip()
    mine = json.loads(_admin(postcheck_bin, env, "access-key", "create", "--project", PROJECT, "-o", "json"))
    other = json.loads(_admin(postcheck_bin, env, "access-key", "create", "--project", OTHER_PROJECT, "-o", "json"))
    # A small body limit, so the SDK can meet 413 too.
    process, base = _serve(postcheck_bin, env, data, "--max-body-bytes", "65536")
    try:
        yield Service(base, token, mine["accessKey"], mine["secretKey"], other["accessKey"], other["secretKey"], env, data)
    finally:
        _stop(process)


@pytest.fixture
def strict_service(postcheck_bin, service):
    """A second `postcheck serve` on the same database that throttles after one failed
    authentication a minute (its buckets are its own, so other tests are not throttled)."""
    process, base = _serve(postcheck_bin, service.env, service.data, "--auth-failures-per-minute", "1")
    try:
        yield Service(base, service.token, service.ak, service.sk, service.other_ak, service.other_sk, service.env, service.data)
    finally:
        _stop(process)


def _serve(postcheck_bin: str, env: dict, data: str, *flags: str):
    """Starts `postcheck serve` on port 0; returns the process and its base URL."""
    log = Path(data) / f"serve-{len(list(Path(data).glob('serve-*.log')))}.log"
    process = subprocess.Popen(
        [postcheck_bin, "serve", "--listen", "127.0.0.1:0", "--check-deadline", "60s", *flags],
        env=env, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("postcheck listening on http://"):
        process.kill()
        pytest.fail(f"postcheck serve did not start: {line!r}; log:\n{log.read_text()}")
    return process, line.strip().rsplit(" ", 1)[-1]


def _stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
