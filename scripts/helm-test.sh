#!/usr/bin/env bash
# Offline tests of the Helm chart charts/swarmbench (no cluster, no helm binary):
#   - installs helm-python-sdk (the Helm v4 SDK as a library) and kubernetes-validate (bundled
#     Kubernetes schemas) with pip into a cached virtualenv
#   - lints the chart, renders it for the default values, each charts/swarmbench/examples file
#     and a set of toggles (agents-only, hub, Job and Deployment agents, object store, PDB,
#     NetworkPolicy, Ingress, existing Secrets with their own keys, ...), and validates every
#     manifest with `kubernetes-validate --strict` against Kubernetes 1.25 (the chart's minimum)
#     and 1.37
#   - checks the rendered values, not only that they render: the restricted Pod Security
#     Standard on every pod (the fetch pods NOTES.txt prints included), labels, names that do not
#     depend on the release revision, the agents' Jobs/Deployments and their flags, the plan's
#     quorum (with `coordinator validate` when a coordinator binary is at hand), the coordinator
#     Job's retries/PDB/annotations/--run-dir, the object-store uploader, the NetworkPolicies'
#     selectors, the Ingress and LoadBalancer, the helm test hook and NOTES.txt
#   - upgrades: `lookup` is exercised for real. helm-python-sdk's Config.render runs Helm's
#     `lookup` against a cluster; a tiny fake API server here answers it (discovery, GET of a
#     Secret, ConfigMap or Job) with the objects of the first render. Checked: generated
#     certificates and token are reused verbatim, the agents' pod templates (with their
#     credentials checksum) and the coordinator Job stay identical when nothing changed, an
#     upgrade that only scales agents leaves the coordinator Job alone, and the checksum (or the
#     immutable-Job guard) changes when the material does. What this cannot show: the API
#     server's own behaviour (Job immutability, podFailurePolicy, PDB enforcement, the Job
#     controller) and real cert-manager or cloud load balancers.
#   - runs the object-store uploader's script (taken from the rendered manifest) with a stub
#     `aws` and a stand-in coordinator: it uploads when run.json says the run ended, when the
#     coordinator dies without a word, and when it never starts
#   - checks that values the chart must refuse (plain-text API keys, root, half an agents-only
#     setup, ...) fail
# Exits non-zero on any failure.
#
#   scripts/helm-test.sh
#   HELM_TEST_VENV=DIR       virtualenv to use (default ~/.cache/swarmbench/helm-venv)
#   HELM_TEST_OUT=DIR        keep the rendered manifests there (default: a temporary folder)
#   COORDINATOR_BIN=PATH     coordinator binary for `coordinator validate` (default:
#                            target/debug/coordinator when it exists; skipped otherwise)
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS

VENV=${HELM_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/swarmbench/helm-venv}
PY=${PYTHON:-python3}
if ! "$VENV/bin/python" -c 'import helm_python, kubernetes_validate, yaml, jsonschema' 2>/dev/null; then
  echo "==> pip install helm-python-sdk kubernetes-validate into $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    'helm-python-sdk==0.2.2' 'kubernetes-validate==1.37.0' PyYAML jsonschema
fi

if [ -n "${HELM_TEST_OUT:-}" ]; then
  OUT=$HELM_TEST_OUT
  mkdir -p "$OUT"
else
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/swarmbench-helm.XXXXXX")
  trap 'rm -rf "$OUT"' EXIT
fi
COORD=${COORDINATOR_BIN:-}
if [ -z "$COORD" ] && [ -x target/debug/coordinator ]; then COORD=$PWD/target/debug/coordinator; fi

export CHART=$PWD/charts/swarmbench OUT COORD
export KV=$VENV/bin/kubernetes-validate
timeout 900 "$VENV/bin/python" - <<'PY'
import base64, copy, glob, json, math, os, re, shutil, socket, subprocess, sys, tempfile, threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import yaml
import helm_python as helm

CHART, OUT, COORD, KV = os.environ["CHART"], os.environ["OUT"], os.environ["COORD"], os.environ["KV"]
RELEASE, NS = "bench", "load"
FULL = f"{RELEASE}-swarmbench"
failures = []
checked = 0

def fail(case, msg):
    failures.append(f"{case}: {msg}")

def ok(case, cond, msg):
    global checked
    checked += 1
    if not cond:
        fail(case, msg)
    return bool(cond)

helm.disable_logging() if hasattr(helm, "disable_logging") else None
chart = helm.Chart.load(CHART)
defaults = chart.values
IMAGE = f"{defaults['image']['repository']}:{chart.metadata.get('appVersion')}"

# ---- lint ----------------------------------------------------------------------------------
report = helm.lint(CHART, strict=True, quiet=False)
for m in report.get("messages", []):
    if m.get("severity", 0) >= 2:
        fail("lint", f"{m.get('path')}: {m.get('error')}")
for e in report.get("errors", []) or []:
    fail("lint", e)

# ---- value sets ----------------------------------------------------------------------------
EXISTING = {"tls": {"coordinator": {"existingSecret": "swarmbench-coordinator-tls"},
                    "agent": {"existingSecret": "swarmbench-agent-tls"}},
            "token": {"existingSecret": "swarmbench-token"}}
AGENTS_ONLY = {"coordinator": {"enabled": False},
               "agents": {"coordinatorUrl": "https://swarm.example.com:7070",
                          "pools": [{"name": "far", "replicas": 4, "labels": {"region": "far"}}]},
               "tls": {"agent": {"existingSecret": "swarmbench-agent-tls"}},
               "token": {"existingSecret": "swarmbench-token"}}
cases = {"default": {}}
for f in sorted(glob.glob(os.path.join(CHART, "examples", "*.yaml"))):
    cases["example-" + os.path.basename(f)[:-5]] = yaml.safe_load(open(f)) or {}
# toggles not covered by the examples
cases["toggle-no-tls-deployment"] = {"tls": {"enabled": False}, "coordinator": {"kind": "Deployment"},
                                     "agents": {"kind": "Deployment"},
                                     "llmSim": {"enabled": False}, "tests": {"enabled": False}}
cases["toggle-existing-claim-otel"] = {"outputs": {"persistence": {"enabled": True, "existingClaim": "results"}},
                                       "otel": {"endpoint": "http://collector:4317"},
                                       "agents": {"topologySpread": {"enabled": False},
                                                  "pools": [{"name": "p", "replicas": 3}]}}
cases["agents-only-minimal"] = AGENTS_ONLY
cases["agents-only-deployment-sim-netpol"] = {
    **AGENTS_ONLY, "llmSim": {"enabled": True}, "networkPolicy": {"enabled": True},
    "agents": {**AGENTS_ONLY["agents"], "kind": "Deployment", "tlsDomain": "coordinator.internal",
               "dataDir": "/data",
               "defaults": {"extraVolumes": [{"name": "data", "configMap": {"name": "tokenizers"}}],
                            "extraVolumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}]}}}
cases["hub-ingress-netpol-pdb"] = {
    **EXISTING, "runName": "hub-run-7",
    "coordinator": {"ingress": {"enabled": True, "className": "nginx", "host": "swarm.example.com"},
                    "priorityClassName": "loadtest-critical",
                    "extraVolumes": [{"name": "datasets", "persistentVolumeClaim": {"claimName": "datasets", "readOnly": True}}],
                    "extraVolumeMounts": [{"name": "datasets", "mountPath": "/data", "readOnly": True}]},
    "networkPolicy": {"enabled": True, "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]},
    "metrics": {"serviceMonitor": {"enabled": True}},
    "agents": {"remoteAgents": 10, "minAgents": 12, "waitSeconds": 1200,
               "defaults": {"priorityClassName": "loadgen"},
               "pools": [{"name": "local", "replicas": 5}]}}
cases["generated-tls-sans-lb"] = {
    "tls": {"coordinator": {"extraSans": ["swarm.example.com", "203.0.113.7"]}},
    "coordinator": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["203.0.113.0/24"],
                                "externalTrafficPolicy": "Local"}},
    "networkPolicy": {"enabled": True},
    "agents": {"kind": "Deployment", "pdb": {"maxUnavailable": 2}, "doNotDisrupt": True,
               "pools": [{"name": "a", "replicas": 3}, {"name": "b", "replicas": 0}]},
    "outputs": {"persistence": {"enabled": True}}}
cases["object-store-restore-netpol"] = {
    "outputs": {"objectStore": {"enabled": True, "url": "s3://bucket/prefix/", "region": "eu-west-1"}},
    "metrics": {"serviceMonitor": {"enabled": True}}, "networkPolicy": {"enabled": True},
    "otel": {"endpoint": "http://collector.observability:4317"},
    "coordinator": {"job": {"failJobOnExitCodes": [99, 3, 2]}},
    "agents": {"job": {"backoffLimit": 2, "ttlSecondsAfterFinished": None}, "pdb": {"enabled": False},
               "pools": [{"name": "x", "replicas": 10}]}}
cases["existing-secrets-custom-keys"] = {
    "tls": {"coordinator": {"existingSecret": "coord-cert", "certKey": "server.pem", "keyKey": "server.key",
                            "caKey": "ca.pem", "caSecret": "swarm-ca"},
            "agent": {"existingSecret": "agent-cert", "caSecret": "swarm-ca", "caKey": "ca.pem"}},
    "token": {"existingSecret": "swarm-creds", "existingSecretKey": "agent-token"},
    "agents": {"pools": [{"name": "own", "replicas": 2, "tlsSecret": "own-cert"}, {"name": "shared", "replicas": 2}]}}

def merged(values):
    """Chart defaults with `values` over them (maps merge, lists replace), like helm does."""
    def merge(a, b):
        if isinstance(a, dict) and isinstance(b, dict):
            r = dict(a)
            for k, v in b.items():
                r[k] = merge(a.get(k), v) if k in a else v
            return r
        return copy.deepcopy(b)
    return merge(defaults, values)

SECRETISH = re.compile(r"(?i)(api_?key|token|secret|password|credential)")
REQUIRED_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                   "app.kubernetes.io/managed-by", "helm.sh/chart"]
# a Job's pod template cannot change: it carries no chart/app version (a chart upgrade would
# otherwise make a running run's Jobs un-upgradable)
JOB_POD_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"]
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}

def pod_spec(obj):
    k = obj["kind"]
    if k == "Pod":
        return obj["spec"], obj["metadata"].get("labels", {})
    if k in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        t = obj["spec"]["template"]
        return t["spec"], t["metadata"].get("labels", {})
    return None, None

def pool_of(v, pool):
    return {**v["agents"]["defaults"], **pool}

def run_name(v):
    return v.get("runName") or RELEASE

def split_docs(rendered):
    notes = rendered.pop(next((k for k in rendered if k.endswith("NOTES.txt")), "-"), None)
    docs = []
    for _, text in sorted(rendered.items()):
        for d in yaml.safe_load_all(text):
            if d:
                docs.append(d)
    return docs, notes

def render(values, **kw):
    return split_docs(chart.render(values, name=RELEASE, namespace=NS, **kw))

def subset(small, big):
    return all(big.get(k) == val for k, val in small.items())

def check_restricted(case, name, spec):
    """The restricted Pod Security Standard (Kubernetes 1.25+), as the admission plugin checks it."""
    psc = spec.get("securityContext", {})
    ok(case, not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), f"{name}: host namespaces")
    for vol in spec.get("volumes", []):
        kinds = set(vol) - {"name"}
        ok(case, kinds <= RESTRICTED_VOLUMES, f"{name}: volume {vol['name']} of a kind restricted forbids: {kinds}")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        cn = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        ok(case, sc.get("allowPrivilegeEscalation") is False, f"{cn}: allowPrivilegeEscalation is not false")
        ok(case, not sc.get("privileged"), f"{cn}: privileged")
        ok(case, "ALL" in sc.get("capabilities", {}).get("drop", []), f"{cn}: capabilities not dropped")
        ok(case, set(sc.get("capabilities", {}).get("add", []) or []) <= {"NET_BIND_SERVICE"}, f"{cn}: capabilities added")
        ok(case, sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{cn}: runAsNonRoot is not true")
        ok(case, sc.get("runAsUser", psc.get("runAsUser", 1)) != 0, f"{cn}: runs as root")
        sp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        ok(case, sp in ("RuntimeDefault", "Localhost"), f"{cn}: seccompProfile {sp}")
        ok(case, not any(p.get("hostPort") for p in c.get("ports", [])), f"{cn}: hostPort")

def check_pod(case, name, spec, labels, is_job):
    check_restricted(case, name, spec)
    psc = spec.get("securityContext", {})
    ok(case, psc.get("runAsNonRoot") is True, f"{name}: pod runAsNonRoot is not true")
    ok(case, psc.get("runAsUser", 0) != 0, f"{name}: pod runAsUser is root")
    ok(case, psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: no RuntimeDefault seccomp")
    ok(case, spec.get("automountServiceAccountToken") is False, f"{name}: service account token mounted")
    for l in (JOB_POD_LABELS if is_job else REQUIRED_LABELS) + ["app.kubernetes.io/component"]:
        ok(case, l in labels, f"{name}: pod template lacks label {l}")
    if is_job:
        ok(case, "helm.sh/chart" not in labels and "app.kubernetes.io/version" not in labels,
           f"{name}: a Job pod template carries the chart version")
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    ok(case, containers, f"{name}: no containers")
    for c in containers:
        cn = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        ok(case, sc.get("readOnlyRootFilesystem") is True, f"{cn}: readOnlyRootFilesystem is not true")
        r = c.get("resources", {})
        ok(case, r.get("requests", {}).get("cpu") and r.get("requests", {}).get("memory"),
           f"{cn}: no cpu/memory requests")
        ok(case, r.get("requests", {}).get("ephemeral-storage"), f"{cn}: no ephemeral-storage request")
        ok(case, r.get("limits", {}).get("memory"), f"{cn}: no memory limit")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        ok(case, "/tmp" in mounts, f"{cn}: read-only root without a writable /tmp")
        for e in c.get("env", []):
            if SECRETISH.search(e["name"]):
                ok(case, "value" not in e, f"{cn}: {e['name']} given as a plain value")
    for vol in spec.get("volumes", []):
        if "emptyDir" in vol:
            ok(case, vol["emptyDir"].get("sizeLimit"), f"{name}: emptyDir {vol['name']} without sizeLimit")
    return containers

def kvalidate(case, path):
    for kv in ("1.25.0", "1.37.0"):
        p = subprocess.run([KV, "--strict", "--quiet", "-k", kv, path], capture_output=True, text=True)
        ok(case, p.returncode == 0, f"kubernetes-validate --strict -k {kv}:\n{p.stdout}{p.stderr}")

def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args else None

def tls_sources(spec):
    """{path: (secret, key)} of the projected TLS volume."""
    vol = next((x for x in spec["volumes"] if x["name"] == "tls"), None)
    out = {}
    if vol:
        for src in vol["projected"]["sources"]:
            for it in src["secret"]["items"]:
                out[it["path"]] = (src["secret"]["name"], it["key"])
    return out

def openssl_sans(pem_b64):
    if not shutil.which("openssl"):
        return None
    p = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=base64.b64decode(pem_b64),
                       capture_output=True)
    return p.stdout.decode() if p.returncode == 0 else None

def expected_min_agents(v):
    a = v["agents"]
    total = sum(pool_of(v, p)["replicas"] for p in a["pools"]) + a["remoteAgents"]
    if a.get("minAgents") is not None:
        return a["minAgents"]
    plan_agents = (v["plan"]["spec"] or {}).get("agents") or {}
    if "min_agents" in plan_agents:
        return plan_agents["min_agents"]
    return math.ceil(total * a["quorumPercent"] / 100)

def check_case(case, values):
    v = merged(values)
    rn = run_name(v)
    hub = v["coordinator"]["enabled"]
    sim_on = v["llmSim"]["enabled"] if v["llmSim"]["enabled"] is not None else hub
    try:
        docs, notes = render(values, is_install=True)
    except Exception as e:
        fail(case, f"render failed: {e}")
        return
    out = os.path.join(OUT, case + ".yaml")
    with open(out, "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    # schema validation, offline, strict (unknown fields are errors)
    kvalidate(case, out)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        name = f"{d['kind']}/{d['metadata']['name']}"
        labels = d["metadata"].get("labels", {})
        for l in REQUIRED_LABELS:
            ok(case, l in labels, f"{name}: lacks label {l}")
        ok(case, labels.get("app.kubernetes.io/instance") == RELEASE, f"{name}: wrong instance label")
        ok(case, "namespace" not in d["metadata"] or d["metadata"]["namespace"] == NS, f"{name}: namespace")
        ok(case, len(d["metadata"]["name"]) <= (63 if d["kind"] in ("Job", "Service") else 253), f"{name}: name too long")
        spec, plabels = pod_spec(d)
        if spec is not None:
            check_pod(case, name, spec, plabels, d["kind"] == "Job")
    def component(kind, comp):
        return [d for d in by_kind.get(kind, []) if d["metadata"]["labels"].get("app.kubernetes.io/component") == comp]
    # names never carry the revision: a second render at another revision is identical
    try:
        docs9, _ = render(values, is_install=False, is_upgrade=True, revision=9)
        jobs1 = [d for d in docs if d["kind"] in ("Job", "Deployment")]
        jobs9 = [d for d in docs9 if d["kind"] in ("Job", "Deployment")]
        ok(case, [d["metadata"]["name"] for d in jobs1] == [d["metadata"]["name"] for d in jobs9],
           "workload names change with the revision")
        if not v["tls"]["enabled"] or not (hub and not v["tls"]["coordinator"]["existingSecret"]):
            # no random material in this render: everything but the token checksum is equal
            strip = lambda ds: [json.dumps(d, sort_keys=True) for d in ds]
            if v["token"]["existingSecret"] or not hub:
                ok(case, strip(jobs1) == strip(jobs9), "Jobs/Deployments change with the revision")
    except Exception as e:
        fail(case, f"render at revision 9 failed: {e}")

    # ---- mode: hub (with a coordinator) or agents-only
    generated = {s["metadata"]["name"] for s in by_kind.get("Secret", [])}
    svc = component("Service", "coordinator")
    coord = component(v["coordinator"]["kind"], "coordinator")
    pdbs = by_kind.get("PodDisruptionBudget", [])
    coord_pdb = [p for p in pdbs if p["metadata"]["labels"].get("app.kubernetes.io/component") == "coordinator"]
    ok(case, bool(component("Deployment", "llm-sim")) == bool(sim_on), f"llm-sim present: {not sim_on}")
    if not hub:
        ok(case, not coord and not svc and not component("Job", "coordinator"), "agents-only: a coordinator or its Service")
        ok(case, not [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == f"{FULL}-plan"], "agents-only: a plan")
        ok(case, not generated, f"agents-only: generated Secrets {generated}")
        ok(case, not coord_pdb and "Ingress" not in by_kind and "ServiceMonitor" not in by_kind
           and "PersistentVolumeClaim" not in by_kind, "agents-only: coordinator objects")
    else:
        for kind in ("Service", "ConfigMap"):
            ok(case, kind in by_kind, f"no {kind}")
        if not v["token"]["existingSecret"]:
            ok(case, f"{FULL}-token" in generated, "no generated token Secret")
        if v["tls"]["enabled"] and not v["tls"]["coordinator"]["existingSecret"]:
            ok(case, {f"{FULL}-coordinator-tls", f"{FULL}-agent-tls"} <= generated, "no generated TLS Secrets")
        if v["tls"]["enabled"] and v["tls"]["coordinator"]["existingSecret"] and v["token"]["existingSecret"]:
            ok(case, not generated, f"Secrets generated although all are given: {generated}")
        ok(case, len(coord) == 1, f"expected one coordinator {v['coordinator']['kind']}, got {len(coord)}")
        ok(case, len(svc) == 1, "no coordinator Service")
    secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    if f"{FULL}-coordinator-tls" in secrets:
        cs, ag = secrets[f"{FULL}-coordinator-tls"], secrets[f"{FULL}-agent-tls"]
        ok(case, cs["data"]["ca.crt"] == ag["data"]["ca.crt"], "generated certificates of different CAs")
        sans = cs["metadata"]["annotations"]["swarmbench.io/server-names"].split(",")
        want = [f"{FULL}-coordinator", f"{FULL}-coordinator.{NS}.svc"] + v["tls"]["coordinator"]["extraSans"]
        if v["coordinator"]["ingress"]["enabled"]:
            want.append(v["coordinator"]["ingress"]["host"])
        ok(case, set(want) <= set(sans), f"server names {sans} lack {set(want) - set(sans)}")
        text = openssl_sans(cs["data"]["tls.crt"])
        if text is not None:
            for n in want:
                ok(case, (f"DNS:{n}" in text) or (f"IP Address:{n}" in text), f"server certificate lacks SAN {n}: {text}")

    # ---- the coordinator
    if coord and svc:
        c0 = coord[0]
        is_job = c0["kind"] == "Job"
        cspec, clabels = pod_spec(c0)
        ctpl = c0["spec"]["template"]
        sel = svc[0]["spec"]["selector"]
        ok(case, subset(sel, clabels), "Service selector misses the coordinator pod")
        ports = {p["name"]: p for p in svc[0]["spec"]["ports"]}
        ok(case, ports.get("grpc", {}).get("port") == v["coordinator"]["port"], "Service has no grpc port")
        st = v["coordinator"]["service"]
        ok(case, svc[0]["spec"]["type"] == st["type"], "Service type")
        if st["type"] == "LoadBalancer":
            ok(case, svc[0]["spec"].get("loadBalancerSourceRanges", []) == st["loadBalancerSourceRanges"], "loadBalancerSourceRanges")
            if st["externalTrafficPolicy"]:
                ok(case, svc[0]["spec"].get("externalTrafficPolicy") == st["externalTrafficPolicy"], "externalTrafficPolicy")
        main = {c["name"]: c for c in cspec["containers"]}
        ok(case, "coordinator" in main, "the coordinator is not a main container (Services, probes and metrics need one)")
        c = main.get("coordinator") or cspec["initContainers"][0]
        # the Service's ports resolve to ports of a main container (a ServiceMonitor works in every mode)
        cports = {p["name"]: p["containerPort"] for x in cspec["containers"] for p in x.get("ports", [])}
        for p in svc[0]["spec"]["ports"]:
            tp = p["targetPort"]
            ok(case, (tp in cports) if isinstance(tp, str) else (tp in cports.values()), f"Service port {p['name']} targets no main container port")
        args = c["args"]
        ann = ctpl["metadata"].get("annotations", {})
        ok(case, "checksum/plan" in ann and "checksum/credentials" in ann, "coordinator pod lacks its checksums")
        if v["coordinator"]["doNotDisrupt"]:
            ok(case, ann.get("karpenter.sh/do-not-disrupt") == "true"
               and ann.get("cluster-autoscaler.kubernetes.io/safe-to-evict") == "false", "coordinator lacks do-not-disrupt annotations")
        ok(case, cspec.get("priorityClassName", "") == v["coordinator"]["priorityClassName"], "coordinator priorityClassName")
        if is_job:
            js = c0["spec"]
            ok(case, c0["metadata"]["name"] == f"{rn}-coordinator", f"coordinator Job name {c0['metadata']['name']}")
            ok(case, js["backoffLimit"] == v["coordinator"]["job"]["backoffLimit"] and (values.get("coordinator", {}).get("job", {}).get("backoffLimit") is not None or js["backoffLimit"] >= 1),
               f"coordinator backoffLimit {js['backoffLimit']}")
            ok(case, c0["metadata"]["annotations"].get("swarmbench.io/pod-template-hash"), "coordinator Job lacks its template hash")
            ok(case, clabels.get("swarmbench.io/run") == rn, "coordinator pod lacks the run label")
            ok(case, arg_after(args, "--run-dir") == f"/outputs/{rn}", f"--run-dir {arg_after(args, '--run-dir')}")
            ok(case, arg_after(args, "--outputs-dir") == "/outputs", "--outputs-dir")
            rules = js.get("podFailurePolicy", {}).get("rules", [])
            ok(case, rules and rules[0]["action"] == "Ignore" and rules[0]["onPodConditions"][0]["type"] == "DisruptionTarget",
               "podFailurePolicy does not ignore disruptions")
            fj = [r for r in rules if r["action"] == "FailJob" and r["onExitCodes"]["containerName"] == "coordinator"]
            want_codes = sorted(set(v["coordinator"]["job"]["failJobOnExitCodes"]))
            ok(case, (fj[0]["onExitCodes"]["values"] if fj else []) == want_codes, f"FailJob exit codes {fj}")
            ok(case, cspec["restartPolicy"] == "Never", "coordinator Job restartPolicy")
        else:
            ok(case, "--run-dir" not in args, "a Deployment coordinator with --run-dir (each run must be new)")
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        vols = {x["name"]: x for x in cspec["volumes"]}
        for m in v["coordinator"]["extraVolumeMounts"]:
            ok(case, mounts.get(m["name"]) == m["mountPath"], f"coordinator lacks mount {m['name']}")
        for x in v["coordinator"]["extraVolumes"]:
            ok(case, vols.get(x["name"]) == x, f"coordinator lacks volume {x['name']}")
        env = {e["name"]: e for e in c.get("env", [])}
        for k in v.get("apiKeys", []):
            e = env.get(k["name"], {})
            ref = e.get("valueFrom", {}).get("secretKeyRef", {})
            ok(case, ref == {"name": k["secretName"], "key": k["secretKey"]}, f"API key {k['name']} not from its Secret")
        if v["otel"]["endpoint"]:
            ok(case, env.get("OTEL_EXPORTER_OTLP_ENDPOINT", {}).get("value") == v["otel"]["endpoint"], "coordinator lacks OTLP env")
        if v["outputs"]["persistence"]["enabled"]:
            claim = v["outputs"]["persistence"]["existingClaim"] or f"{FULL}-outputs"
            ok(case, vols["outputs"].get("persistentVolumeClaim", {}).get("claimName") == claim, "outputs not on the claim")
            if not v["outputs"]["persistence"]["existingClaim"]:
                ok(case, "PersistentVolumeClaim" in by_kind, "no PersistentVolumeClaim")
        else:
            ok(case, vols["outputs"].get("emptyDir", {}).get("sizeLimit") == v["outputs"]["emptyDir"]["sizeLimit"], "outputs emptyDir size")
        osv = v["outputs"]["objectStore"]
        if osv["enabled"]:
            up = main.get("upload")
            ok(case, up is not None, "no upload container beside the coordinator")
            if up:
                script = up["args"][0]
                ok(case, up["command"] == ["/bin/bash", "-c"] and "run.json" in script and "aws s3 sync" in script, "upload script")
                uenv = {e["name"]: e.get("value") for e in up["env"]}
                ok(case, uenv.get("DEST_URL") == f"{osv['url'].rstrip('/')}/{rn}", f"upload DEST_URL {uenv.get('DEST_URL')}")
                ok(case, uenv.get("COORDINATOR_PORT") == str(v["coordinator"]["port"]), "upload COORDINATOR_PORT")
                ok(case, {m["mountPath"]: m.get("readOnly") for m in up["volumeMounts"]}.get("/outputs") is True, "upload mounts /outputs writable")
            inits = [x["name"] for x in cspec.get("initContainers", [])]
            want_restore = osv["restore"] and not v["outputs"]["persistence"]["enabled"]
            ok(case, inits == (["restore"] if want_restore else []), f"init containers {inits}")
            ok(case, any(r["action"] == "FailJob" and r["onExitCodes"]["containerName"] == "upload"
                         for r in c0["spec"]["podFailurePolicy"]["rules"]), "a failed upload would rerun the load test")
            ok(case, cspec["terminationGracePeriodSeconds"] >= 60, "no time to upload on SIGTERM")
        if v["tls"]["enabled"]:
            t = v["tls"]["coordinator"]
            sec = t["existingSecret"] or f"{FULL}-coordinator-tls"
            want = {"tls.crt": (sec, t["certKey"]), "tls.key": (sec, t["keyKey"]), "ca.crt": (t["caSecret"] or sec, t["caKey"])}
            ok(case, tls_sources(cspec) == want, f"coordinator TLS volume {tls_sources(cspec)} != {want}")
        tok = next(x for x in cspec["volumes"] if x["name"] == "token")["secret"]
        ok(case, tok["secretName"] == (v["token"]["existingSecret"] or f"{FULL}-token")
           and tok["items"][0]["key"] == (v["token"]["existingSecretKey"] if v["token"]["existingSecret"] else "token"), "token volume")
        # PodDisruptionBudget: the single coordinator pod is not voluntarily evicted
        if v["coordinator"]["pdb"]["enabled"]:
            ok(case, len(coord_pdb) == 1 and coord_pdb[0]["spec"].get("minAvailable") == 1, "coordinator PDB")
            if coord_pdb:
                ok(case, subset(coord_pdb[0]["spec"]["selector"]["matchLabels"], clabels), "coordinator PDB selects no coordinator pod")
        # Ingress: TLS passthrough to the gRPC port
        ing = by_kind.get("Ingress", [])
        ok(case, bool(ing) == v["coordinator"]["ingress"]["enabled"], "Ingress toggle")
        for i in ing:
            rule = i["spec"]["rules"][0]
            ok(case, rule["host"] == v["coordinator"]["ingress"]["host"], "Ingress host")
            be = rule["http"]["paths"][0]["backend"]["service"]
            ok(case, be["name"] == svc[0]["metadata"]["name"] and be["port"].get("name") == "grpc", "Ingress backend")
            ok(case, i["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/ssl-passthrough") == "true", "Ingress without TLS passthrough")
            ok(case, not i["spec"].get("tls"), "Ingress terminates TLS")

    # ---- the plan
    if hub and not v["plan"]["existingConfigMap"]:
        cm = [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == f"{FULL}-plan"]
        ok(case, len(cm) == 1, "no plan ConfigMap")
        if cm:
            plan = yaml.safe_load(cm[0]["data"]["plan.yaml"])
            ok(case, plan["coordinator"]["listen"] == f"0.0.0.0:{v['coordinator']['port']}", "plan listen address")
            ok(case, ("tls" in plan["coordinator"]) == v["tls"]["enabled"], "plan TLS section")
            want = expected_min_agents(v)
            ok(case, plan["agents"]["min_agents"] == want, f"min_agents {plan['agents']['min_agents']} != {want}")
            total = sum(pool_of(v, p)["replicas"] for p in v["agents"]["pools"]) + v["agents"]["remoteAgents"]
            ok(case, 1 <= plan["agents"]["min_agents"] <= total, "min_agents beyond the agents expected")
            if v["agents"]["waitSeconds"] is not None:
                ok(case, plan["agents"]["wait_s"] == v["agents"]["waitSeconds"], "agents.waitSeconds not in the plan")
            ok(case, "{{" not in cm[0]["data"]["plan.yaml"], "unrendered template in the plan")
            if COORD:
                pf = os.path.join(OUT, case + "-plan.yaml")
                open(pf, "w").write(cm[0]["data"]["plan.yaml"])
                p = subprocess.run([COORD, "validate", pf], capture_output=True, text=True,
                                   env=dict(os.environ, LLM_API_KEY="x"))
                ok(case, p.returncode == 0, f"coordinator validate: {p.stdout}{p.stderr}")
    else:
        cm = [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == f"{FULL}-plan"]
        ok(case, not cm, "a plan ConfigMap although there is no plan to render")

    # ---- agent pools: one Job (or Deployment) each
    kind = v["agents"]["kind"]
    is_jobs = kind == "Job"
    agents = {d["metadata"]["labels"].get("swarmbench.io/pool"): d for d in component(kind, "agent")}
    other = component("Deployment" if is_jobs else "Job", "agent")
    ok(case, not other, f"agents.kind {kind} but also {[d['kind'] for d in other]}")
    want_pools = [p["name"] for p in v["agents"]["pools"] if not (is_jobs and pool_of(v, p)["replicas"] == 0)]
    ok(case, sorted(agents) == sorted(want_pools), f"agent {kind}s {sorted(agents)} != {sorted(want_pools)}")
    url = v["agents"]["coordinatorUrl"] or f"{'https' if v['tls']['enabled'] else 'http'}://{FULL}-coordinator:{v['coordinator']['port']}"
    for pool in v["agents"]["pools"]:
        d = agents.get(pool["name"])
        if not d:
            continue
        p = pool_of(v, pool)
        name = f"agent pool {pool['name']}"
        spec, plabels = pod_spec(d)
        tpl = d["spec"]["template"]
        if is_jobs:
            js = d["spec"]
            ok(case, d["metadata"]["name"] == f"{rn}-agent-{pool['name']}", f"{name}: Job name {d['metadata']['name']}")
            ok(case, js["parallelism"] == js["completions"] == p["replicas"], f"{name}: parallelism/completions")
            ok(case, js.get("completionMode") == "Indexed", f"{name}: not an Indexed Job (cannot be scaled)")
            ok(case, spec["restartPolicy"] == "OnFailure", f"{name}: restartPolicy")
            want_ttl = v["agents"]["job"]["ttlSecondsAfterFinished"]
            ok(case, js.get("ttlSecondsAfterFinished") == want_ttl, f"{name}: ttlSecondsAfterFinished")
            want_bl = v["agents"]["job"]["backoffLimit"]
            ok(case, js["backoffLimit"] == (want_bl if want_bl is not None else max(6, 2 * p["replicas"])), f"{name}: backoffLimit")
            ok(case, plabels.get("swarmbench.io/run") == rn, f"{name}: pod lacks the run label")
            ok(case, d["metadata"]["annotations"].get("swarmbench.io/pod-template-hash"), f"{name}: no template hash")
        else:
            ok(case, d["metadata"]["name"] == f"{FULL}-agent-{pool['name']}", f"{name}: Deployment name")
            ok(case, d["spec"]["replicas"] == p["replicas"], f"{name}: replicas")
            ok(case, subset(d["spec"]["selector"]["matchLabels"], plabels), f"{name}: selector")
            ok(case, "swarmbench.io/run" not in d["spec"]["selector"]["matchLabels"], f"{name}: run label in an immutable selector")
        ok(case, plabels.get("swarmbench.io/pool") == pool["name"], f"{name}: pod lacks the pool label")
        ann = tpl["metadata"].get("annotations", {})
        ok(case, re.fullmatch(r"[0-9a-f]{64}", ann.get("checksum/credentials", "")), f"{name}: no credentials checksum")
        dnd = v["agents"]["doNotDisrupt"] if v["agents"]["doNotDisrupt"] is not None else is_jobs
        ok(case, (ann.get("karpenter.sh/do-not-disrupt") == "true") == dnd, f"{name}: do-not-disrupt annotation")
        ok(case, spec.get("priorityClassName", "") == p.get("priorityClassName", ""), f"{name}: priorityClassName")
        want_ns = {**v["agents"]["defaults"].get("nodeSelector", {}), **pool.get("nodeSelector", {})}
        ok(case, spec.get("nodeSelector", {}) == want_ns, f"{name}: nodeSelector {spec.get('nodeSelector')} != {want_ns}")
        tsc = spec.get("topologySpreadConstraints", [])
        if pool.get("topologySpreadConstraints") or v["agents"]["topologySpread"]["enabled"]:
            ok(case, tsc, f"{name}: no topologySpreadConstraints")
            for tc in tsc:
                ml = tc.get("labelSelector", {}).get("matchLabels", {})
                ok(case, ml and subset(ml, plabels), f"{name}: spread selector misses its pods")
        else:
            ok(case, not tsc, f"{name}: topology spread although disabled")
        c = spec["containers"][0]
        args = c["args"]
        labels = {**{"pool": pool["name"]}, **{k: str(x) for k, x in (pool.get("labels") or {}).items()}}
        got = {args[i + 1] for i, a in enumerate(args) if a == "--label"}
        ok(case, got == {f"{k}={x}" for k, x in labels.items()}, f"{name}: --label args {got}")
        ok(case, arg_after(args, "--coordinator") == url, f"{name}: coordinator URL {arg_after(args, '--coordinator')} != {url}")
        ok(case, arg_after(args, "--tls-domain") == (v["agents"]["tlsDomain"] or None), f"{name}: --tls-domain")
        ok(case, arg_after(args, "--data-dir") == (v["agents"]["dataDir"] or None), f"{name}: --data-dir")
        give_up = v["agents"]["giveUpAfterSeconds"] if v["agents"]["giveUpAfterSeconds"] is not None else (600 if is_jobs else 0)
        ok(case, arg_after(args, "--give-up-after") == str(give_up), f"{name}: --give-up-after {arg_after(args, '--give-up-after')}")
        ok(case, ("--stay" in args) == (not is_jobs), f"{name}: --stay")
        if v["tls"]["enabled"]:
            ok(case, "--tls-cert" in args and "--tls-key" in args and "--tls-ca" in args, f"{name}: no client certificate")
            t = v["tls"]["agent"]
            sec = pool.get("tlsSecret") or t["existingSecret"] or f"{FULL}-agent-tls"
            want = {"tls.crt": (sec, t["certKey"]), "tls.key": (sec, t["keyKey"]), "ca.crt": (t["caSecret"] or sec, t["caKey"])}
            ok(case, tls_sources(spec) == want, f"{name}: TLS volume {tls_sources(spec)} != {want}")
        else:
            ok(case, "--insecure" in args, f"{name}: plaintext without --insecure")
        tok = next(x for x in spec["volumes"] if x["name"] == "token")["secret"]
        ok(case, tok["secretName"] == (v["token"]["existingSecret"] or f"{FULL}-token"), f"{name}: token Secret")
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        for m in p.get("extraVolumeMounts", []):
            ok(case, mounts.get(m["name"]) == m["mountPath"], f"{name}: lacks mount {m['name']}")
        # the pool's PDB
        if v["agents"]["pdb"]["enabled"]:
            mu = v["agents"]["pdb"]["maxUnavailable"]
            pp = [x for x in pdbs if x["metadata"]["labels"].get("swarmbench.io/pool") == pool["name"]]
            if is_jobs and p["replicas"] - mu <= 0:
                ok(case, not pp, f"{name}: a PDB that allows everything")
            else:
                ok(case, len(pp) == 1, f"{name}: no PDB")
                if pp:
                    ok(case, subset(pp[0]["spec"]["selector"]["matchLabels"], plabels), f"{name}: PDB selects none of its pods")
                    if is_jobs:
                        ok(case, pp[0]["spec"].get("minAvailable") == p["replicas"] - mu and "maxUnavailable" not in pp[0]["spec"],
                           f"{name}: Job PDB must use an integer minAvailable")
                    else:
                        ok(case, pp[0]["spec"].get("maxUnavailable") == mu, f"{name}: PDB maxUnavailable")
    if not v["agents"]["pdb"]["enabled"]:
        ok(case, not [x for x in pdbs if x["metadata"]["labels"].get("app.kubernetes.io/component") == "agent"], "agent PDB although disabled")

    # ---- NetworkPolicies: each selects its pods, and lets the agents reach the coordinator
    nps = {d["metadata"]["labels"].get("app.kubernetes.io/component"): d for d in by_kind.get("NetworkPolicy", [])}
    if v["networkPolicy"]["enabled"]:
        want = {"agent"} | ({"coordinator"} if hub else set()) | ({"llm-sim"} if sim_on else set())
        ok(case, set(nps) == want, f"NetworkPolicies {sorted(nps)} != {sorted(want)}")
        pods = {}
        for d in docs:
            spec, plabels = pod_spec(d)
            if spec is not None and "helm.sh/hook" not in d["metadata"].get("annotations", {}):
                pods.setdefault(plabels["app.kubernetes.io/component"], []).append(plabels)
        for comp, np_ in nps.items():
            sel = np_["spec"]["podSelector"]["matchLabels"]
            ok(case, pods.get(comp) and all(subset(sel, l) for l in pods[comp]), f"NetworkPolicy {comp} selects none of its pods")
            for r in np_["spec"].get("egress", []):
                if any(p.get("port") == 53 for p in r.get("ports", [])):
                    break
            else:
                if "Egress" in np_["spec"]["policyTypes"]:
                    fail(case, f"NetworkPolicy {comp}: no DNS egress")
        ag = nps.get("agent")
        if ag:
            ok(case, not ag["spec"].get("ingress"), "agents accept connections")
            port = int(re.search(r":(\d+)$", url).group(1)) if re.search(r":(\d+)$", url) else 443
            rules = [r for r in ag["spec"]["egress"] if any(p.get("port") == port for p in r.get("ports", []))]
            ok(case, rules, f"agents cannot reach the coordinator port {port}")
            if hub and not v["agents"]["coordinatorUrl"] and rules and pods.get("coordinator"):
                sel = rules[0]["to"][0]["podSelector"]["matchLabels"]
                ok(case, all(subset(sel, l) for l in pods["coordinator"]), "agents' egress rule misses the coordinator pod")
        co = nps.get("coordinator")
        if co and pods.get("agent"):
            r0 = co["spec"]["ingress"][0]
            ok(case, all(subset(r0["from"][0]["podSelector"]["matchLabels"], l) for l in pods["agent"])
               and r0["ports"][0]["port"] == v["coordinator"]["port"], "the coordinator does not admit this release's agents")
            if v["metrics"]["serviceMonitor"]["enabled"]:
                ok(case, any(p.get("port") == v["metrics"]["port"] for r in co["spec"]["ingress"] for p in r.get("ports", [])),
                   "metrics port not admitted")
            if v["outputs"]["objectStore"]["enabled"]:
                ok(case, any(p.get("port") in (443, 9000) for r in co["spec"]["egress"] for p in r.get("ports", [])), "no egress to the object store")
        sp = nps.get("llm-sim")
        if sp:
            ok(case, not sp["spec"].get("egress") and sp["spec"]["policyTypes"] == ["Ingress"], "llm-sim policy")
    else:
        ok(case, not nps, "NetworkPolicy although disabled")

    # ---- secrets: generated TLS material is complete; nothing secret leaks into ConfigMaps
    for s in by_kind.get("Secret", []):
        if s.get("type") == "kubernetes.io/tls":
            ok(case, {"ca.crt", "tls.crt", "tls.key"} <= set(s.get("data", {})), f"Secret {s['metadata']['name']}: keys")
    for cm in by_kind.get("ConfigMap", []):
        text = json.dumps(cm.get("data", {}))
        ok(case, "PRIVATE KEY" not in text, f"ConfigMap {cm['metadata']['name']} holds a private key")
    # ServiceMonitor (no schema bundled for the CRD: check its shape here)
    sm = by_kind.get("ServiceMonitor", [])
    ok(case, bool(sm) == (hub and v["metrics"]["serviceMonitor"]["enabled"]), "ServiceMonitor toggle")
    for s in sm:
        ok(case, s["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor port")
        ok(case, svc and any(p["name"] == "metrics" for p in svc[0]["spec"]["ports"]), "Service lacks the metrics port")
        ok(case, svc and subset(s["spec"]["selector"]["matchLabels"], svc[0]["metadata"]["labels"]), "ServiceMonitor selects no Service")
    # helm test hook
    tests = [d for d in docs if d["kind"] == "Pod" and d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    ok(case, len(tests) == (1 if v["tests"]["enabled"] else 0), "helm test hook pod")
    for t in tests:
        cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == t["spec"]["volumes"][0]["configMap"]["name"]]
        ok(case, cms and cms[0]["metadata"]["annotations"].get("helm.sh/hook") == "test", "test plan ConfigMap is not a test hook")
        if cms and COORD:
            pf = os.path.join(OUT, case + "-test-plan.yaml")
            open(pf, "w").write(cms[0]["data"]["plan.yaml"])
            p = subprocess.run([COORD, "validate", pf], capture_output=True, text=True)
            ok(case, p.returncode == 0, f"coordinator validate (test plan): {p.stdout}{p.stderr}")
    # NOTES.txt: where results are, and fetch pods that the restricted Pod Security level admits
    if hub:
        ok(case, notes and "Fetch the results" in notes and "helm test" in notes, "NOTES.txt")
        ok(case, notes and f"-coordinator" in notes and "{{" not in notes, "NOTES.txt names")
        if v["coordinator"]["kind"] == "Job":
            ok(case, f"job/{rn}-coordinator" in notes, "NOTES.txt: logs of the wrong Job")
    else:
        ok(case, notes and "agents only" in notes and url in notes, "agents-only NOTES.txt")
    overrides = re.findall(r"--overrides='(\{.*\})'", notes or "")
    want_fetch = 2 if (hub and v["outputs"]["persistence"]["enabled"]) else 0
    ok(case, len(overrides) == want_fetch, f"NOTES.txt: {len(overrides)} fetch pods, expected {want_fetch}")
    fetch_docs = []
    for i, o in enumerate(overrides):
        try:
            pod = json.loads(o)
        except ValueError as e:
            fail(case, f"NOTES.txt: --overrides is not JSON: {e}")
            continue
        pod.update({"kind": "Pod", "metadata": {"name": f"fetch-{i}"}})
        fetch_docs.append(pod)
        check_restricted(case, f"NOTES fetch pod {i}", pod["spec"])
        ok(case, pod["spec"]["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault", "NOTES fetch pod: seccomp")
        claim = v["outputs"]["persistence"]["existingClaim"] or f"{FULL}-outputs"
        ok(case, any(x.get("persistentVolumeClaim", {}).get("claimName") == claim for x in pod["spec"]["volumes"]), "NOTES fetch pod: claim")
    if fetch_docs:
        dash = fetch_docs[0]["spec"]["containers"][0]
        image = f"{v['image']['repository']}:{v['image']['tag'] or chart.metadata.get('appVersion')}"
        ok(case, dash["image"] == image and dash["command"] == ["coordinator"] and dash["args"][:3] == ["app", "--outputs-dir", "/outputs"],
           "NOTES: the dashboard pod does not run the chart's own image")
        fp = os.path.join(OUT, case + "-notes-pods.yaml")
        with open(fp, "w") as f:
            yaml.safe_dump_all(fetch_docs, f, sort_keys=False)
        kvalidate(case + " (NOTES fetch pods)", fp)
    print(f"  {case}: {len(docs)} objects ({', '.join(sorted(by_kind))})")

for case, values in cases.items():
    check_case(case, values)

# ---- upgrades: `lookup` against a fake API server ---------------------------------------------
class FakeAPI:
    """Answers what Helm's `lookup` asks: discovery of v1 and batch/v1, and GET of one Secret,
    ConfigMap or Job; everything else is 404."""
    RES = {"Secret": ("/api/v1", "secrets"), "ConfigMap": ("/api/v1", "configmaps"), "Job": ("/apis/batch/v1", "jobs")}

    def __init__(self):
        self.objects = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                body = api.answer(path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body if body is not None else
                                            {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                             "reason": "NotFound", "code": 404}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        kubeconfig = yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "fake", "user": {"token": "fake"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": NS}}]})
        self.config = helm.Config(kubeconfig_content=kubeconfig, namespace=NS, storage_driver="memory")

    def answer(self, path):
        if path == "/api/v1":
            return {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": ["get", "list"]},
                {"name": "configmaps", "singularName": "configmap", "namespaced": True, "kind": "ConfigMap", "verbs": ["get", "list"]}]}
        if path == "/apis/batch/v1":
            return {"kind": "APIResourceList", "groupVersion": "batch/v1", "resources": [
                {"name": "jobs", "singularName": "job", "namespaced": True, "kind": "Job", "verbs": ["get", "list"]}]}
        return self.objects.get(path)

    def serve(self, docs):
        """Serves these objects (as the cluster holds them after an install), and nothing else."""
        self.objects = {}
        for d in docs:
            if d["kind"] in self.RES:
                base, res = self.RES[d["kind"]]
                obj = copy.deepcopy(d)
                obj["metadata"]["namespace"] = NS
                self.objects[f"{base}/namespaces/{NS}/{res}/{d['metadata']['name']}"] = obj

    def upgrade(self, values, revision=2):
        return split_docs(self.config.render(chart, values, name=RELEASE, namespace=NS, revision=revision, is_upgrade=True))

api = FakeAPI()

def find(docs, kind, name):
    return next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name), None)

def tpl_of(docs, kind, name):
    d = find(docs, kind, name)
    return d and d["spec"]["template"]

def checksum(docs, kind, name):
    t = tpl_of(docs, kind, name)
    return t and t["metadata"]["annotations"]["checksum/credentials"]

def upgrade_tests():
    case = "upgrade"
    V = {"agents": {"pools": [{"name": "p", "replicas": 3}]}}
    AJ, CJ = f"{RELEASE}-agent-p", f"{RELEASE}-coordinator"
    SECRETS = [f"{FULL}-coordinator-tls", f"{FULL}-agent-tls", f"{FULL}-token"]
    d1, _ = render(V, is_install=True)
    d1b, _ = render(V, is_install=True)
    # without lookup (offline), every render makes new material: what keeps it is lookup
    ok(case, find(d1, "Secret", SECRETS[0])["data"] != find(d1b, "Secret", SECRETS[0])["data"],
       "offline renders share certificates: the test would not show lookup at work")
    api.serve(d1)
    d2, _ = api.upgrade(V)
    for s in SECRETS:
        a, b = find(d1, "Secret", s), find(d2, "Secret", s)
        ok(case, b and a["data"] == b["data"], f"{s}: regenerated on upgrade")
        ok(case, b and a["metadata"].get("annotations") == b["metadata"].get("annotations"), f"{s}: annotations changed")
    ok(case, find(d1, "Job", AJ) == find(d2, "Job", AJ), "agent Job (pod template, checksum) changed on an upgrade that changes nothing")
    ok(case, find(d1, "Job", CJ) == find(d2, "Job", CJ), "coordinator Job changed on an upgrade that changes nothing")
    # an upgrade that only scales the agents leaves the coordinator Job as it is
    V5 = {"agents": {"pools": [{"name": "p", "replicas": 5}]}}
    d3, _ = api.upgrade(V5)
    ok(case, find(d1, "Job", CJ) == find(d3, "Job", CJ), "scaling the agents changes the coordinator Job")
    ok(case, tpl_of(d1, "Job", AJ) == tpl_of(d3, "Job", AJ), "scaling the agents changes their pod template")
    j3 = find(d3, "Job", AJ)
    ok(case, j3 and j3["spec"]["parallelism"] == j3["spec"]["completions"] == 5, "agent Job not scaled")
    plan3 = yaml.safe_load(find(d3, "ConfigMap", f"{FULL}-plan")["data"]["plan.yaml"])
    ok(case, plan3["agents"]["min_agents"] == 5, "the scaled plan's min_agents")
    # the token changes in the cluster: reused as it is now, and the agents' checksum follows
    rotated = copy.deepcopy(d1)
    find(rotated, "Secret", f"{FULL}-token")["data"]["token"] = base64.b64encode(b"rotated-token-0123456789").decode()
    api.serve(rotated)
    try:
        api.upgrade(V)
        fail(case, "an upgrade that changes a running agent Job's pod template rendered (the API server would refuse it)")
    except Exception as e:
        # the coordinator reads the token too: its Job's guard may speak first
        ok(case, "new runName" in str(e) and (AJ in str(e) or CJ in str(e)), f"immutable-Job guard message: {e}")
    d4, _ = api.upgrade({**V, "runName": "bench-2"})
    ok(case, find(d4, "Secret", f"{FULL}-token")["data"]["token"] == find(rotated, "Secret", f"{FULL}-token")["data"]["token"],
       "the cluster's token was not reused verbatim")
    ok(case, checksum(d4, "Job", "bench-2-agent-p") not in (None, checksum(d1, "Job", AJ)), "agents' checksum unchanged after the token changed")
    ok(case, find(d4, "Job", "bench-2-coordinator") and not find(d4, "Job", CJ), "a new runName does not make new Jobs")
    # a new plan for the same run: refused with a message, not "field is immutable"
    api.serve(d1)
    Vp = merged(V)["plan"]["spec"]
    Vp = copy.deepcopy(Vp)
    Vp["workloads"][0]["perf"]["max_tokens"] = 64
    try:
        api.upgrade({**V, "plan": {"spec": Vp}})
        fail(case, "a new plan for a running coordinator Job rendered")
    except Exception as e:
        ok(case, "new runName" in str(e) and CJ in str(e), f"coordinator guard message: {e}")
    # server names change: the certificates are made again (a new CA, and the name in the SANs)
    d5, _ = api.upgrade({**V, "runName": "bench-3", "tls": {"coordinator": {"extraSans": ["swarm.example.com"]}}})
    c5 = find(d5, "Secret", SECRETS[0])
    ok(case, c5["data"]["ca.crt"] != find(d1, "Secret", SECRETS[0])["data"]["ca.crt"], "new server names, old certificate")
    ok(case, "swarm.example.com" in c5["metadata"]["annotations"]["swarmbench.io/server-names"], "server-names annotation")
    sans = openssl_sans(c5["data"]["tls.crt"])
    if sans is not None:
        ok(case, "DNS:swarm.example.com" in sans, f"regenerated certificate lacks the new name: {sans}")
    # certificates close to their end are renewed
    expiring = copy.deepcopy(d1)
    find(expiring, "Secret", SECRETS[0])["metadata"]["annotations"]["swarmbench.io/not-after"] = str(int(time.time()) + 86400)
    api.serve(expiring)
    d6, _ = api.upgrade({**V, "runName": "bench-4"})
    ok(case, find(d6, "Secret", SECRETS[1])["data"] != find(d1, "Secret", SECRETS[1])["data"], "an expiring certificate was kept")
    # Deployment agents: the same pod template on a plain upgrade, a new one when the token changes
    VD = {"agents": {"kind": "Deployment", "pools": [{"name": "p", "replicas": 3}]}, "coordinator": {"kind": "Deployment"}}
    DD = f"{FULL}-agent-p"
    e1, _ = render(VD, is_install=True)
    api.serve(e1)
    e2, _ = api.upgrade(VD)
    ok(case, tpl_of(e1, "Deployment", DD) == tpl_of(e2, "Deployment", DD), "Deployment agents' pod template changed on a no-op upgrade")
    rot = copy.deepcopy(e1)
    find(rot, "Secret", f"{FULL}-agent-tls")["data"]["tls.key"] = find(rot, "Secret", f"{FULL}-coordinator-tls")["data"]["tls.key"]
    api.serve(rot)
    e3, _ = api.upgrade(VD)
    ok(case, tpl_of(e3, "Deployment", DD) != tpl_of(e1, "Deployment", DD)
       and checksum(e3, "Deployment", DD) != checksum(e1, "Deployment", DD), "a new client key does not roll the agents")
    t1, t3 = copy.deepcopy(tpl_of(e1, "Deployment", DD)), copy.deepcopy(tpl_of(e3, "Deployment", DD))
    for t in (t1, t3):
        del t["metadata"]["annotations"]["checksum/credentials"]
    ok(case, t1 == t3, "the pod template changed in more than its checksum")
    # existing Secrets (the production path): the checksum follows the Secrets' data, only the keys mounted
    VE = {**EXISTING, "agents": {"pools": [{"name": "p", "replicas": 3}]}}
    def ex_secrets(key_pem, extra="x"):
        mk = lambda name, data: {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                                 "data": {k: base64.b64encode(x.encode()).decode() for k, x in data.items()}}
        return [mk("swarmbench-agent-tls", {"ca.crt": "CA", "tls.crt": "CRT", "tls.key": key_pem, "unrelated": extra}),
                mk("swarmbench-coordinator-tls", {"ca.crt": "CA", "tls.crt": "SRV", "tls.key": "SKEY"}),
                mk("swarmbench-token", {"token": "TOKEN"})]
    api.serve(ex_secrets("KEY1"))
    f1, _ = api.upgrade(VE)
    f2, _ = api.upgrade(VE)
    api.serve(ex_secrets("KEY1", extra="y"))
    f3, _ = api.upgrade(VE)
    api.serve(ex_secrets("KEY2"))
    f4, _ = api.upgrade({**VE, "runName": "bench-5"})
    ok(case, checksum(f1, "Job", AJ) == checksum(f2, "Job", AJ), "existing Secrets: checksum not stable")
    ok(case, checksum(f1, "Job", AJ) == checksum(f3, "Job", AJ), "existing Secrets: a key the agents do not mount changes their checksum")
    ok(case, checksum(f4, "Job", "bench-5-agent-p") != checksum(f1, "Job", AJ), "existing Secrets: a new key does not change the checksum")
    ok(case, not [d for d in f1 if d["kind"] == "Secret"], "existing Secrets: the chart made Secrets")
    # the release revision appears nowhere in what a run consists of
    api.serve(d1)
    g2, _ = api.upgrade(V, revision=2)
    g9, _ = api.upgrade(V, revision=9)
    strip = lambda ds: sorted(json.dumps(d, sort_keys=True) for d in ds if d["kind"] in ("Job", "Secret", "ConfigMap", "PodDisruptionBudget"))
    ok(case, strip(g2) == strip(g9), "Jobs, Secrets or ConfigMaps depend on the release revision")
    print(f"  upgrade: material and pod templates stable across upgrades, guarded and renewed when they change")

try:
    upgrade_tests()
except Exception as e:
    import traceback
    fail("upgrade", f"{e}\n{traceback.format_exc()}")

# ---- the uploader's script, with a stub aws and a stand-in coordinator ------------------------
def uploader_tests():
    case = "uploader"
    if not shutil.which("bash"):
        print("  uploader: skipped (no bash)")
        return
    docs, _ = render({"outputs": {"objectStore": {"enabled": True, "url": "s3://b/p"}}}, is_install=True)
    job = find(docs, "Job", f"{RELEASE}-coordinator")
    up = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "upload")
    script = up["args"][0]
    restore = job["spec"]["template"]["spec"]["initContainers"][0]["args"][0]

    def scenario(name, coordinator, start_timeout="600", run_json_before=None):
        tmp = tempfile.mkdtemp(prefix="swarm-upload-")
        outputs, bindir, bucket = os.path.join(tmp, "outputs"), os.path.join(tmp, "bin"), os.path.join(tmp, "bucket")
        os.makedirs(bindir)
        os.makedirs(bucket)
        run = os.path.join(outputs, "r1")
        os.makedirs(run)
        if run_json_before:
            open(os.path.join(run, "run.json"), "w").write(run_json_before)
        # aws s3 sync SRC DST: copies SRC into bucket/<DST minus s3://>, logs each call
        open(os.path.join(bindir, "aws"), "w").write(
            "#!/bin/bash\necho \"$*\" >> \"$AWS_LOG\"\nsrc=${@: -2:1}; dst=${@: -1}\n"
            "case $dst in s3://*) mkdir -p \"$BUCKET/${dst#s3://}\" && cp -r \"$src/.\" \"$BUCKET/${dst#s3://}/\";;"
            " *) mkdir -p \"$dst\" && cp -r \"$BUCKET/${src#s3://}/.\" \"$dst/\" 2>/dev/null;; esac\n")
        os.chmod(os.path.join(bindir, "aws"), 0o755)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", AWS_LOG=os.path.join(tmp, "aws.log"), BUCKET=bucket,
                   RUN_NAME="r1", DEST_URL="s3://b/p/r1", ENDPOINT_URL="", COORDINATOR_PORT=str(port),
                   SYNC_INTERVAL="5", SETTLE_SECONDS="5", START_TIMEOUT=start_timeout, STOP_WAIT="10")
        sh = script.replace('"/outputs/$RUN_NAME"', f'"{outputs}/$RUN_NAME"')
        t0 = time.time()
        proc = subprocess.Popen(["bash", "-c", sh], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            coordinator(run, port)
            rc = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "timeout"
        log = proc.stdout.read()
        took = time.time() - t0
        uploaded = os.path.join(bucket, "b/p/r1")
        res = (name, rc, log, took, uploaded, tmp, env)
        return res

    def normal(run, port):
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port)); srv.listen(16)
        open(os.path.join(run, "run.json"), "w").write('{\n  "status": "running"\n}')
        time.sleep(8)
        open(os.path.join(run, "report.html"), "w").write("partial")
        time.sleep(7)
        open(os.path.join(run, "run.json"), "w").write('{\n  "status": "failed",\n  "outcome": "threshold"\n}')
        time.sleep(2)  # still listening while the report is written
        open(os.path.join(run, "report.html"), "w").write("final report")
        srv.close()

    def crash(run, port):
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port)); srv.listen(16)
        open(os.path.join(run, "run.json"), "w").write('{"status":"running"}')
        time.sleep(4)
        open(os.path.join(run, "requests.sqlite"), "w").write("rows")
        time.sleep(3)
        srv.close()  # OOM-killed: no final run.json

    def never(run, port):
        pass

    def resumed(run, port):
        # a retried pod: run.json of the earlier attempt says failed; this one runs, then ends
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port)); srv.listen(16)
        time.sleep(12)  # gathering agents: nothing written yet
        open(os.path.join(run, "run.json"), "w").write('{\n  "status": "running"\n}')
        time.sleep(3)
        open(os.path.join(run, "run.json"), "w").write('{\n  "status": "done"\n}')
        srv.close()

    with ThreadPoolExecutor(max_workers=4) as ex:
        futs = [ex.submit(scenario, "normal", normal), ex.submit(scenario, "crash", crash),
                ex.submit(scenario, "never", never, start_timeout="6"),
                ex.submit(scenario, "resumed", resumed, run_json_before='{\n  "status": "failed"\n}')]
        results = [f.result() for f in futs]
    for name, rc, log, took, uploaded, tmp, env in results:
        ok(case, rc == 0, f"{name}: exit {rc}\n{log}")
        if name == "normal":
            ok(case, open(os.path.join(uploaded, "run.json")).read().count('"failed"') == 1, f"{name}: final run.json not uploaded\n{log}")
            ok(case, open(os.path.join(uploaded, "report.html")).read() == "final report", f"{name}: the report written after run.json was not uploaded\n{log}")
            calls = open(env["AWS_LOG"]).read().splitlines()
            ok(case, len(calls) >= 2, f"{name}: no periodic upload while the run went ({calls})")
        if name == "crash":
            ok(case, os.path.exists(os.path.join(uploaded, "requests.sqlite")), f"{name}: results of a crashed coordinator not uploaded\n{log}")
        if name == "never":
            ok(case, "no sign of the coordinator" in log, f"{name}: {log}")
        if name == "resumed":
            ok(case, took > 14 and '"done"' in open(os.path.join(uploaded, "run.json")).read(),
               f"{name}: the earlier attempt's run.json was taken for this one's end ({took:.0f} s)\n{log}")
        shutil.rmtree(tmp, ignore_errors=True)
    # the restore init container brings the bucket's folder back
    tmp = tempfile.mkdtemp(prefix="swarm-restore-")
    bindir, bucket, outputs = os.path.join(tmp, "bin"), os.path.join(tmp, "bucket"), os.path.join(tmp, "outputs")
    os.makedirs(os.path.join(bucket, "b/p/r1"))
    os.makedirs(bindir)
    open(os.path.join(bucket, "b/p/r1/plan.yaml"), "w").write("name: x\n")
    open(os.path.join(bindir, "aws"), "w").write("#!/bin/bash\nsrc=${@: -2:1}; dst=${@: -1}\nmkdir -p \"$dst\" && cp -r \"$BUCKET/${src#s3://}/.\" \"$dst/\"\n")
    os.chmod(os.path.join(bindir, "aws"), 0o755)
    p = subprocess.run(["bash", "-c", restore.replace('"/outputs/$RUN_NAME"', f'"{outputs}/$RUN_NAME"')], capture_output=True, text=True,
                       env=dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", BUCKET=bucket, RUN_NAME="r1", DEST_URL="s3://b/p/r1", ENDPOINT_URL=""))
    ok(case, p.returncode == 0 and os.path.exists(os.path.join(outputs, "r1/plan.yaml")), f"restore: {p.stdout}{p.stderr}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"  uploader: uploads on a final run.json, on a crash, when the coordinator never starts, after a resume; restore")

try:
    uploader_tests()
except Exception as e:
    import traceback
    fail("uploader", f"{e}\n{traceback.format_exc()}")

# ---- values the chart must refuse ------------------------------------------------------------
# (values, a piece of the expected error)
must_fail = {
    "plain API key": ({"apiKeys": [{"name": "LLM_API_KEY", "value": "sk-123"}]}, "/apiKeys/0"),
    "secret-looking env value": ({"coordinator": {"env": [{"name": "OPENAI_API_KEY", "value": "sk-123"}]}},
                                 "looks like a secret"),
    "agent secret env value": ({"agents": {"pools": [{"name": "a", "env": [{"name": "HF_TOKEN", "value": "x"}]}]}},
                               "looks like a secret"),
    "root pod": ({"podSecurityContext": {"runAsNonRoot": False}}, "/podSecurityContext/runAsNonRoot"),
    "privilege escalation": ({"securityContext": {"allowPrivilegeEscalation": True}},
                             "/securityContext/allowPrivilegeEscalation"),
    "capabilities kept": ({"securityContext": {"capabilities": {"drop": []}}}, "/securityContext/capabilities/drop"),
    "plan with its own coordinator section": ({"plan": {"spec": {"version": 1, "targets": [{}], "workloads": [{}],
                                                                 "coordinator": {"listen": "0.0.0.0:1"}}}},
                                              "/plan/spec/coordinator"),
    "object store with a Deployment": ({"coordinator": {"kind": "Deployment"}, "agents": {"kind": "Deployment"},
                                        "outputs": {"objectStore": {"enabled": True, "url": "s3://b/p"}}},
                                       "needs coordinator.kind Job"),
    "object store without a URL": ({"outputs": {"objectStore": {"enabled": True}}}, "url is required"),
    "duplicate pool names": ({"agents": {"pools": [{"name": "a"}, {"name": "a"}]}}, "used twice"),
    "bad pool name": ({"agents": {"pools": [{"name": "Bad_Name"}]}}, "/agents/pools/0/name"),
    "half of the TLS secrets": ({"tls": {"coordinator": {"existingSecret": "x"}}}, "give both"),
    "unknown coordinator kind": ({"coordinator": {"kind": "CronJob"}}, "/coordinator/kind"),
    "unknown agents kind": ({"agents": {"kind": "StatefulSet"}}, "/agents/kind"),
    "unknown value": ({"coordinatr": {}}, "coordinatr"),
    "agents-only without a coordinator URL": ({**AGENTS_ONLY, "agents": {"pools": [{"name": "a"}]}}, "agents.coordinatorUrl is required"),
    "agents-only without a client certificate": ({**AGENTS_ONLY, "tls": {}}, "needs tls.agent.existingSecret"),
    "agents-only without a token": ({**AGENTS_ONLY, "token": {}}, "needs token.existingSecret"),
    "a coordinator URL without a scheme": ({"agents": {"coordinatorUrl": "swarm.example.com:7070"}}, "/agents/coordinatorUrl"),
    "a quorum larger than the agents": ({"agents": {"minAgents": 3}}, "more than the 2 agents expected"),
    "no agents at all": ({"agents": {"pools": [{"name": "a", "replicas": 0}]}}, "the plan has no agents"),
    "Deployment coordinator with Job agents": ({"coordinator": {"kind": "Deployment"}}, "use agents.kind Deployment"),
    "an Ingress without a host": ({"coordinator": {"ingress": {"enabled": True}}}, "coordinator.ingress.host is required"),
    "a run name that is no DNS label": ({"runName": "Run_1"}, "/runName"),
    "a run name too long for Job names": ({"runName": "r" * 37}, "/runName"),
    "a hostPath volume": ({"coordinator": {"extraVolumes": [{"name": "h", "hostPath": {"path": "/"}}]}},
                          "'hostPath' not allowed"),
    "an nfs volume for agents": ({"agents": {"pools": [{"name": "a", "extraVolumes": [{"name": "n", "nfs": {"server": "x", "path": "/"}}]}]}},
                                "/agents/pools/0/extraVolumes/0"),
    "exit status 0 as a verdict": ({"coordinator": {"job": {"failJobOnExitCodes": [0]}}}, "/coordinator/job/failJobOnExitCodes/0"),
    "a source range that is no CIDR": ({"coordinator": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.1"]}}},
                                       "/coordinator/service/loadBalancerSourceRanges/0"),
}
for what, (values, expect) in must_fail.items():
    try:
        chart.render(values, name=RELEASE, namespace=NS)
        fail("refusals", f"{what}: rendered, but must be refused")
    except Exception as e:
        ok("refusals", expect in str(e), f"{what}: refused for another reason: {e}")
print(f"  refusals: {len(must_fail)} bad value sets refused")

if failures:
    print(f"\nFAILED ({len(failures)}):")
    for f in failures:
        print("  - " + f.replace("\n", "\n    "))
    sys.exit(1)
print(f"ok: {len(cases)} value sets rendered and validated, upgrades, uploader; {checked} checks passed")
PY
echo "helm-test: passed in $((SECONDS - T0)) s"
