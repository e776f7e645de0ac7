// What a platform team checks by eye, checked by code: the rendered objects of
// one kustomization agree with the gateway binary (flag defaults and env
// names from service/main.cc) and with each other, and meet issue 7's rules.
// Pure functions of (objects, facts); every failed rule is one string.
//
//   const errors = checkRendered(objects, facts, {name: "overlays/example"});

const TOKEN_PATTERNS = [
  /gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|soat|ffct|agent|wt)-[0-9A-Za-z_-]{16,}/, // GitLab token prefixes
  /GR1348941[0-9A-Za-z_-]{16,}/, // runner registration token
  /(?:ghp|gho|github_pat)_[0-9A-Za-z_]{20,}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];
const PLACEHOLDER = /REPLACE|CHANGE[_-]?ME|EXAMPLE|PLACEHOLDER|DUMMY/i;

// A value a person would mistake for a credential: a known token format, or a
// long random-looking string (mixed case and digits, no placeholder word).
export function looksLikeToken(value) {
  const text = String(value).trim();
  if (TOKEN_PATTERNS.some((re) => re.test(text))) return true;
  if (PLACEHOLDER.test(text)) return false;
  return /^[0-9A-Za-z_\-.+/=]{20,}$/.test(text) && /[a-z]/.test(text) && /[A-Z]/.test(text) && /\d/.test(text);
}

// "500m" -> 0.5, "128Mi" -> 134217728; NaN when malformed.
export function quantity(q) {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(q));
  if (!m) return NaN;
  const scale = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? scale[m[2]] : 1);
}

// "25s", "1m30s", "500ms" (absl::ParseDuration's common forms) -> seconds.
export function durationSeconds(text) {
  const units = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/gy;
  let m;
  let consumed = 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * units[m[2]];
    consumed = re.lastIndex;
  }
  return consumed === text.length && text.length > 0 ? total : NaN;
}

function portOf(address) {
  const m = /:(\d+)$/.exec(address ?? "");
  return m ? Number(m[1]) : NaN;
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

// A Service/NetworkPolicy port reference (number or name) -> container port.
function resolvePort(ref, container) {
  if (typeof ref === "number") return ref;
  return (container.ports ?? []).find((p) => p.name === ref)?.containerPort ?? NaN;
}

export function checkRendered(objects, facts, { name, isBase }) {
  const errors = [];
  const fail = (msg) => errors.push(`${name}: ${msg}`);
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  // The shared quota's Redis (k8s/overlays/redis-quota) is checked apart
  // (checkQuotaRedis); the gateway's one-of-a-kind objects exclude it.
  const isRedis = (o) => o.metadata?.labels?.["app.kubernetes.io/component"] === "quota-redis";
  const one = (kind) => {
    const list = byKind(kind).filter((o) => !isRedis(o));
    if (list.length !== 1) fail(`expected one ${kind}, found ${list.length}`);
    return list[0];
  };

  const deployment = one("Deployment");
  if (!deployment) return errors;
  const pod = deployment.spec?.template?.spec ?? {};
  const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
  const container = (pod.containers ?? []).find((c) => c.name === "gateway");
  if (!container) return [...errors, `${name}: Deployment has no container named "gateway"`];

  // Effective configuration: the ConfigMap(s) the container imports, over the
  // binary's defaults.
  const config = {};
  for (const ref of container.envFrom ?? []) {
    const cm = byKind("ConfigMap").find((c) => c.metadata.name === ref.configMapRef?.name);
    if (!cm) fail(`envFrom configMap "${ref.configMapRef?.name}" is not in the rendered output`);
    else Object.assign(config, cm.data);
  }
  for (const key of Object.keys(config)) {
    if (!facts.envNames.has(key)) fail(`config key ${key} is not an env variable the gateway reads (service/main.cc)`);
  }
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
  const setting = (key) => env[key]?.value ?? config[key];
  const grpcPort = portOf(setting("GITLAB_GATEWAY_LISTEN") ?? facts.defaults.listen);
  const metricsPort = portOf(setting("GITLAB_GATEWAY_METRICS_LISTEN") ?? facts.defaults.metricsListen);

  // Replicas and rollout.
  if (isBase && deployment.spec.replicas !== 2) fail(`Deployment replicas ${deployment.spec.replicas}, want 2`);
  if (!matches(deployment.spec.selector?.matchLabels, podLabels)) fail("Deployment selector does not match its pod labels");
  const imageName = String(container.image ?? "").split("/").pop();
  if (!/[:@]/.test(imageName)) fail(`image ${container.image} has no tag or digest`);
  if (/:latest$/.test(imageName)) fail(`image ${container.image} uses :latest`);

  // Ports and probes agree with the binary.
  const portNamed = (n) => (container.ports ?? []).find((p) => p.name === n);
  if (portNamed("grpc")?.containerPort !== grpcPort) fail(`containerPort "grpc" is ${portNamed("grpc")?.containerPort}, the gateway listens on ${grpcPort}`);
  if (portNamed("metrics")?.containerPort !== metricsPort) fail(`containerPort "metrics" is ${portNamed("metrics")?.containerPort}, /metrics is on ${metricsPort}`);
  for (const p of facts.dockerExpose) {
    if (![grpcPort, metricsPort].includes(p)) fail(`Dockerfile EXPOSE ${p} is not a port the gateway listens on`);
  }
  for (const p of [grpcPort, metricsPort]) {
    if (!facts.dockerExpose.includes(p)) fail(`Dockerfile does not EXPOSE ${p}`);
  }
  // With TLS on the gRPC port, kubelet's gRPC probes (plaintext) must use the
  // health-only port (GITLAB_GATEWAY_HEALTH_LISTEN).
  const tls = Boolean(setting("GITLAB_GATEWAY_TLS_CERT_FILE"));
  const healthListen = setting("GITLAB_GATEWAY_HEALTH_LISTEN");
  if (tls && !healthListen) fail("TLS on the gRPC port but no GITLAB_GATEWAY_HEALTH_LISTEN: kubelet's gRPC probes cannot speak TLS");
  const probePort = tls ? portOf(healthListen) : grpcPort;
  const probeWhat = tls ? "health" : "gRPC";
  if (tls && portNamed("health")?.containerPort !== probePort) fail(`containerPort "health" is ${portNamed("health")?.containerPort}, the health port is ${probePort}`);
  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const probe = container[kind];
    if (!probe) fail(`container has no ${kind}`);
    else if (!probe.grpc) fail(`${kind} is not a native gRPC probe`);
    else if (resolvePort(probe.grpc.port, container) !== probePort) fail(`${kind} probes port ${probe.grpc.port}, the gateway's ${probeWhat} port is ${probePort}`);
  }

  // Drain: terminationGracePeriodSeconds covers preStop + the gateway's grace.
  const grace = durationSeconds(setting("GITLAB_GATEWAY_SHUTDOWN_GRACE") ?? facts.defaults.shutdownGrace);
  const sleepCmd = container.lifecycle?.preStop?.exec?.command ?? [];
  const preStop = /sleep$/.test(sleepCmd[0] ?? "") ? Number(sleepCmd[1]) : container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const tgps = pod.terminationGracePeriodSeconds;
  if (!(tgps >= preStop + grace + 1 && tgps <= preStop + grace + 15)) {
    fail(`terminationGracePeriodSeconds ${tgps} should be preStop ${preStop}s + shutdown grace ${grace}s + 1..15s`);
  }

  // Security context (the "restricted" Pod Security Standard and more).
  const psc = pod.securityContext ?? {};
  const csc = container.securityContext ?? {};
  if (psc.runAsNonRoot !== true && csc.runAsNonRoot !== true) fail("runAsNonRoot is not set");
  if ((csc.runAsUser ?? psc.runAsUser) === 0) fail("runs as UID 0");
  if (csc.allowPrivilegeEscalation !== false) fail("allowPrivilegeEscalation is not false");
  if (csc.readOnlyRootFilesystem !== true) fail("readOnlyRootFilesystem is not true");
  if (csc.privileged === true) fail("privileged container");
  if (!(csc.capabilities?.drop ?? []).includes("ALL")) fail('capabilities do not drop "ALL"');
  if ((csc.capabilities?.add ?? []).length) fail("capabilities are added");
  if ((csc.seccompProfile ?? psc.seccompProfile)?.type !== "RuntimeDefault") fail("seccompProfile is not RuntimeDefault");
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) fail("uses host namespaces");
  if ((pod.volumes ?? []).some((v) => v.hostPath)) fail("mounts a hostPath");
  if (pod.automountServiceAccountToken !== false) fail("automountServiceAccountToken is not false");

  // Resources.
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  for (const [what, v] of [["requests.cpu", req.cpu], ["requests.memory", req.memory], ["limits.memory", lim.memory]]) {
    if (v === undefined || Number.isNaN(quantity(v))) fail(`resources.${what} missing or malformed (${v})`);
  }
  if (quantity(req.memory) > quantity(lim.memory)) fail("memory request exceeds the limit");
  // Measured (k8s/README.md): ~25 MiB idle, and each response in flight costs
  // about its size once more; 1.25x and 32 MiB leave headroom.
  const inFlight = Number(setting("GITLAB_GATEWAY_MAX_IN_FLIGHT") ?? facts.defaults.ints.GITLAB_GATEWAY_MAX_IN_FLIGHT);
  const maxMb = Number(setting("GITLAB_GATEWAY_MAX_RESPONSE_MB") ?? facts.defaults.ints.GITLAB_GATEWAY_MAX_RESPONSE_MB);
  const worstMi = Math.ceil(32 + 1.25 * inFlight * maxMb);
  if (!(quantity(lim.memory) >= worstMi * 2 ** 20)) {
    fail(`limits.memory ${lim.memory} is below the worst case 32Mi + 1.25 x ${inFlight} in flight x ${maxMb} MiB = ${worstMi}Mi`);
  }
  if (lim.cpu !== undefined && quantity(req.cpu) > quantity(lim.cpu)) fail("cpu request exceeds the limit");

  // The token: a Secret mounted as a file, named by GITLAB_TOKEN_FILE.
  if ("GITLAB_TOKEN" in env || "GITLAB_TOKEN" in config) fail("GITLAB_TOKEN is set as an env variable; mount the Secret as a file");
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) fail(`env ${e.name} comes from a Secret; secrets are mounted as files`);
    if (e.value !== undefined && looksLikeToken(e.value)) fail(`env ${e.name} holds a literal that looks like a token`);
  }
  const tokenFile = setting("GITLAB_TOKEN_FILE");
  const secretVolumes = (pod.volumes ?? []).filter((v) => v.secret);
  const secretMounts = (container.volumeMounts ?? []).filter((m) => secretVolumes.some((v) => v.name === m.name));
  const tokenMount = secretMounts.find((m) => tokenFile?.startsWith(`${m.mountPath}/`)) ?? secretMounts[0];
  if (!tokenFile) fail("GITLAB_TOKEN_FILE is not set");
  else if (!tokenMount) fail("no Secret volume is mounted into the container");
  else {
    const volume = secretVolumes.find((v) => v.name === tokenMount.name);
    const files = (volume.secret.items ?? []).map((i) => `${tokenMount.mountPath}/${i.path}`);
    if (!files.includes(tokenFile)) fail(`GITLAB_TOKEN_FILE ${tokenFile} is not a file of the mounted Secret (${files.join(", ")})`);
    if (tokenMount.readOnly !== true) fail("the token mount is not readOnly");
    if (volume.secret.defaultMode !== undefined && (volume.secret.defaultMode & 0o007) !== 0) fail("the token file is world-accessible (defaultMode)");
  }
  for (const s of byKind("Secret")) {
    // `kubectl apply` of this output would replace the Secret holding the
    // real token (created once, outside kustomize) with whatever is here.
    fail(`renders Secret ${s.metadata.name}: applying it would overwrite the real token; create the Secret outside kustomize (k8s/README.md)`);
    const values = [...Object.entries(s.stringData ?? {}), ...Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])];
    for (const [k, v] of values) {
      if (looksLikeToken(v)) fail(`Secret ${s.metadata.name} key ${k} holds something that looks like a real token`);
    }
  }
  for (const cm of byKind("ConfigMap")) {
    for (const [k, v] of Object.entries(cm.data ?? {})) {
      if (looksLikeToken(v)) fail(`ConfigMap ${cm.metadata.name} key ${k} looks like a token`);
    }
  }

  checkSecurityFiles(objects, pod, container, setting, fail);

  // Topology spread over zones and nodes, selecting this Deployment's pods.
  const spread = pod.topologySpreadConstraints ?? [];
  for (const key of ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]) {
    const c = spread.find((s) => s.topologyKey === key);
    if (!c) fail(`no topologySpreadConstraint on ${key}`);
    else if (!matches(c.labelSelector?.matchLabels, podLabels)) fail(`topologySpreadConstraint on ${key} does not select the pods`);
  }

  // Services.
  const services = byKind("Service").filter((s) => matches(s.spec.selector, podLabels) && Object.keys(s.spec.selector ?? {}).length);
  if (!services.length) fail("no Service selects the pods");
  for (const svc of services) {
    for (const p of svc.spec.ports ?? []) {
      const target = resolvePort(p.targetPort ?? p.port, container);
      if (![grpcPort, metricsPort].includes(target)) fail(`Service ${svc.metadata.name} port ${p.name} targets ${p.targetPort}, not a gateway port`);
      if (target === grpcPort && p.appProtocol !== "grpc") fail(`Service ${svc.metadata.name} port ${p.name} lacks appProtocol grpc`);
    }
  }
  const main = services.find((s) => s.spec.clusterIP !== "None");
  if (!main) fail("no ClusterIP Service");
  else if (!(main.spec.ports ?? []).some((p) => resolvePort(p.targetPort, container) === metricsPort)) fail("the Service has no metrics port");

  // ServiceMonitor -> exactly one Service -> its metrics port -> /metrics.
  const monitor = one("ServiceMonitor");
  if (monitor) {
    const selected = byKind("Service").filter((s) => matches(monitor.spec.selector?.matchLabels, s.metadata.labels));
    if (selected.length !== 1) fail(`ServiceMonitor selects ${selected.length} Services, want exactly 1 (no double scrapes)`);
    for (const ep of monitor.spec.endpoints ?? []) {
      const port = (selected[0]?.spec.ports ?? []).find((p) => p.name === ep.port);
      if (!port) fail(`ServiceMonitor endpoint port "${ep.port}" is not a port of the selected Service`);
      else if (resolvePort(port.targetPort, container) !== metricsPort) fail(`ServiceMonitor scrapes port ${ep.port}, which is not the metrics port`);
      if ((ep.path ?? "/metrics") !== "/metrics") fail(`ServiceMonitor path ${ep.path}`);
    }
  }

  // HPA and PDB.
  const hpa = one("HorizontalPodAutoscaler");
  if (hpa) {
    if (hpa.spec.scaleTargetRef?.kind !== "Deployment" || hpa.spec.scaleTargetRef?.name !== deployment.metadata.name) fail("HPA does not target the Deployment");
    if (!(hpa.spec.minReplicas >= 2)) fail(`HPA minReplicas ${hpa.spec.minReplicas} < 2`);
    if (hpa.spec.metrics?.some((m) => m.resource?.name === "cpu") && req.cpu === undefined) fail("HPA scales on CPU but there is no CPU request");
  }
  const pdb = one("PodDisruptionBudget");
  if (pdb) {
    if (!matches(pdb.spec.selector?.matchLabels, podLabels)) fail("PDB does not select the pods");
    const min = hpa?.spec.minReplicas ?? deployment.spec.replicas;
    if (typeof pdb.spec.minAvailable === "number" && pdb.spec.minAvailable >= min) fail("PDB minAvailable blocks every eviction");
    if (pdb.spec.maxUnavailable === 0) fail("PDB maxUnavailable 0 blocks every eviction");
  }

  // NetworkPolicy: ingress to the gateway ports from selected peers only,
  // egress to DNS and GitLab's port only.
  const np = one("NetworkPolicy");
  if (np) {
    if (!matches(np.spec.podSelector?.matchLabels, podLabels)) fail("NetworkPolicy does not select the pods");
    for (const t of ["Ingress", "Egress"]) if (!(np.spec.policyTypes ?? []).includes(t)) fail(`NetworkPolicy policyTypes lacks ${t}`);
    const ingressPorts = new Set();
    for (const rule of np.spec.ingress ?? []) {
      if (!(rule.from ?? []).length) fail("a NetworkPolicy ingress rule allows every peer");
      for (const peer of rule.from ?? []) {
        if (!peer.podSelector?.matchLabels || !Object.keys(peer.podSelector.matchLabels).length) fail("a NetworkPolicy ingress peer has no pod label selector");
      }
      if (!(rule.ports ?? []).length) fail("a NetworkPolicy ingress rule allows every port");
      for (const p of rule.ports ?? []) ingressPorts.add(resolvePort(p.port, container));
    }
    for (const p of [grpcPort, metricsPort]) if (!ingressPorts.has(p)) fail(`NetworkPolicy ingress does not allow port ${p}`);
    const url = new URL(setting("GITLAB_URL") ?? facts.defaults.gitlabUrl);
    const gitlabPort = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    const egress = (np.spec.egress ?? []).flatMap((r) => (r.ports ?? [{ port: "*" }]).map((p) => `${p.protocol ?? "TCP"}/${p.port}`));
    const allowed = new Set(["UDP/53", "TCP/53", `TCP/${gitlabPort}`]);
    const redisUrl = setting("GITLAB_GATEWAY_QUOTA_REDIS_URL");
    if (redisUrl) allowed.add(`TCP/${redisPortOf(redisUrl)}`);
    for (const e of egress) if (!allowed.has(e)) fail(`NetworkPolicy egress allows ${e}; only DNS and GitLab's port (${gitlabPort}) are expected`);
    for (const need of allowed) if (!egress.includes(need)) fail(`NetworkPolicy egress does not allow ${need}`);
  }

  const redisUrl = setting("GITLAB_GATEWAY_QUOTA_REDIS_URL");
  if (redisUrl) checkQuotaRedis(objects.filter(isRedis), { redisUrl, passwordFile: setting("GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE"), container, pod, podLabels, fail });
  return errors;
}

// "redis://[:password@]host[:port][/db]" -> port.
function redisPortOf(url) {
  const m = /^(?:redis:\/\/)?(?:[^@]*@)?[^:/]+(?::(\d+))?/.exec(url);
  return Number(m?.[1] ?? 6379);
}

// The shared quota's Redis (issue 14): reachable from the gateway pods only,
// restricted like the gateway, password mounted as a file on both sides.
function checkQuotaRedis(objects, { redisUrl, passwordFile, container, pod, podLabels, fail }) {
  const port = redisPortOf(redisUrl);
  if (/^(?:redis:\/\/)?[^/@]*:[^/@]*@/.test(redisUrl)) fail("GITLAB_GATEWAY_QUOTA_REDIS_URL holds a password; mount it as a file (GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE)");
  const deployments = objects.filter((o) => o.kind === "Deployment");
  if (deployments.length !== 1) return fail(`expected one quota-redis Deployment, found ${deployments.length}`);
  const redisPod = deployments[0].spec?.template?.spec ?? {};
  const redisLabels = deployments[0].spec?.template?.metadata?.labels ?? {};
  const psc = redisPod.securityContext ?? {};
  for (const c of redisPod.containers ?? []) {
    const csc = c.securityContext ?? {};
    if (psc.runAsNonRoot !== true && csc.runAsNonRoot !== true) fail(`Redis container ${c.name}: runAsNonRoot is not set`);
    if (csc.allowPrivilegeEscalation !== false) fail(`Redis container ${c.name}: allowPrivilegeEscalation is not false`);
    if (csc.readOnlyRootFilesystem !== true) fail(`Redis container ${c.name}: readOnlyRootFilesystem is not true`);
    if (!(csc.capabilities?.drop ?? []).includes("ALL")) fail(`Redis container ${c.name}: capabilities do not drop "ALL"`);
    if (!c.resources?.limits?.memory) fail(`Redis container ${c.name}: no memory limit`);
    if ((c.env ?? []).some((e) => e.valueFrom?.secretKeyRef)) fail(`Redis container ${c.name}: a password comes from an env Secret; mount it as a file`);
  }
  if ((psc.seccompProfile ?? {}).type !== "RuntimeDefault") fail("Redis pod: seccompProfile is not RuntimeDefault");
  if (redisPod.automountServiceAccountToken !== false) fail("Redis pod: automountServiceAccountToken is not false");
  const services = objects.filter((o) => o.kind === "Service" && matches(o.spec?.selector, redisLabels));
  if (!services.some((svc) => (svc.spec.ports ?? []).some((p) => p.port === port))) fail(`no quota-redis Service serves port ${port}`);
  const policies = objects.filter((o) => o.kind === "NetworkPolicy" && matches(o.spec?.podSelector?.matchLabels, redisLabels));
  if (policies.length !== 1) fail(`expected one NetworkPolicy selecting the Redis pods, found ${policies.length}`);
  for (const np of policies) {
    for (const t of ["Ingress", "Egress"]) if (!(np.spec.policyTypes ?? []).includes(t)) fail(`Redis NetworkPolicy policyTypes lacks ${t}`);
    for (const rule of np.spec.ingress ?? []) {
      for (const peer of rule.from ?? []) {
        if (!peer.podSelector?.matchLabels || !matches(peer.podSelector.matchLabels, podLabels)) fail("Redis NetworkPolicy admits a peer other than the gateway pods");
      }
      if (!(rule.from ?? []).length) fail("Redis NetworkPolicy admits every peer");
    }
    if ((np.spec.egress ?? []).length) fail("Redis NetworkPolicy allows egress");
  }
  if (passwordFile) {
    const secretVolumes = (pod.volumes ?? []).filter((v) => v.secret);
    const files = (container.volumeMounts ?? []).flatMap((m) => {
      const v = secretVolumes.find((sv) => sv.name === m.name);
      return v ? (v.secret.items ?? []).map((i) => `${m.mountPath}/${i.path}`) : [];
    });
    if (!files.includes(passwordFile)) fail(`GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE ${passwordFile} is not a file of a mounted Secret`);
  }
}

// Metric names a PromQL expression reads: identifiers that are not functions,
// keywords, label names (inside {...} or by/on/... lists), strings or ranges.
export function metricNamesIn(expr) {
  const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  return [...stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1])
    .filter((name) => !keywords.has(name.toLowerCase()));
}

// Dashboard: valid Grafana JSON whose queries use only metrics the gateway
// defines (service/metrics/metrics.cc) or that Kubernetes exports, and that
// covers what issue 7 asks for.
export function checkDashboard(dashboard, facts, where) {
  const errors = [];
  const fail = (msg) => errors.push(`${where}: ${msg}`);
  const panels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).filter(Boolean);
  if (!dashboard.title || !dashboard.uid) fail("dashboard lacks title or uid");
  if (!exprs.length) fail("dashboard has no queries");
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) fail("panel ids are not unique");
  const external = /^(container_|kube_)/;
  const used = new Set();
  for (const expr of exprs) for (const m of metricNamesIn(expr)) used.add(m);
  for (const metric of used) {
    const base = metric.replace(/_(bucket|sum|count)$/, "");
    if (!facts.metricNames.has(metric) && !facts.metricNames.has(base) && !external.test(metric)) {
      fail(`query uses ${metric}, which the gateway does not export (service/metrics/metrics.cc)`);
    }
  }
  const want = {
    "call rate and errors by code": /grpc_server_handled_total/,
    "latency percentiles": /histogram_quantile\(0\.99, sum by \(le\) \(rate\(grpc_server_handling_seconds_bucket/,
    "429s": /gitlab_gateway_upstream_rate_limited_total/,
    retries: /gitlab_gateway_retries_total/,
    "in-flight": /gitlab_gateway_upstream_in_flight/,
    "queue depth": /gitlab_gateway_upstream_queue_depth/,
  };
  for (const [what, re] of Object.entries(want)) {
    if (!exprs.some((e) => re.test(e))) fail(`no panel shows ${what}`);
  }
  return errors;
}

// The files of the security model (README "Security model"): each path is a
// file of a read-only volume of the right kind; the policy is valid JSON
// naming only credentials the rendered objects provide, and is mounted so
// that it reloads; the default token is never open to anonymous callers.
// Reports through `fail`.
function checkSecurityFiles(objects, pod, container, setting, fail) {
  const volumeOf = (file) => {
    const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`) || file === m.mountPath);
    return mount ? { mount, volume: (pod.volumes ?? []).find((v) => v.name === mount.name) } : {};
  };
  const secretFiles = {
    GITLAB_GATEWAY_TLS_CERT_FILE: "secret",
    GITLAB_GATEWAY_TLS_KEY_FILE: "secret",
    GITLAB_GATEWAY_TLS_CLIENT_CA_FILE: "secret",
    GITLAB_GATEWAY_CALLERS_FILE: "secret",
    GITLAB_GATEWAY_CREDENTIALS_DIR: "secret",
    GITLAB_GATEWAY_POLICY_FILE: "configMap",
  };
  for (const [key, kind] of Object.entries(secretFiles)) {
    const file = setting(key);
    if (!file) continue;
    const { mount, volume } = volumeOf(file);
    if (!volume?.[kind]) fail(`${key} ${file} is not in a mounted ${kind} volume`);
    else {
      if (mount.readOnly !== true) fail(`${key}: mount ${mount.name} is not readOnly`);
      if (mount.subPath) fail(`${key}: mount ${mount.name} uses subPath, which kubelet never updates (no rotation or reload)`);
      if (kind === "secret" && volume.secret.defaultMode !== undefined && (volume.secret.defaultMode & 0o007) !== 0) fail(`${key}: Secret ${volume.secret.secretName} is world-accessible (defaultMode)`);
    }
  }
  if (setting("GITLAB_GATEWAY_TLS_CERT_FILE") && !setting("GITLAB_GATEWAY_TLS_KEY_FILE")) fail("GITLAB_GATEWAY_TLS_CERT_FILE without GITLAB_GATEWAY_TLS_KEY_FILE");
  const anonymous = String(setting("GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN") ?? "").toLowerCase();
  if (["true", "1", "yes", "y", "t"].includes(anonymous)) fail("GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN is on: any pod that reaches the port spends the default token");
  if (setting("GITLAB_TOKEN_FILE") && !setting("GITLAB_GATEWAY_POLICY_FILE")) fail("a default token without GITLAB_GATEWAY_POLICY_FILE: no caller may spend it");

  const policyFile = setting("GITLAB_GATEWAY_POLICY_FILE");
  const { volume } = policyFile ? volumeOf(policyFile) : {};
  if (!volume?.configMap) return;
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === volume.configMap.name);
  const key = policyFile.split("/").pop();
  if (!cm) { fail(`policy ConfigMap ${volume.configMap.name} is not in the rendered output`); return; }
  if (!(key in (cm.data ?? {}))) { fail(`policy ConfigMap ${cm.metadata.name} has no key ${key}`); return; }
  let policy;
  try {
    policy = JSON.parse(cm.data[key]);
  } catch (e) {
    { fail(`policy ${key} is not JSON: ${e.message}`); return; }
  }
  // The credentials the rules may name: "default" with a default token, and
  // the keys of the credentials Secret when this kustomization renders it.
  const credVolume = setting("GITLAB_GATEWAY_CREDENTIALS_DIR") ? volumeOf(setting("GITLAB_GATEWAY_CREDENTIALS_DIR")).volume : undefined;
  const credSecret = credVolume?.secret && objects.find((o) => o.kind === "Secret" && o.metadata.name === credVolume.secret.secretName);
  const held = new Set(setting("GITLAB_TOKEN_FILE") ? ["default"] : []);
  for (const k of Object.keys({ ...(credSecret?.stringData ?? {}), ...(credSecret?.data ?? {}) })) held.add(k);
  const names = new Set();
  for (const [i, rule] of (policy.callers ?? []).entries()) {
    if (!rule.name) fail(`policy callers[${i}] has no name`);
    if (names.has(rule.name)) fail(`policy has two rules for caller ${rule.name}`);
    names.add(rule.name);
    for (const c of rule.credentials ?? []) {
      if (c !== "default" && !credSecret) continue; // the Secret comes from outside this kustomization
      if (!held.has(c)) fail(`policy rule ${rule.name} names credential "${c}", which the rendered objects do not provide (${[...held].join(", ") || "none"})`);
    }
  }
}
