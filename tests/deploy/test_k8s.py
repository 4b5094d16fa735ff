"""deploy/k8s/: every manifest validates offline against Kubernetes' own API schemas (strict:
unknown fields are errors), and the pieces fit together (names, labels, ports, probes, the
shared cookie secret, the sticky Ingress)."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
# The oldest Kubernetes still common in managed clusters, and the newest schema the pinned
# kubernetes-validate ships.
KUBERNETES_VERSIONS = ["1.29.0", "1.37.0"]
ANNOTATION = "nginx.ingress.kubernetes.io/"


def documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((str(path.relative_to(K8S)), doc))
    return found


def kind(name: str) -> dict:
    matches = [doc for path, doc in documents() if doc["kind"] == name and "/" not in path]
    assert len(matches) == 1, f"expected one {name} in deploy/k8s/, found {len(matches)}"
    return matches[0]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly(version):
    docs = documents()
    kinds = {doc["kind"] for _, doc in docs}
    expected = {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "Secret"}
    assert expected <= kinds, kinds
    for _, doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_validation_catches_a_mistake():
    """The validator can fail: a misspelt field and a wrong type are refused."""
    deployment = kind("Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def container() -> dict:
    return kind("Deployment")["spec"]["template"]["spec"]["containers"][0]


def test_probes_use_streamlits_health_endpoint_on_the_served_port():
    c = container()
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert port_names == {"http": 8501}  # the Dockerfile's EXPOSE and CMD
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}, probe
    # Liveness is the lenient one: restarting a busy pod would end every session on it.
    live, ready = c["livenessProbe"], c["readinessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60
    assert live["periodSeconds"] * live["failureThreshold"] > (
        ready["periodSeconds"] * ready["failureThreshold"]
    )


def test_every_pod_reads_the_same_cookie_secret_from_a_secret():
    env = {e["name"]: e for e in container()["env"]}
    ref = env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]
    secret = next(doc for _, doc in documents() if doc["kind"] == "Secret")
    assert ref["name"] == secret["metadata"]["name"]
    assert ref["key"] in secret["stringData"]
    assert "value" not in env["STREAMLIT_SERVER_COOKIE_SECRET"]  # never inline


def test_resources_follow_the_sizing_in_docs():
    c = container()
    env = {e["name"]: e.get("value") for e in c["env"]}
    requests, limits = c["resources"]["requests"], c["resources"]["limits"]
    assert requests["cpu"] == "2" and requests["memory"] == "2Gi"
    assert limits["memory"] == "3Gi" and "cpu" not in limits
    assert env["OMP_NUM_THREADS"] == "1"  # one torch thread per training
    assert int(env["PLAYGROUND_MAX_TRAINING"]) >= int(requests["cpu"])
    docs = (K8S.parents[1] / "docs" / "deploy.md").read_text()
    assert f"PLAYGROUND_MAX_TRAINING={env['PLAYGROUND_MAX_TRAINING']}" in docs
    assert "2 cores and 2 GiB" in docs and "limit 3 GiB" in docs


def test_service_ingress_and_autoscaler_point_at_the_deployment():
    deployment, service = kind("Deployment"), kind("Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    target = service["spec"]["ports"][0]["targetPort"]
    assert target in {p["name"] for p in container()["ports"]}
    backend = kind("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]
    hpa = kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_ingress_is_sticky_by_cookie_with_long_websocket_timeouts():
    annotations = kind("Ingress")["metadata"]["annotations"]
    assert annotations[ANNOTATION + "affinity"] == "cookie"
    assert annotations[ANNOTATION + "session-cookie-name"]
    assert annotations[ANNOTATION + "session-cookie-change-on-failure"] == "true"
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[ANNOTATION + timeout]) >= 3600
    for key, value in annotations.items():
        assert isinstance(value, str), f"{key}: annotation values must be strings"
