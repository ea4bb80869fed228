#!/usr/bin/env bash
# Offline tests of the Helm chart charts/swarmbench (no cluster, no helm binary):
#   - installs helm-python-sdk (the Helm v4 SDK as a library) and kubernetes-validate (bundled
#     Kubernetes schemas) with pip into a cached virtualenv
#   - lints the chart, renders it for the default values and for each charts/swarmbench/examples
#     file (plus a few toggles), and validates every manifest with `kubernetes-validate --strict`
#     against Kubernetes 1.25 (the chart's minimum) and 1.37
#   - checks the security defaults and labels in the rendered output, the agent pools, the plan
#     (with `coordinator validate` when a coordinator binary is at hand), the helm test hook and
#     NOTES.txt; and that values the chart must refuse (plain-text API keys, root, ...) fail
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
timeout 600 "$VENV/bin/python" - <<'PY'
import copy, glob, json, os, re, subprocess, sys, yaml
import helm_python as helm

CHART, OUT, COORD, KV = os.environ["CHART"], os.environ["OUT"], os.environ["COORD"], os.environ["KV"]
RELEASE, NS = "bench", "load"
failures = []
checked = 0

def fail(case, msg):
    failures.append(f"{case}: {msg}")

def ok(case, cond, msg):
    global checked
    checked += 1
    if not cond:
        fail(case, msg)

helm.disable_logging() if hasattr(helm, "disable_logging") else None
chart = helm.Chart.load(CHART)
defaults = chart.values

# ---- lint ----------------------------------------------------------------------------------
report = helm.lint(CHART, strict=True, quiet=False)
for m in report.get("messages", []):
    if m.get("severity", 0) >= 2:
        fail("lint", f"{m.get('path')}: {m.get('error')}")
for e in report.get("errors", []) or []:
    fail("lint", e)

# ---- cases ---------------------------------------------------------------------------------
cases = {"default": {}}
for f in sorted(glob.glob(os.path.join(CHART, "examples", "*.yaml"))):
    cases["example-" + os.path.basename(f)[:-5]] = yaml.safe_load(open(f)) or {}
# toggles not covered by the examples
cases["toggle-no-tls-deployment"] = {"tls": {"enabled": False}, "coordinator": {"kind": "Deployment"},
                                     "llmSim": {"enabled": False}, "tests": {"enabled": False}}
cases["toggle-existing-claim-otel"] = {"outputs": {"persistence": {"enabled": True, "existingClaim": "results"}},
                                       "otel": {"endpoint": "http://collector:4317"},
                                       "agents": {"topologySpread": {"enabled": False},
                                                  "pools": [{"name": "p", "replicas": 3}]}}

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

def pod_spec(obj):
    k = obj["kind"]
    if k == "Pod":
        return obj["spec"], obj["metadata"].get("labels", {})
    if k in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        t = obj["spec"]["template"]
        return t["spec"], t["metadata"].get("labels", {})
    return None, None

def check_pod(case, name, spec, labels, v):
    psc = spec.get("securityContext", {})
    ok(case, psc.get("runAsNonRoot") is True, f"{name}: pod runAsNonRoot is not true")
    ok(case, psc.get("runAsUser", 0) != 0, f"{name}: pod runAsUser is root")
    ok(case, psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: no RuntimeDefault seccomp")
    ok(case, spec.get("automountServiceAccountToken") is False, f"{name}: service account token mounted")
    ok(case, not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"),
       f"{name}: host namespaces")
    for l in REQUIRED_LABELS + ["app.kubernetes.io/component"]:
        ok(case, l in labels, f"{name}: pod template lacks label {l}")
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    ok(case, containers, f"{name}: no containers")
    for c in containers:
        cn = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        ok(case, sc.get("runAsNonRoot") is True, f"{cn}: runAsNonRoot is not true")
        ok(case, sc.get("allowPrivilegeEscalation") is False, f"{cn}: allowPrivilegeEscalation is not false")
        ok(case, sc.get("readOnlyRootFilesystem") is True, f"{cn}: readOnlyRootFilesystem is not true")
        ok(case, "ALL" in sc.get("capabilities", {}).get("drop", []), f"{cn}: capabilities not dropped")
        ok(case, not sc.get("capabilities", {}).get("add"), f"{cn}: capabilities added")
        ok(case, not sc.get("privileged"), f"{cn}: privileged")
        r = c.get("resources", {})
        ok(case, r.get("requests", {}).get("cpu") and r.get("requests", {}).get("memory"),
           f"{cn}: no cpu/memory requests")
        ok(case, r.get("limits", {}).get("memory"), f"{cn}: no memory limit")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        ok(case, "/tmp" in mounts, f"{cn}: read-only root without a writable /tmp")
        for e in c.get("env", []):
            if SECRETISH.search(e["name"]):
                ok(case, "value" not in e, f"{cn}: {e['name']} given as a plain value")
    return containers

def check_case(case, values):
    v = merged(values)
    try:
        rendered = chart.render(values, name=RELEASE, namespace=NS, is_install=True)
    except Exception as e:
        fail(case, f"render failed: {e}")
        return
    notes = rendered.pop(next((k for k in rendered if k.endswith("NOTES.txt")), "-"), None)
    docs = []
    for path, text in rendered.items():
        for d in yaml.safe_load_all(text):
            if d:
                docs.append(d)
    out = os.path.join(OUT, case + ".yaml")
    with open(out, "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    # schema validation, offline, strict (unknown fields are errors)
    for kv in ("1.25.0", "1.37.0"):
        p = subprocess.run([KV, "--strict", "--quiet", "-k", kv, out], capture_output=True, text=True)
        ok(case, p.returncode == 0, f"kubernetes-validate --strict -k {kv}:\n{p.stdout}{p.stderr}")
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        name = f"{d['kind']}/{d['metadata']['name']}"
        labels = d["metadata"].get("labels", {})
        for l in REQUIRED_LABELS:
            ok(case, l in labels, f"{name}: lacks label {l}")
        ok(case, labels.get("app.kubernetes.io/instance") == RELEASE, f"{name}: wrong instance label")
        ok(case, "namespace" not in d["metadata"] or d["metadata"]["namespace"] == NS, f"{name}: namespace")
        spec, plabels = pod_spec(d)
        if spec is not None:
            check_pod(case, name, spec, plabels, v)
    # the pieces every install has
    for kind in ("Service", "ConfigMap"):
        ok(case, kind in by_kind, f"no {kind}")
    generated = {s["metadata"]["name"] for s in by_kind.get("Secret", [])}
    if not v["token"]["existingSecret"]:
        ok(case, f"{RELEASE}-swarmbench-token" in generated, "no generated token Secret")
    if v["tls"]["enabled"] and not v["tls"]["coordinator"]["existingSecret"]:
        ok(case, {f"{RELEASE}-swarmbench-coordinator-tls", f"{RELEASE}-swarmbench-agent-tls"} <= generated,
           "no generated TLS Secrets")
    if v["tls"]["enabled"] and v["tls"]["coordinator"]["existingSecret"] and v["token"]["existingSecret"]:
        ok(case, not generated, f"Secrets generated although all are given: {generated}")
    coord = [d for d in by_kind.get(v["coordinator"]["kind"], [])
             if d["metadata"]["labels"].get("app.kubernetes.io/component") == "coordinator"]
    ok(case, len(coord) == 1, f"expected one coordinator {v['coordinator']['kind']}, got {len(coord)}")
    svc = [d for d in by_kind.get("Service", []) if d["metadata"]["labels"].get("app.kubernetes.io/component") == "coordinator"]
    ok(case, len(svc) == 1, "no coordinator Service")
    if coord and svc:
        cspec, clabels = pod_spec(coord[0])
        sel = svc[0]["spec"]["selector"]
        ok(case, all(clabels.get(k) == val for k, val in sel.items()), "Service selector misses the coordinator pod")
        ports = {p["name"]: p for p in svc[0]["spec"]["ports"]}
        ok(case, ports.get("grpc", {}).get("port") == v["coordinator"]["port"], "Service has no grpc port")
        c = next(c for c in cspec.get("containers", []) + cspec.get("initContainers", []) if c["name"] == "coordinator")
        env = {e["name"]: e for e in c.get("env", [])}
        for k in v.get("apiKeys", []):
            e = env.get(k["name"], {})
            ref = e.get("valueFrom", {}).get("secretKeyRef", {})
            ok(case, ref == {"name": k["secretName"], "key": k["secretKey"]}, f"API key {k['name']} not from its Secret")
        if v["otel"]["endpoint"]:
            ok(case, env.get("OTEL_EXPORTER_OTLP_ENDPOINT", {}).get("value") == v["otel"]["endpoint"], "coordinator lacks OTLP env")
        vols = {x["name"]: x for x in cspec["volumes"]}
        if v["outputs"]["persistence"]["enabled"]:
            claim = v["outputs"]["persistence"]["existingClaim"] or f"{RELEASE}-swarmbench-outputs"
            ok(case, vols["outputs"].get("persistentVolumeClaim", {}).get("claimName") == claim, "outputs not on the claim")
            if not v["outputs"]["persistence"]["existingClaim"]:
                ok(case, "PersistentVolumeClaim" in by_kind, "no PersistentVolumeClaim")
        if v["outputs"]["objectStore"]["enabled"]:
            ok(case, [c["name"] for c in cspec.get("initContainers", [])] == ["coordinator"], "coordinator is not the init container")
            ok(case, [c["name"] for c in cspec["containers"]] == ["upload"], "no upload container")
        if v["tls"]["enabled"]:
            ok(case, "tls" in vols, "coordinator has no TLS volume")
            want = v["tls"]["coordinator"]["existingSecret"] or f"{RELEASE}-swarmbench-coordinator-tls"
            ok(case, vols.get("tls", {}).get("secret", {}).get("secretName") == want, "coordinator TLS Secret")
    # the plan
    if not v["plan"]["existingConfigMap"]:
        cm = [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == f"{RELEASE}-swarmbench-plan"]
        ok(case, len(cm) == 1, "no plan ConfigMap")
        if cm:
            plan = yaml.safe_load(cm[0]["data"]["plan.yaml"])
            ok(case, plan["coordinator"]["listen"] == f"0.0.0.0:{v['coordinator']['port']}", "plan listen address")
            ok(case, ("tls" in plan["coordinator"]) == v["tls"]["enabled"], "plan TLS section")
            total = sum(p.get("replicas", v["agents"]["defaults"]["replicas"]) for p in v["agents"]["pools"])
            want = v["plan"]["spec"].get("agents", {}).get("min_agents", total)
            ok(case, plan["agents"]["min_agents"] == want, f"min_agents {plan['agents']['min_agents']} != {want}")
            ok(case, "{{" not in cm[0]["data"]["plan.yaml"], "unrendered template in the plan")
            if COORD:
                pf = os.path.join(OUT, case + "-plan.yaml")
                open(pf, "w").write(cm[0]["data"]["plan.yaml"])
                p = subprocess.run([COORD, "validate", pf], capture_output=True, text=True,
                                   env=dict(os.environ, LLM_API_KEY="x"))
                ok(case, p.returncode == 0, f"coordinator validate: {p.stdout}{p.stderr}")
    else:
        cm = [d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == f"{RELEASE}-swarmbench-plan"]
        ok(case, not cm, "a plan ConfigMap although plan.existingConfigMap is set")
    # agent pools: one Deployment each, labels, replicas, node selectors, topology spread
    agents = {d["metadata"]["labels"].get("swarmbench.io/pool"): d for d in by_kind.get("Deployment", [])
              if d["metadata"]["labels"].get("app.kubernetes.io/component") == "agent"}
    ok(case, sorted(agents) == sorted(p["name"] for p in v["agents"]["pools"]), f"agent Deployments {sorted(agents)}")
    for pool in v["agents"]["pools"]:
        d = agents.get(pool["name"])
        if not d:
            continue
        p = {**v["agents"]["defaults"], **pool}
        name = f"agent pool {pool['name']}"
        ok(case, d["spec"]["replicas"] == p["replicas"], f"{name}: replicas")
        spec, plabels = pod_spec(d)
        ok(case, plabels.get("swarmbench.io/pool") == pool["name"], f"{name}: pod lacks the pool label")
        ok(case, all(plabels.get(k) == val for k, val in d["spec"]["selector"]["matchLabels"].items()), f"{name}: selector")
        want_ns = {**v["agents"]["defaults"].get("nodeSelector", {}), **pool.get("nodeSelector", {})}
        ok(case, spec.get("nodeSelector", {}) == want_ns, f"{name}: nodeSelector {spec.get('nodeSelector')} != {want_ns}")
        tsc = spec.get("topologySpreadConstraints", [])
        if pool.get("topologySpreadConstraints") or v["agents"]["topologySpread"]["enabled"]:
            ok(case, tsc, f"{name}: no topologySpreadConstraints")
            for c in tsc:
                ml = c.get("labelSelector", {}).get("matchLabels", {})
                ok(case, ml and all(plabels.get(k) == val for k, val in ml.items()), f"{name}: spread selector misses its pods")
        else:
            ok(case, not tsc, f"{name}: topology spread although disabled")
        args = spec["containers"][0]["args"]
        labels = {**{"pool": pool["name"]}, **{k: str(x) for k, x in (pool.get("labels") or {}).items()}}
        got = {args[i + 1] for i, a in enumerate(args) if a == "--label"}
        ok(case, got == {f"{k}={x}" for k, x in labels.items()}, f"{name}: --label args {got}")
        url = args[args.index("--coordinator") + 1]
        ok(case, url == f"{'https' if v['tls']['enabled'] else 'http'}://{RELEASE}-swarmbench-coordinator:{v['coordinator']['port']}",
           f"{name}: coordinator URL {url}")
        if v["tls"]["enabled"]:
            ok(case, "--tls-cert" in args and "--tls-key" in args and "--tls-ca" in args, f"{name}: no client certificate")
        else:
            ok(case, "--insecure" in args, f"{name}: plaintext without --insecure")
    # secrets: generated TLS material is complete; nothing secret leaks into ConfigMaps
    for s in by_kind.get("Secret", []):
        if s.get("type") == "kubernetes.io/tls":
            ok(case, {"ca.crt", "tls.crt", "tls.key"} <= set(s.get("data", {})), f"Secret {s['metadata']['name']}: keys")
    for cm in by_kind.get("ConfigMap", []):
        text = json.dumps(cm.get("data", {}))
        ok(case, "PRIVATE KEY" not in text, f"ConfigMap {cm['metadata']['name']} holds a private key")
    # ServiceMonitor (no schema bundled for the CRD: check its shape here)
    sm = by_kind.get("ServiceMonitor", [])
    ok(case, bool(sm) == v["metrics"]["serviceMonitor"]["enabled"], "ServiceMonitor toggle")
    for s in sm:
        ok(case, s["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor port")
        ok(case, svc and any(p["name"] == "metrics" for p in svc[0]["spec"]["ports"]), "Service lacks the metrics port")
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
    # NOTES.txt says where results are
    ok(case, notes and "Fetch the results" in notes and "helm test" in notes, "NOTES.txt")
    print(f"  {case}: {len(docs)} objects ({', '.join(sorted(by_kind))})")

for case, values in cases.items():
    check_case(case, values)

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
    "object store with a Deployment": ({"coordinator": {"kind": "Deployment"},
                                        "outputs": {"objectStore": {"enabled": True, "url": "s3://b/p"}}},
                                       "needs coordinator.kind Job"),
    "object store without a URL": ({"outputs": {"objectStore": {"enabled": True}}}, "url is required"),
    "duplicate pool names": ({"agents": {"pools": [{"name": "a"}, {"name": "a"}]}}, "used twice"),
    "bad pool name": ({"agents": {"pools": [{"name": "Bad_Name"}]}}, "/agents/pools/0/name"),
    "half of the TLS secrets": ({"tls": {"coordinator": {"existingSecret": "x"}}}, "give both"),
    "unknown coordinator kind": ({"coordinator": {"kind": "CronJob"}}, "/coordinator/kind"),
    "unknown value": ({"coordinatr": {}}, "coordinatr"),
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
print(f"ok: {len(cases)} value sets rendered and validated, {checked} checks passed")
PY
echo "helm-test: passed in $((SECONDS - T0)) s"
