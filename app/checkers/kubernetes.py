"""Kubernetes checks: is a Deployment, StatefulSet, DaemonSet, Pod or Endpoints ready enough?

`minReady` counts what serves traffic: ready replicas of each workload, ready pods of a
selector, ready addresses of Endpoints. Responses are read as plain JSON
(`_preload_content=False`) because the client's model deserialization costs far more CPU
than the check itself, and only a handful of status fields matter here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline, DeadlineExceeded, call_within
from app.checkers.errors import classify
from app.model import CheckResult, FailureClass
from app.resources.monitor import KubernetesTargetSpec, MonitorSpec, MonitorType

PLURAL = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Pod": "pods",
    "Endpoints": "endpoints",
}


def _calls(kube: Any, kind: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(read one by name, list by selector) of the official client for `kind`."""
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    return {
        "Deployment": (apps.read_namespaced_deployment, apps.list_namespaced_deployment),
        "StatefulSet": (apps.read_namespaced_stateful_set, apps.list_namespaced_stateful_set),
        "DaemonSet": (apps.read_namespaced_daemon_set, apps.list_namespaced_daemon_set),
        "Pod": (core.read_namespaced_pod, core.list_namespaced_pod),
        "Endpoints": (core.read_namespaced_endpoints, core.list_namespaced_endpoints),
    }[kind]


def workload_counts(kind: str, obj: dict[str, Any]) -> tuple[int, int]:
    """(ready, desired) of a Deployment, StatefulSet or DaemonSet."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        return int(status.get("numberReady") or 0), int(status.get("desiredNumberScheduled") or 0)
    desired = spec.get("replicas")
    return int(status.get("readyReplicas") or 0), int(1 if desired is None else desired)


def pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_trouble(pod: dict[str, Any]) -> str:
    """Why a pod is not ready, in the words kubectl shows (CrashLoopBackOff, ImagePullBackOff, ...)."""
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return f"container {cs.get('name')}: {waiting['reason']}"
    return str(status.get("phase") or "Unknown")


def endpoint_counts(ep: dict[str, Any]) -> tuple[int, int]:
    """(ready, not ready) addresses of an Endpoints object."""
    subsets = ep.get("subsets") or []
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    return ready, sum(len(s.get("notReadyAddresses") or []) for s in subsets)


def judge(s: KubernetesTargetSpec, ns: str, objects: list[dict[str, Any]]) -> CheckResult:
    """Readiness of the fetched objects against minReady. Pure, so tables can test it."""
    what = f"{s.kind} {ns}/{s.name}" if s.name else f"{PLURAL[s.kind]} in {ns} with {_selector(s)}"
    if not objects:
        return CheckResult.down(FailureClass.NOT_READY, f"no {what}")
    names = [o.get("metadata", {}).get("name", "?") for o in objects]
    if s.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        counts = {n: workload_counts(s.kind, o) for n, o in zip(names, objects, strict=True)}
        details: dict[str, Any] = {"objects": {n: {"ready": r, "desired": d} for n, (r, d) in counts.items()}}
        short = [f"{n} {r}/{d} ready" for n, (r, d) in counts.items() if r < s.minReady]
        if short:
            return CheckResult.down(
                FailureClass.NOT_READY, f"{', '.join(short)} (needs {s.minReady})", None, **details
            )
        summary = ", ".join(f"{n} {r}/{d}" for n, (r, d) in counts.items())
        return CheckResult.up(None, f"ready: {summary}", **details)
    if s.kind == "Pod":
        ready = [n for n, o in zip(names, objects, strict=True) if pod_ready(o)]
        troubles = {n: pod_trouble(o) for n, o in zip(names, objects, strict=True) if not pod_ready(o)}
        details = {"ready": len(ready), "pods": len(objects), "notReady": troubles}
        if len(ready) < s.minReady:
            why = "; ".join(f"{n}: {t}" for n, t in list(troubles.items())[:3])
            reason = f"{len(ready)}/{len(objects)} pods ready (needs {s.minReady})" + (
                f" — {why}" if why else ""
            )
            return CheckResult.down(FailureClass.NOT_READY, reason, None, **details)
        return CheckResult.up(None, f"{len(ready)}/{len(objects)} pods ready", **details)
    ready_n = sum(endpoint_counts(o)[0] for o in objects)
    not_ready_n = sum(endpoint_counts(o)[1] for o in objects)
    details = {"readyAddresses": ready_n, "notReadyAddresses": not_ready_n}
    if ready_n < s.minReady:
        reason = f"{what} has {ready_n} ready addresses, {not_ready_n} not ready (needs {s.minReady})"
        return CheckResult.down(FailureClass.NOT_READY, reason, None, **details)
    return CheckResult.up(None, f"{ready_n} ready addresses", **details)


def _selector(s: KubernetesTargetSpec) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((s.selector or {}).items()))


def fetch(s: KubernetesTargetSpec, ns: str, kube: Any, deadline: Deadline) -> list[dict[str, Any]]:
    read, list_ = _calls(kube, s.kind)
    opts = {"_preload_content": False, "_request_timeout": deadline.remaining()}
    if s.name:
        try:
            return [json.loads(read(s.name, ns, **opts).data)]
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise
    return list(json.loads(list_(ns, label_selector=_selector(s), **opts).data).get("items") or [])


def _api_failure(exc: ApiException, s: KubernetesTargetSpec, ns: str) -> CheckResult:
    resource = PLURAL[s.kind]
    if exc.status in (401, 403):
        verb = "get" if s.name else "list"
        reason = (
            f"the Kubernetes API refused to {verb} {resource} in {ns} (HTTP {exc.status}): "
            f"grant KubeKuma's service account {verb} on {resource} there"
        )
        return CheckResult.down(FailureClass.PERMISSION, reason)
    message = ""
    try:
        message = json.loads(exc.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        message = str(exc.reason or "")
    return CheckResult.down(
        FailureClass.PROTOCOL, f"Kubernetes API answered HTTP {exc.status}: {message}".rstrip(": ")
    )


@register(MonitorType.KUBERNETES)
def check_kubernetes(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: KubernetesTargetSpec = spec.kubernetes  # type: ignore[assignment]
    if ctx.kube is None:
        return CheckResult.down(FailureClass.CONFIG, "no Kubernetes API configured")
    deadline = Deadline(spec.timeout)
    ns = s.namespace or ctx.namespace
    try:
        objects = call_within(lambda: fetch(s, ns, ctx.kube, deadline), deadline)
    except DeadlineExceeded:
        reason = f"the Kubernetes API did not answer within {spec.timeout:g}s"
        return CheckResult.down(FailureClass.TIMEOUT, reason, deadline.elapsed_ms())
    except ApiException as exc:
        result = _api_failure(exc, s, ns)
    except (OSError, urllib3.exceptions.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
        failure, reason = classify(exc, "the Kubernetes API")
        if isinstance(exc, ValueError):
            failure, reason = (
                FailureClass.PROTOCOL,
                f"the Kubernetes API sent something that is not JSON: {exc}",
            )
        result = CheckResult.down(failure, reason)
    else:
        result = judge(s, ns, objects)
    result.latency_ms = deadline.elapsed_ms()
    return result
