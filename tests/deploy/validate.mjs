// Offline validation of the deployment files, run by ctest (`make test`):
//
//   node validate.mjs --repo <root> --modules <dir with node_modules> --kubectl <path>
//   node validate.mjs ... --self-test   # prove the checks catch known breakage
//
// 1. Every YAML/JSON file under k8s/ parses (duplicate keys are errors).
// 2. Every kustomization under k8s/ renders with `kubectl kustomize`.
// 3. Every rendered object validates against the Kubernetes schemas
//    (kubernetes-models, @kubernetes-models/prometheus-operator) and has no
//    field those schemas do not declare (strict_fields.mjs).
// 4. The objects agree with the gateway and meet issue 7 (checks.mjs): ports
//    and probes vs. the flag defaults parsed from service/main.cc, config keys
//    vs. the env names main.cc reads, drain timing, securityContext,
//    resources, token handling, Secrets without real-looking tokens, Service /
//    ServiceMonitor / NetworkPolicy / HPA / PDB wiring, and the Grafana
//    dashboard's queries vs. the metric names in service/metrics/metrics.cc.
// 5. The Dockerfile EXPOSEs those ports, runs as a numeric non-root USER and
//    stops with SIGTERM.
// Prints one line per problem and "N passed, N failed".
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { checkDashboard, checkRendered } from "./checks.mjs";
import { StrictFields } from "./strict_fields.mjs";
import { selfTest } from "./selftest.mjs";

const { values: args } = parseArgs({
  options: {
    repo: { type: "string" },
    modules: { type: "string" },
    kubectl: { type: "string", default: "kubectl" },
    "self-test": { type: "boolean", default: false },
  },
});
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(args.repo ?? path.join(here, "../.."));
const modules = path.resolve(args.modules ?? here);
const require = createRequire(path.join(modules, "package.json"));
const YAML = require("yaml");

// Facts about the gateway, read from its source so that drift is caught.
// The flag defaults are FlagValues' member initializers
// (service/server/config_from_flags.h); main.cc pairs each with its
// variable: EnvIntOr("GITLAB_GATEWAY_MAX_QUEUE", Defaults().max_queue).
export function readFacts(root) {
  const main = fs.readFileSync(path.join(root, "service/main.cc"), "utf8");
  const flagValues = fs.readFileSync(path.join(root, "service/server/config_from_flags.h"), "utf8");
  const metrics = fs.readFileSync(path.join(root, "service/metrics/metrics.cc"), "utf8");
  const dockerfile = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
  const fail = (what) => { throw new Error(`service/main.cc or config_from_flags.h: cannot find ${what}; update tests/deploy/validate.mjs`); };
  const pairs = [...main.matchAll(/(Env\w*Or)\(\s*"([A-Z0-9_]+)",\s*Defaults\(\)\.(\w+)\)/g)];
  // The initializer of the member whose variable is `env`, e.g. `"0.0.0.0:9090"`.
  const initializer = (env, what) => {
    const pair = pairs.find((m) => m[2] === env) ?? fail(what);
    const m = new RegExp(`^\\s*[\\w:]+ ${pair[3]} = ([^;]+);`, "m").exec(flagValues) ?? fail(what);
    return m[1].trim();
  };
  const text = (env, what) => (/^"([^"]+)"$/.exec(initializer(env, what)) ?? fail(what))[1];
  const grace = /^absl::(Seconds|Minutes|Milliseconds)\((\d+)\)$/.exec(initializer("GITLAB_GATEWAY_SHUTDOWN_GRACE", "the shutdown_grace default")) ?? fail("the shutdown_grace default");
  const unit = { Seconds: "s", Minutes: "m", Milliseconds: "ms" }[grace[1]];
  return {
    defaults: {
      listen: text("GITLAB_GATEWAY_LISTEN", "the listen default"),
      metricsListen: text("GITLAB_GATEWAY_METRICS_LISTEN", "the metrics_listen default"),
      gitlabUrl: text("GITLAB_URL", "the gitlab_url default"),
      shutdownGrace: `${grace[2]}${unit}`,
      ints: Object.fromEntries(pairs.filter((m) => m[1] === "EnvIntOr").map((m) => [m[2], Number(initializer(m[2], `the ${m[3]} default`))])),
    },
    envNames: new Set([...main.matchAll(/(?:Env\w*Or\(|getenv\()\s*"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1])),
    metricNames: new Set([...metrics.matchAll(/\.Name\("([a-zA-Z_:][a-zA-Z0-9_:]*)"\)/g)].map((m) => m[1])),
    dockerExpose: [...dockerfile.matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).map((p) => Number(p.split("/")[0]))),
    dockerfile,
  };
}

function checkDockerfile(text) {
  const errors = [];
  const last = (re) => [...text.matchAll(re)].pop();
  const user = last(/^USER\s+(\S+)/gm)?.[1];
  if (!user || !/^[1-9]\d*(:\d+)?$/.test(user)) errors.push(`Dockerfile: USER ${user} should be a numeric non-root uid (runAsNonRoot checks it)`);
  if (last(/^STOPSIGNAL\s+(\S+)/gm)?.[1] !== "SIGTERM") errors.push("Dockerfile: STOPSIGNAL SIGTERM missing");
  const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  if (!/debian:bookworm$/.test(froms[0] ?? "") || !/debian:bookworm-slim$/.test(froms.at(-1) ?? "")) errors.push(`Dockerfile: build on debian:bookworm, run on bookworm-slim (FROM ${froms.join(", ")})`);
  if (/^ENV\s+.*TOKEN\s*=/m.test(text)) errors.push("Dockerfile: a token in ENV");
  return errors;
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

// kubernetes-models module for an object, e.g. "kubernetes-models/apps/v1/Deployment".
export function modelModule(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${obj.kind}`;
  if (group === "cert-manager.io") return `@kubernetes-models/cert-manager/${group}/${version}/${obj.kind}`;
  return `kubernetes-models/${group ? `${group}/` : ""}${version}/${obj.kind}`;
}

function schemaErrors(objects, strict, where) {
  const errors = [];
  for (const obj of objects) {
    const id = `${where}: ${obj.kind}/${obj.metadata?.name}`;
    const spec = modelModule(obj);
    let Model;
    try {
      Model = require(spec)[obj.kind];
    } catch {
      errors.push(`${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(structuredClone(obj)).validate();
    } catch (e) {
      errors.push(`${id}: schema: ${String(e.message).split("\n")[0]}`);
    }
    for (const problem of strict.check(obj, spec)) errors.push(`${id}: ${problem}`);
  }
  return errors;
}

export function parseYamlFile(file) {
  const text = fs.readFileSync(file, "utf8");
  if (file.endsWith(".json")) return [JSON.parse(text)];
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const d of docList) {
    if (d.errors?.length) throw new Error(d.errors[0].message.split("\n")[0]);
  }
  return docList.map((d) => d.toJS()).filter((o) => o !== null);
}

function render(kubectl, dir) {
  const out = execFileSync(kubectl, ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60000 });
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
}

// Everything under k8s/: the raw files, then each kustomization rendered.
// Returns {results: [[name, errors]], rendered: Map(dir -> objects)}.
export function validateTree(root, kubectl, facts) {
  const results = [];
  const rendered = new Map();
  const strict = new StrictFields(modules);
  const k8s = path.join(root, "k8s");
  const files = walk(k8s).filter((f) => /\.(ya?ml|json)$/.test(f));
  for (const f of files) {
    const rel = path.relative(root, f);
    try {
      parseYamlFile(f);
      results.push([`parses: ${rel}`, []]);
    } catch (e) {
      results.push([`parses: ${rel}`, [`${rel}: ${e.message}`]]);
    }
  }
  results.push(["Dockerfile", checkDockerfile(facts.dockerfile)]);
  const dirs = files.filter((f) => path.basename(f) === "kustomization.yaml").map(path.dirname);
  if (!dirs.some((d) => path.relative(k8s, d) === "base")) results.push(["k8s/base exists", ["k8s/base/kustomization.yaml is missing"]]);
  for (const dir of dirs) {
    const name = path.relative(k8s, dir);
    let objects;
    try {
      objects = render(kubectl, dir);
      results.push([`renders: ${name}`, []]);
    } catch (e) {
      const why = e.code === "ENOENT" ? `${kubectl} not found (kubectl ships kustomize)` : String(e.stderr || e.message).trim();
      results.push([`renders: ${name}`, [`${name}: kubectl kustomize failed: ${why}`]]);
      continue;
    }
    rendered.set(name, objects);
    results.push([`schemas: ${name}`, schemaErrors(objects, strict, name)]);
    results.push([`rules: ${name}`, checkRendered(objects, facts, { name, isBase: name === "base" })]);
    const dashboards = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard);
    const dashErrors = dashboards.length ? [] : [`${name}: no Grafana dashboard ConfigMap (label grafana_dashboard)`];
    for (const cm of dashboards) {
      for (const [key, text] of Object.entries(cm.data ?? {})) {
        try {
          dashErrors.push(...checkDashboard(JSON.parse(text), facts, `${name}: ${key}`));
        } catch (e) {
          dashErrors.push(`${name}: ${key}: ${e.message}`);
        }
      }
    }
    results.push([`dashboard: ${name}`, dashErrors]);
  }
  return { results, rendered, strict };
}

function report(results) {
  let passed = 0;
  let failed = 0;
  for (const [name, errors] of results) {
    if (errors.length) {
      failed++;
      console.log(`FAIL ${name}`);
      for (const e of errors) console.log(`     ${e}`);
    } else {
      passed++;
      console.log(`ok   ${name}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

let facts;
try {
  facts = readFacts(repo);
} catch (e) {
  console.log(`FAIL facts: ${e.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const tree = validateTree(repo, args.kubectl, facts);
const results = args["self-test"]
  ? selfTest({ rendered: tree.rendered, facts, strict: tree.strict, schemaErrors, checkRendered, checkDashboard })
  : tree.results;
process.exit(report(results) ? 0 : 1);
