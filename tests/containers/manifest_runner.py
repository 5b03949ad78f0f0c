"""Run a rendered pod spec with `docker run`, the way a kubelet would run it, as far as Docker can.

`docker_run_args` maps one container of a pod spec to `docker run` arguments:

- image: the manifest's image name, looked up in an image map (``handoff-training`` ->
  ``handoff-training:dev``), always ``--pull never`` (the images are local; no registry here);
- command and args: Kubernetes semantics (command replaces the ENTRYPOINT, args the CMD), with
  ``$(VAR)`` references expanded from the container's environment as the kubelet does;
- envFrom, then env (later entries win): literal values and configMapKeyRef/secretKeyRef,
  resolved from the ConfigMaps and Secrets handed in, resourceFieldRef from the container's own
  resources; a missing ConfigMap, Secret or key that is
  not ``optional`` raises `MissingReference` (the pod would never start);
- volumes: configMap and secret volumes become read-only bind mounts of a directory
  `write_volumes` fills with their files (``items`` and ``subPath`` respected); emptyDirs become
  tmpfs mounts sized by ``sizeLimit``;
- securityContext (pod level, overridden per container): ``--user uid:gid``, ``--group-add`` for
  fsGroup and supplementalGroups, ``--read-only``, ``--cap-drop``/``--cap-add``, ``--security-opt
  no-new-privileges`` for ``allowPrivilegeEscalation: false``; seccomp RuntimeDefault is Docker's
  default profile;
- resources.limits: ``--memory`` (and the same ``--memory-swap``: no swap, as on a node) and
  ``--cpus``; terminationGracePeriodSeconds -> ``--stop-timeout``.

What a kubelet adds on its own is opt-in through `Kubelet`: the KUBERNETES_SERVICE_* variables
every container gets, and the ServiceAccount token volume when the pod automounts it.

Not mapped, on purpose: requests and ephemeral-storage limits (scheduling and eviction; the root
filesystem is read-only and the emptyDirs are sized), probes (the caller polls them), ports (the
caller picks the network; with ``--network host`` the container binds the host's port),
NetworkPolicies. Anything else in a pod spec that would change what the process sees raises
`UnsupportedSpec` rather than being dropped silently.

The remaining functions are small Docker helpers: run a container to completion, start one in
the background, and remove what was started (`Containers`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.k8s.manifests import containers, generated, project_image

SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_GRACE_SECONDS = 30

# Container fields that change nothing the process sees when run by Docker.
IGNORED_CONTAINER_KEYS = {
    "name",
    "image",
    "imagePullPolicy",  # the image map names local images; `--pull never`
    "ports",  # the network mode decides reachability
    "startupProbe",
    "livenessProbe",
    "readinessProbe",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "lifecycle",  # preStop only (checked below): a drain before stop, with no Service here
}
MAPPED_CONTAINER_KEYS = {
    "command",
    "args",
    "env",
    "envFrom",
    "volumeMounts",
    "securityContext",
    "resources",
    "workingDir",
}
# Pod fields about scheduling, restarts and the API server, not about the running process.
IGNORED_POD_KEYS = {
    "restartPolicy",
    "serviceAccountName",
    "serviceAccount",
    "enableServiceLinks",  # only adds *_SERVICE_HOST variables of other Services
    "nodeSelector",
    "affinity",
    "tolerations",
    "priorityClassName",
    "topologySpreadConstraints",
    "schedulerName",
    "dnsPolicy",
    "activeDeadlineSeconds",
}
MAPPED_POD_KEYS = {
    "containers",
    "volumes",
    "securityContext",
    "automountServiceAccountToken",
    "terminationGracePeriodSeconds",
}
SECURITY_KEYS = {
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "fsGroup",
    "supplementalGroups",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "capabilities",
    "seccompProfile",
}
LIMIT_KEYS = {"cpu", "memory", "ephemeral-storage"}

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {"m": Decimal("0.001"), "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_DECIMAL_SUFFIXES |= {"P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([a-zA-Z]*)$")
_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class UnsupportedSpec(ValueError):
    """The pod spec uses something this runner cannot reproduce with Docker."""


class MissingReference(LookupError):
    """The pod references a ConfigMap, Secret or key that does not exist: it would not start."""


@dataclass(frozen=True)
class Kubelet:
    """What a kubelet adds to every container: the API server's address and, when the pod
    automounts it, the ServiceAccount volume (a directory made by `write_service_account`)."""

    api_host: str
    api_port: int
    service_account_dir: Path | None = None


# --- quantities -------------------------------------------------------------------------------


def quantity(text: str | int | float) -> Decimal:
    """A Kubernetes resource quantity as a number: '1536Mi' -> 1610612736, '500m' -> 0.5."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise UnsupportedSpec(f"cannot read resource quantity {text!r}")
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix in _BINARY_SUFFIXES:
        return number * _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return number * _DECIMAL_SUFFIXES[suffix]
    raise UnsupportedSpec(f"unknown suffix {suffix!r} in resource quantity {text!r}")


def _plain_number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- ConfigMaps and Secrets -------------------------------------------------------------------


def configmaps_of(objects: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Rendered ConfigMaps by their rendered (hash-suffixed) name -> data."""
    found: dict[str, dict[str, str]] = {}
    for obj in objects:
        if obj.get("kind") == "ConfigMap":
            if obj.get("binaryData"):
                raise UnsupportedSpec(f"ConfigMap {obj['metadata']['name']} has binaryData")
            found[obj["metadata"]["name"]] = {k: str(v) for k, v in (obj.get("data") or {}).items()}
    return found


def secrets_of(objects: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Rendered Secrets by name -> decoded data (stringData wins, as the API server merges it)."""
    found: dict[str, dict[str, str]] = {}
    for obj in objects:
        if obj.get("kind") == "Secret":
            data = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
            data.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
            found[obj["metadata"]["name"]] = data
    return found


def with_values(
    objects: Sequence[Mapping[str, Any]],
    configmaps: Mapping[str, Mapping[str, str]],
    name: str,
    values: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """`configmaps` with new values for keys the rendered ConfigMap `name` already has.

    `name` is the name in the manifests (``handoff-connection``); the rendered one carries
    kustomize's hash suffix. A key the ConfigMap lacks is an error: substituting values must not
    add configuration the manifests do not provide.
    """
    rendered = generated(list(objects), "ConfigMap", name)["metadata"]["name"]
    unknown = sorted(set(values) - set(configmaps[rendered]))
    if unknown:
        raise KeyError(f"ConfigMap {name} has no keys {unknown}: add them to the manifests")
    result = {key: dict(data) for key, data in configmaps.items()}
    result[rendered].update(values)
    return result


# --- the mapping ------------------------------------------------------------------------------


def pick_container(pod_spec: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    if pod_spec.get("initContainers"):
        raise UnsupportedSpec("initContainers are not run by this runner")
    found = [c for c in containers(dict(pod_spec)) if name is None or c["name"] == name]
    if len(found) != 1:
        names = [c["name"] for c in pod_spec.get("containers", [])]
        raise UnsupportedSpec(f"expected one container{f' named {name}' if name else ''}: {names}")
    return found[0]


def expand(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's $(VAR) expansion: defined names are replaced, undefined ones stay as
    written, and $$ is a literal $."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR_REF.sub(replace, text)


def _lookup(
    kind: str,
    source: Mapping[str, Mapping[str, str]],
    ref: Mapping[str, Any],
    key: str | None,
    where: str,
) -> Mapping[str, str] | str | None:
    name = ref.get("name", "")
    optional = bool(ref.get("optional", False))
    if name not in source:
        if optional:
            return None
        raise MissingReference(f"{where} references {kind} {name!r}, which does not exist")
    if key is None:
        return source[name]
    if key not in source[name]:
        if optional:
            return None
        raise MissingReference(f"{where} references key {key!r} of {kind} {name!r}, which it lacks")
    return source[name][key]


def resolve_env(
    container: Mapping[str, Any],
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
    base: Mapping[str, str] | None = None,
    pod_labels: Mapping[str, str] | None = None,
    pod_namespace: str = "default",
) -> dict[str, str]:
    """The container's environment as the kubelet builds it: `base` (what the kubelet adds),
    then envFrom in order, then env in order, each later entry winning. The downward API's
    ``metadata.labels['<key>']`` reads `pod_labels` (a missing label gives an empty value),
    ``metadata.namespace`` the pod's namespace (``default`` when the object names none)."""
    where = f"container {container.get('name', '?')}"
    env: dict[str, str] = dict(base or {})
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = _lookup("ConfigMap", configmaps, source["configMapRef"], None, where)
        elif "secretRef" in source:
            data = _lookup("Secret", secrets, source["secretRef"], None, where)
        else:
            raise UnsupportedSpec(f"{where}: envFrom entry {source}")
        for key, value in dict(data or {}).items():
            env[prefix + key] = value
    for item in container.get("env", []):
        name = item["name"]
        if "valueFrom" not in item:
            env[name] = expand(str(item.get("value", "")), env)
            continue
        source = item["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            value = _lookup("ConfigMap", configmaps, ref, ref["key"], f"{where} env {name}")
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = _lookup("Secret", secrets, ref, ref["key"], f"{where} env {name}")
        elif "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            label = re.fullmatch(r"metadata\.labels\['([^']+)'\]", path)
            if path == "metadata.namespace":
                value = pod_namespace
            elif label is None:
                raise UnsupportedSpec(f"{where} env {name}: fieldRef {path}")
            else:
                value = (pod_labels or {}).get(label[1], "")
        elif "resourceFieldRef" in source:
            value = _resource_field(container, source["resourceFieldRef"], f"{where} env {name}")
        else:
            raise UnsupportedSpec(f"{where} env {name}: valueFrom {sorted(source)}")
        if value is not None:
            env[name] = str(value)
    return env


def _resource_field(container: Mapping[str, Any], ref: Mapping[str, Any], where: str) -> str:
    """The downward API's resourceFieldRef as the kubelet fills it: the container's own request
    or limit divided by ``divisor`` and rounded up (a limit left unset would be the node's
    allocatable, which this runner does not know)."""
    if ref.get("containerName", container.get("name")) != container.get("name"):
        raise UnsupportedSpec(f"{where}: resourceFieldRef of another container")
    part, _, resource = str(ref["resource"]).partition(".")
    given = container.get("resources", {}).get(part, {}).get(resource)
    if given is None:
        raise UnsupportedSpec(f"{where}: {ref['resource']} is not set (node allocatable)")
    ratio = quantity(given) / quantity(ref.get("divisor", "1"))
    return str(int(ratio.to_integral_value(rounding="ROUND_CEILING")))


def _security(pod_spec: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, Any]:
    pod = dict(pod_spec.get("securityContext") or {})
    own = dict(container.get("securityContext") or {})
    for level, context in (("pod", pod), ("container", own)):
        # Pod-only fields (fsGroup, supplementalGroups) are simply absent from containers.
        unknown = set(context) - SECURITY_KEYS
        if unknown:
            raise UnsupportedSpec(f"{level} securityContext fields {sorted(unknown)}")
    return pod | own


def security_args(pod_spec: Mapping[str, Any], container: Mapping[str, Any]) -> list[str]:
    ctx = _security(pod_spec, container)
    args: list[str] = []
    if "runAsUser" in ctx or "runAsGroup" in ctx:
        if "runAsUser" not in ctx:
            raise UnsupportedSpec("runAsGroup without runAsUser: the image's user is not known")
        user = str(ctx["runAsUser"])
        args += ["--user", f"{user}:{ctx['runAsGroup']}" if "runAsGroup" in ctx else user]
    if ctx.get("runAsNonRoot") and str(ctx.get("runAsUser", "")) in ("", "0"):
        raise UnsupportedSpec("runAsNonRoot needs a non-zero runAsUser to be checked here")
    for group in [ctx["fsGroup"]] if "fsGroup" in ctx else []:
        args += ["--group-add", str(group)]
    for group in ctx.get("supplementalGroups", []):
        args += ["--group-add", str(group)]
    if ctx.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if ctx.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    capabilities = ctx.get("capabilities") or {}
    for cap in capabilities.get("drop", []):
        args += ["--cap-drop", str(cap)]
    for cap in capabilities.get("add", []):
        args += ["--cap-add", str(cap)]
    seccomp = (ctx.get("seccompProfile") or {}).get("type", "RuntimeDefault")
    if seccomp == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    elif seccomp != "RuntimeDefault":
        raise UnsupportedSpec(f"seccompProfile type {seccomp}")
    return args


def resource_args(container: Mapping[str, Any]) -> list[str]:
    limits = (container.get("resources") or {}).get("limits") or {}
    unknown = set(limits) - LIMIT_KEYS
    if unknown:
        raise UnsupportedSpec(f"resource limits {sorted(unknown)}")
    args: list[str] = []
    if "memory" in limits:
        memory = str(int(quantity(limits["memory"])))
        args += ["--memory", memory, "--memory-swap", memory]
    if "cpu" in limits:
        args += ["--cpus", _plain_number(quantity(limits["cpu"]))]
    return args


def volume_dir(volume_root: Path, volume: str) -> Path:
    return Path(volume_root) / volume


def _volume_files(
    volume: Mapping[str, Any],
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
) -> tuple[dict[str, str], int] | None:
    """Files (relative path -> content) and mode of a configMap/secret volume; None for others."""
    if "configMap" in volume:
        ref, kind, source = volume["configMap"], "ConfigMap", configmaps
    elif "secret" in volume:
        ref = dict(volume["secret"], name=volume["secret"].get("secretName", ""))
        kind, source = "Secret", secrets
    else:
        return None
    data = _lookup(kind, source, ref, None, f"volume {volume['name']}")
    data = dict(data or {})
    if "items" in ref:
        files = {}
        for item in ref["items"]:
            if item["key"] not in data:
                if ref.get("optional"):
                    continue
                raise MissingReference(
                    f"volume {volume['name']}: {kind} {ref['name']!r} has no key {item['key']!r}"
                )
            files[item["path"]] = data[item["key"]]
    else:
        files = data
    return files, int(ref.get("defaultMode", 0o644))


def write_volumes(
    pod_spec: Mapping[str, Any],
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
    volume_root: Path,
) -> None:
    """Write the files of the pod's configMap and secret volumes under `volume_root`, readable
    by any uid (the bind mount is the only way into them)."""
    for volume in pod_spec.get("volumes", []):
        content = _volume_files(volume, configmaps, secrets)
        if content is None:
            continue
        files, mode = content
        directory = volume_dir(volume_root, volume["name"])
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        for relative, text in files.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(mode)


def volume_args(
    pod_spec: Mapping[str, Any],
    container: Mapping[str, Any],
    volume_root: Path,
    kubelet: Kubelet | None = None,
) -> list[str]:
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    context = _security(pod_spec, container)
    owner = {
        "uid": context.get("runAsUser"),
        "gid": context.get("fsGroup", context.get("runAsGroup")),
    }
    owner = {key: value for key, value in owner.items() if value is not None}
    args: list[str] = []
    for mount in container.get("volumeMounts", []):
        target = mount["mountPath"]
        if mount["name"] not in volumes:
            raise MissingReference(f"volumeMount {mount['name']!r} names no volume of the pod")
        volume = volumes[mount["name"]]
        unknown = set(mount) - {"name", "mountPath", "readOnly", "subPath"}
        if unknown:
            raise UnsupportedSpec(f"volumeMount {mount['name']}: {sorted(unknown)}")
        if "emptyDir" in volume:
            if "subPath" in mount:
                raise UnsupportedSpec(f"subPath on emptyDir {mount['name']}")
            # exec: an emptyDir is not mounted noexec (Docker's tmpfs default). The kubelet makes
            # it mode 0777 (2777 and group fsGroup with one); Docker instead gives the tmpfs the
            # mode of the image's directory at that path (/zenml-config is 0700), ignoring
            # mode=, so the tmpfs is owned by the pod's uid to be as writable for it.
            options = ["rw", "exec", "nosuid", "nodev"]
            options += [f"{key}={value}" for key, value in owner.items()]
            if volume["emptyDir"].get("sizeLimit"):
                options.append(f"size={int(quantity(volume['emptyDir']['sizeLimit']))}")
            if mount.get("readOnly"):
                options[0] = "ro"
            args += ["--tmpfs", f"{target}:{','.join(options)}"]
        elif "configMap" in volume or "secret" in volume:
            source = volume_dir(volume_root, volume["name"])
            if "subPath" in mount:
                source = source / mount["subPath"]
            # configMap and secret volumes are always read-only, whatever the mount says.
            args += ["--mount", f"type=bind,source={source},target={target},readonly"]
        else:
            kinds = sorted(set(volume) - {"name"})
            raise UnsupportedSpec(f"volume {volume['name']} of type {kinds}")
    token = kubelet.service_account_dir if kubelet is not None else None
    if token is not None and pod_spec.get("automountServiceAccountToken", True):
        args += ["--mount", f"type=bind,source={token},target={SERVICE_ACCOUNT_MOUNT},readonly"]
    return args


def kubelet_env(kubelet: Kubelet | None) -> dict[str, str]:
    """The variables every container gets from the kubelet, enableServiceLinks or not."""
    if kubelet is None:
        return {}
    host, port = kubelet.api_host, str(kubelet.api_port)
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": port,
        "KUBERNETES_SERVICE_PORT_HTTPS": port,
        "KUBERNETES_PORT": f"tcp://{host}:{port}",
    }


def image_for(container: Mapping[str, Any], image_map: Mapping[str, str]) -> str:
    image = container["image"]
    for key in (image, project_image(image)):
        if key in image_map:
            return image_map[key]
    raise MissingReference(f"no local image for {image!r} (image map has {sorted(image_map)})")


def docker_run_args(
    pod_spec: Mapping[str, Any],
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
    image_map: Mapping[str, str],
    *,
    volume_root: Path = Path("/nonexistent/volumes"),
    container_name: str | None = None,
    network: str = "host",
    kubelet: Kubelet | None = None,
    pod_labels: Mapping[str, str] | None = None,
    pod_namespace: str = "default",
) -> list[str]:
    """`docker run` options, image and command for one container of `pod_spec`.

    Pure: the configMap/secret volume directories it mounts (under `volume_root`) are written
    by `write_volumes`. Callers put their own options (--name, --detach) before these.
    """
    unknown_pod = set(pod_spec) - MAPPED_POD_KEYS - IGNORED_POD_KEYS - {"initContainers"}
    if unknown_pod:
        raise UnsupportedSpec(f"pod spec fields {sorted(unknown_pod)}")
    container = pick_container(pod_spec, container_name)
    unknown = set(container) - MAPPED_CONTAINER_KEYS - IGNORED_CONTAINER_KEYS
    unknown |= {f"lifecycle.{hook}" for hook in container.get("lifecycle", {})} - {
        "lifecycle.preStop"
    }
    if unknown:
        raise UnsupportedSpec(f"container {container['name']} fields {sorted(unknown)}")

    env = resolve_env(
        container, configmaps, secrets, kubelet_env(kubelet), pod_labels, pod_namespace
    )
    command = [expand(str(part), env) for part in container.get("command", [])]
    arguments = [expand(str(part), env) for part in container.get("args", [])]

    args = ["--pull", "never", "--network", network]
    grace = pod_spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    args += ["--stop-timeout", str(grace)]
    args += security_args(pod_spec, container)
    args += resource_args(container)
    args += volume_args(pod_spec, container, volume_root, kubelet)
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    if container.get("workingDir"):
        args += ["--workdir", container["workingDir"]]
    if command:
        # Docker's --entrypoint takes one word; the rest of the command goes before the args.
        args += ["--entrypoint", command[0], image_for(container, image_map), *command[1:]]
    else:
        args.append(image_for(container, image_map))
    return args + arguments


def env_of(args: Sequence[str]) -> dict[str, str]:
    """The environment a `docker_run_args` list sets (for assertions and reports)."""
    pairs = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--env"]
    return dict(pair.split("=", 1) for pair in pairs)


# --- the ServiceAccount volume a kubelet mounts ----------------------------------------------


def write_service_account(directory: Path, namespace: str, token: str = "") -> Path:
    """token, ca.crt (a throwaway self-signed CA) and namespace, as in a pod's token volume."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "handoff-test-kubernetes-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = {
        "ca.crt": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "namespace": namespace,
        "token": token or f"handoff-test-token-{uuid.uuid4().hex}",
    }
    for file, text in files.items():
        (directory / file).write_text(text)
        (directory / file).chmod(0o644)
    directory.chmod(0o755)
    return directory


# --- Docker -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    name: str
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    def last_line(self) -> str:
        """The last line's message: the manifests ask for JSON log lines (HANDOFF_LOG_FORMAT)."""
        lines = self.stderr.strip().splitlines()
        if not lines:
            return ""
        try:
            return str(json.loads(lines[-1])["message"])
        except (ValueError, KeyError, TypeError):
            return lines[-1]


@dataclass
class Containers:
    """Every container started through it is removed by `remove_all` (also after a failure)."""

    docker: str
    label: str = "handoff.test=manifest-runs"
    started: list[str] = field(default_factory=list)

    def new_name(self, stem: str) -> str:
        name = f"handoff-test-{stem}-{uuid.uuid4().hex[:8]}"
        self.started.append(name)
        return name

    def run(self, stem: str, args: Sequence[str], timeout: float) -> Finished:
        """Run to completion in the foreground; the container is removed afterwards."""
        name = self.new_name(stem)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [self.docker, "run", "--name", name, "--label", self.label, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        finally:
            self.remove(name)
        return Finished(name, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def start(self, stem: str, args: Sequence[str]) -> str:
        """Start in the background; returns the container name."""
        name = self.new_name(stem)
        proc = subprocess.run(
            [self.docker, "run", "--detach", "--name", name, "--label", self.label, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"docker run {name} failed ({proc.returncode}): {proc.stderr}")
        return name

    def state(self, name: str) -> dict[str, Any]:
        out = self._docker("inspect", "--format", "{{json .State}}", name).stdout
        return json.loads(out) if out.strip() else {}

    def logs(self, name: str) -> tuple[str, str]:
        proc = self._docker("logs", name)
        return proc.stdout, proc.stderr

    def stop(self, name: str, timeout: int) -> tuple[int, float]:
        """SIGTERM, then SIGKILL after `timeout` s (as for a pod); (exit code, seconds taken)."""
        started = time.monotonic()
        self._docker("stop", "--time", str(timeout), name, timeout=timeout + 60)
        return int(self.state(name).get("ExitCode", -1)), time.monotonic() - started

    def remove(self, name: str) -> None:
        self._docker("rm", "--force", "--volumes", name)

    def remove_all(self) -> None:
        for name in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.remove(name)

    def _docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.docker, *args], capture_output=True, text=True, timeout=timeout, check=False
        )


@contextlib.contextmanager
def tracked_containers(docker: str) -> Iterator[Containers]:
    tracker = Containers(docker)
    try:
        yield tracker
    finally:
        tracker.remove_all()


def image_size(docker: str, tag: str) -> int:
    out = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Size}}", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return int(out)


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def resolve_port(container: Mapping[str, Any], port: int | str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for item in container.get("ports", []):
        if item.get("name") == port:
            return int(item["containerPort"])
    raise MissingReference(f"container {container['name']} has no port named {port!r}")
