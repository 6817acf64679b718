"""What each deployment runs: an image built from the lock that runs as a user, and the same
roles under compose and Kubernetes (PostgreSQL or a managed one, a one-shot migration, two HTTP
replicas, one worker), with secrets as mounted files."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.files import (
    COMPOSE,
    CONFIG_PATH,
    INSTRUCTIONS,
    ROOT,
    exec_form,
    final_stage,
    instructions,
    kubernetes_objects,
    run_cli,
)


def test_the_image_is_built_from_the_lock_in_a_first_stage_and_runs_as_a_user() -> None:
    froms = [n for n, i in enumerate(INSTRUCTIONS) if i.keyword == "FROM"]
    assert len(froms) == 2 and INSTRUCTIONS[froms[0]].arguments.endswith(" AS build")
    build = INSTRUCTIONS[froms[0] : froms[1]]
    assert any(
        i.keyword == "COPY" and i.arguments == "requirements.lock /build/requirements.lock"
        for i in build
    )
    runs = [i.arguments for i in build if i.keyword == "RUN"]
    assert any("--require-hashes -r /build/requirements.lock" in r for r in runs)
    assert any("--no-deps /build/src" in r for r in runs)
    runtime = final_stage()
    assert any(i.keyword == "COPY" and i.arguments.startswith("--from=build ") for i in runtime)
    assert not any("pip install" in i.arguments for i in runtime if i.keyword == "RUN")
    (user,) = [i.arguments for i in runtime if i.keyword == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    (cmd,) = instructions("CMD")
    assert exec_form(cmd.arguments) == ["serve", "--config", CONFIG_PATH]


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    let_in = {line[1:] for line in lines if line.startswith("!")}
    copied: set[str] = set()
    for copy in instructions("COPY"):
        words = copy.arguments.split()
        if not any(w.startswith("--from") for w in words):
            copied |= set(words[:-1])
    assert copied == let_in
    assert all((ROOT / name).exists() for name in copied)


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: rule["condition"] for name, rule in service.get("depends_on", {}).items()}


def test_compose_runs_postgres_a_migration_two_servers_and_a_worker() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    postgres, migrate = services["postgres"], services["migrate"]
    serve, worker = services["serve"], services["worker"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    assert "postgres-password" in postgres["secrets"]
    assert run_cli(migrate["command"])[0] == "db upgrade"
    assert migrate["restart"] == "no" and depends(migrate) == {"postgres": "service_healthy"}
    assert run_cli(serve["command"])[0] == "serve" and serve["deploy"]["replicas"] == 2
    assert run_cli(worker["command"])[0] == "worker"
    for service in (serve, worker):
        assert depends(service) == {"migrate": "service_completed_successfully"}
    for service in (migrate, worker):  # no HTTP server there for the image's health check
        assert service["healthcheck"] == {"disable": True}
    assert "healthcheck" not in serve


def workloads() -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc
        for _, doc in kubernetes_objects()
        if doc["kind"] in ("Deployment", "Job")
    }


def the_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container


def test_kubernetes_runs_a_migration_job_two_servers_a_worker_and_a_service() -> None:
    kinds = sorted(doc["kind"] for _, doc in kubernetes_objects())
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Job", "Secret", "Service"]
    found = workloads()
    assert found["gatepass-migrate"]["kind"] == "Job"
    assert run_cli(the_container(found["gatepass-migrate"])["args"])[0] == "db upgrade"
    serve, worker = found["gatepass-serve"], found["gatepass-worker"]
    assert serve["spec"]["replicas"] == 2
    assert run_cli(the_container(serve)["args"])[0] == "serve"
    assert run_cli(the_container(worker)["args"])[0] == "worker"
    probes = the_container(serve)
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (service,) = [doc for _, doc in kubernetes_objects() if doc["kind"] == "Service"]
    labels = serve["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_kubernetes_pods_run_as_a_user_and_get_secrets_only_as_files() -> None:
    for name, workload in workloads().items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        container = the_container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert all("valueFrom" not in env for env in container.get("env", [])), name
        secret_volumes = [v for v in pod["volumes"] if "secret" in v]
        assert [v["secret"]["secretName"] for v in secret_volumes] == ["gatepass-secrets"]
