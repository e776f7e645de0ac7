// The validator's own test: each case breaks a copy of the rendered base (or
// the facts read from the gateway's source) the way a real change could, and
// expects the checks to say so. The unbroken copy must pass. Run by ctest as
// deploy_validator_selftest.

function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));
}
const gw = (objects) => find(objects, "Deployment").spec.template.spec.containers.find((c) => c.name === "gateway");
const dashboardOf = (objects) => {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard);
  const key = Object.keys(cm.data)[0];
  return { cm, key, json: JSON.parse(cm.data[key]) };
};

// [name, mutate(objects, facts), expected error pattern]
const CASES = [
  ["probe port drifts", (o) => { gw(o).readinessProbe.grpc.port = 8080; }, /readinessProbe probes port 8080/],
  ["containerPort drifts", (o) => { gw(o).ports.find((p) => p.name === "grpc").containerPort = 50052; }, /containerPort "grpc" is 50052/],
  ["main.cc default port changes", (o, f) => { f.defaults.listen = "0.0.0.0:8080"; }, /the gateway listens on 8080/],
  ["main.cc metrics port changes", (o, f) => { f.defaults.metricsListen = "0.0.0.0:9100"; }, /\/metrics is on 9100/],
  ["Dockerfile EXPOSE drifts", (o, f) => { f.dockerExpose = [50051, 9091]; }, /EXPOSE 9091/],
  ["a probe is removed", (o) => { delete gw(o).startupProbe; }, /no startupProbe/],
  ["an HTTP probe instead of gRPC", (o) => { gw(o).livenessProbe = { tcpSocket: { port: 50051 } }; }, /livenessProbe is not a native gRPC probe/],
  ["a real-looking token in a Secret", (o) => {
    o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "leak" }, stringData: { token: "glpat-" + "Ab3dEf6hIj9kLm2nOp5q" } });
  }, /Secret leak key token holds something that looks like a real token/],
  ["a random-looking base64 Secret", (o) => {
    o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "b64" }, data: { token: Buffer.from("x7Kp2QmZ9vR4tY8wL3nB6cD1").toString("base64") } });
  }, /Secret b64 key token holds something that looks like a real token/],
  ["a placeholder Secret in the applied set", (o) => {
    o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "gitlab-gateway-token" }, stringData: { token: "REPLACE_ME" } });
  }, /renders Secret gitlab-gateway-token: applying it would overwrite the real token/],
  ["token as an env literal", (o) => { gw(o).env.push({ name: "GITLAB_TOKEN", value: "REPLACE_ME" }); }, /GITLAB_TOKEN is set as an env variable/],
  ["token from secretKeyRef env", (o) => {
    gw(o).env.push({ name: "OTHER", valueFrom: { secretKeyRef: { name: "s", key: "k" } } });
  }, /env OTHER comes from a Secret/],
  ["token file outside the mount", (o) => { gw(o).env.find((e) => e.name === "GITLAB_TOKEN_FILE").value = "/etc/token"; }, /GITLAB_TOKEN_FILE \/etc\/token is not a file/],
  ["writable root filesystem", (o) => { delete gw(o).securityContext.readOnlyRootFilesystem; }, /readOnlyRootFilesystem is not true/],
  ["privilege escalation", (o) => { gw(o).securityContext.allowPrivilegeEscalation = true; }, /allowPrivilegeEscalation/],
  ["capabilities kept", (o) => { gw(o).securityContext.capabilities.drop = ["NET_RAW"]; }, /do not drop "ALL"/],
  ["seccomp unconfined", (o) => {
    gw(o).securityContext.seccompProfile = { type: "Unconfined" };
  }, /seccompProfile is not RuntimeDefault/],
  ["no resources", (o) => { delete gw(o).resources; }, /resources.requests.cpu missing/],
  ["in-flight raised without memory", (o) => { find(o, "ConfigMap").data.GITLAB_GATEWAY_MAX_IN_FLIGHT = "256"; }, /limits.memory .* below the worst case/],
  ["request above limit", (o) => { gw(o).resources.requests.memory = "4Gi"; }, /memory request exceeds the limit/],
  ["grace period too short", (o) => { find(o, "Deployment").spec.template.spec.terminationGracePeriodSeconds = 10; }, /terminationGracePeriodSeconds 10/],
  ["drain longer than the grace period", (o) => {
    find(o, "ConfigMap", find(o, "ConfigMap").metadata.name).data.GITLAB_GATEWAY_SHUTDOWN_GRACE = "60s";
  }, /shutdown grace 60s/],
  ["config key typo", (o) => { find(o, "ConfigMap").data.GITLAB_GATEWAY_MAX_INFLIGHT = "8"; }, /GITLAB_GATEWAY_MAX_INFLIGHT is not an env variable/],
  ["no topology spread", (o) => { delete find(o, "Deployment").spec.template.spec.topologySpreadConstraints; }, /no topologySpreadConstraint on topology.kubernetes.io\/zone/],
  ["Service without appProtocol", (o) => { delete find(o, "Service", "gitlab-gateway").spec.ports[0].appProtocol; }, /lacks appProtocol grpc/],
  ["ServiceMonitor scrapes both Services", (o) => {
    find(o, "ServiceMonitor").spec.selector.matchLabels = { "app.kubernetes.io/name": "gitlab-gateway" };
  }, /ServiceMonitor selects 2 Services/],
  ["ServiceMonitor on the gRPC port", (o) => { find(o, "ServiceMonitor").spec.endpoints[0].port = "grpc"; }, /not the metrics port/],
  ["NetworkPolicy open egress", (o) => { find(o, "NetworkPolicy").spec.egress.push({ ports: [{ protocol: "TCP", port: 5432 }] }); }, /egress allows TCP\/5432/],
  ["NetworkPolicy open ingress", (o) => { find(o, "NetworkPolicy").spec.ingress.push({ ports: [{ port: "grpc" }] }); }, /ingress rule allows every peer/],
  ["GitLab on another port", (o) => { find(o, "ConfigMap").data.GITLAB_URL = "https://gitlab.internal:8443"; }, /egress does not allow TCP\/8443/],
  ["PDB blocks drains", (o) => { const p = find(o, "PodDisruptionBudget").spec; delete p.maxUnavailable; p.minAvailable = 2; }, /PDB minAvailable blocks every eviction/],
  ["probes on the TLS gRPC port", (o) => { gw(o).startupProbe.grpc.port = 50051; }, /startupProbe probes port 50051, the gateway's health port is 8081/],
  ["TLS without a health port", (o) => { gw(o).env = gw(o).env.filter((e) => e.name !== "GITLAB_GATEWAY_HEALTH_LISTEN"); }, /no GITLAB_GATEWAY_HEALTH_LISTEN/],
  ["anonymous callers spend the default token", (o) => {
    gw(o).env.push({ name: "GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN", value: "true" });
  }, /ALLOW_ANONYMOUS_DEFAULT_TOKEN is on/],
  ["policy mounted with subPath", (o) => { gw(o).volumeMounts.find((m) => m.name === "policy").subPath = "policy.json"; }, /uses subPath/],
  ["policy is not JSON", (o) => { find(o, "ConfigMap", "gitlab-gateway-policy").data["policy.json"] = "{callers: ["; }, /policy policy.json is not JSON/],
  ["policy names a credential nobody provides", (o) => {
    o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "gitlab-gateway-credentials" }, stringData: { other: "REPLACE_ME" } });
  }, /names credential "readonly", which the rendered objects do not provide/],
  ["TLS key outside a Secret", (o) => { gw(o).env.find((e) => e.name === "GITLAB_GATEWAY_TLS_KEY_FILE").value = "/tmp/tls.key"; }, /GITLAB_GATEWAY_TLS_KEY_FILE \/tmp\/tls.key is not in a mounted secret volume/],
  ["shared quota without Redis", (o) => {
    find(o, "ConfigMap").data.GITLAB_GATEWAY_QUOTA_REDIS_URL = "redis://gitlab-gateway-redis:6379/0";
  }, /expected one quota-redis Deployment, found 0/],
  ["shared quota without egress to Redis", (o) => {
    find(o, "ConfigMap").data.GITLAB_GATEWAY_QUOTA_REDIS_URL = "redis://gitlab-gateway-redis:6380/0";
  }, /egress does not allow TCP\/6380/],
  ["image :latest", (o) => { gw(o).image = "registry.example.com/gitlab-gateway:latest"; }, /uses :latest/],
  ["unknown field (typo)", (o) => { const c = gw(o); c.readinessprobe = c.readinessProbe; }, /containers\[0\]\.readinessprobe: unknown field/],
  ["field at the wrong level", (o) => {
    find(o, "Deployment").spec.template.spec.securityContext.readOnlyRootFilesystem = true;
  }, /spec\.template\.spec\.securityContext\.readOnlyRootFilesystem: unknown field/],
  ["schema type error", (o) => { gw(o).ports[0].containerPort = "50051"; }, /schema: .*containerPort must be integer/],
  ["dashboard queries a metric that does not exist", (o) => {
    const d = dashboardOf(o);
    d.json.panels[1].targets[0].expr = "sum(rate(gitlab_gateway_no_such_metric_total[5m]))";
    d.cm.data[d.key] = JSON.stringify(d.json);
  }, /gitlab_gateway_no_such_metric_total/],
  ["dashboard loses the 429 panel", (o) => {
    const d = dashboardOf(o);
    d.json.panels = d.json.panels.filter((p) => !JSON.stringify(p).includes("rate_limited"));
    d.cm.data[d.key] = JSON.stringify(d.json);
  }, /no panel shows 429s/],
];

export function selfTest({ rendered, facts, strict, schemaErrors, checkRendered, checkDashboard }) {
  const base = rendered.get("base");
  if (!base) return [["self-test: k8s/base renders", ["k8s/base did not render; see deploy_manifests"]]];
  const run = (objects, f) => {
    const errors = [...schemaErrors(objects, strict, "base"), ...checkRendered(objects, f, { name: "base", isBase: true })];
    for (const cm of objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard)) {
      for (const [key, text] of Object.entries(cm.data)) errors.push(...checkDashboard(JSON.parse(text), f, key));
    }
    return errors;
  };
  const copyFacts = () => ({ ...facts, defaults: { ...facts.defaults }, dockerExpose: [...facts.dockerExpose] });
  const results = [["self-test: the unbroken base passes", run(structuredClone(base), copyFacts())]];
  for (const [name, mutate, expected] of CASES) {
    const objects = structuredClone(base);
    const f = copyFacts();
    mutate(objects, f);
    const errors = run(objects, f);
    const caught = errors.some((e) => expected.test(e));
    results.push([`self-test: catches ${name}`, caught ? [] : [`expected an error matching ${expected}, got: ${errors.join(" | ") || "none"}`]]);
  }
  return results;
}
