// Unknown-field check for Kubernetes objects, the offline equivalent of
// `kubectl apply --validate=strict`.
//
// kubernetes-models' validators check types, enums and required fields but
// accept any extra key, so a typo such as `readinessprobe:` or a field at the
// wrong level (`readOnlyRootFilesystem` in the pod's securityContext) would
// pass them and be dropped silently by the API server. The models' TypeScript
// declarations (.d.ts) list every field of every type, so this module reads
// them: it parses the exported interface of a model file and its imports, and
// walks an object against it.
//
//   const strict = new StrictFields(modulesDir);
//   strict.check(obj, "kubernetes-models/apps/v1/Deployment") // -> ["spec.x: unknown field"]
import fs from "node:fs";
import path from "node:path";

const PRIMITIVES = new Set(["string", "number", "boolean", "any", "unknown", "null", "undefined", "object", "true", "false"]);

function tokenize(text) {
  const tokens = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|[{}[\]<>:;?|,()&=.])/gy;
  let m;
  while ((m = re.exec(text)) !== null) {
    tokens.push(m[1]);
    if (re.lastIndex >= text.length) break;
  }
  return tokens;
}

// Recursive descent over a TypeScript type expression. Nodes:
//   {k: "obj", props: Map, index}, {k: "arr", el}, {k: "ref", name},
//   {k: "union", members}, {k: "leaf"}
class TypeParser {
  constructor(tokens) {
    this.t = tokens;
    this.i = 0;
  }
  peek() { return this.t[this.i]; }
  next() { return this.t[this.i++]; }
  expect(tok) {
    const got = this.next();
    if (got !== tok) throw new Error(`d.ts parse: expected ${tok}, got ${got} at token ${this.i}`);
  }
  type() {
    if (this.peek() === "|") this.next();
    const members = [this.primary()];
    while (this.peek() === "|") {
      this.next();
      members.push(this.primary());
    }
    return members.length === 1 ? members[0] : { k: "union", members };
  }
  primary() {
    const tok = this.next();
    let node;
    if (tok === "{") node = this.object();
    else if (tok === "(") { node = this.type(); this.expect(")"); }
    else if (tok === "Array" && this.peek() === "<") {
      this.next();
      node = { k: "arr", el: this.type() };
      this.expect(">");
    } else if (tok.startsWith('"') || /^-?\d/.test(tok) || PRIMITIVES.has(tok)) node = { k: "leaf" };
    else if (/^[A-Za-z_$]/.test(tok)) {
      node = { k: "ref", name: tok };
      if (this.peek() === "<") { // a generic we do not model: skip its arguments
        let depth = 0;
        do {
          const x = this.next();
          if (x === "<") depth++;
          if (x === ">") depth--;
        } while (depth > 0);
        node = { k: "leaf" };
      }
    } else throw new Error(`d.ts parse: unexpected ${tok}`);
    while (this.peek() === "[" && this.t[this.i + 1] === "]") { // T[]
      this.i += 2;
      node = { k: "arr", el: node };
    }
    return node;
  }
  object() {
    const props = new Map();
    let index = null;
    while (this.peek() !== "}") {
      if (this.peek() === "[") { // [key: string]: T;
        this.next(); this.next(); this.expect(":"); this.next(); this.expect("]");
        this.expect(":");
        index = this.type();
      } else {
        let name = this.next();
        if (name.startsWith('"')) name = JSON.parse(name);
        if (this.peek() === "?") this.next();
        this.expect(":");
        props.set(name, this.type());
      }
      if (this.peek() === ";" || this.peek() === ",") this.next();
    }
    this.expect("}");
    return { k: "obj", props, index };
  }
}

// Points every named type in `root` at the d.ts file its import names.
function annotateRefs(root, imports) {
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    if (n.k === "ref") n.file = imports.get(n.name) ?? null;
    if (n.k === "obj") {
      stack.push(...n.props.values());
      if (n.index) stack.push(n.index);
    }
    if (n.k === "arr") stack.push(n.el);
    if (n.k === "union") stack.push(...n.members);
  }
}

export class StrictFields {
  constructor(modulesDir) {
    this.nodeModules = path.join(modulesDir, "node_modules");
    this.files = new Map(); // d.ts path -> {imports: Map, main: node|null}
  }

  // "kubernetes-models/apps/v1/Deployment" -> d.ts path
  resolveModule(spec, fromDir) {
    const base = spec.startsWith(".") ? path.resolve(fromDir, spec) : path.join(this.nodeModules, spec);
    for (const candidate of [`${base}.d.ts`, path.join(base, "index.d.ts")]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    return null;
  }

  load(file) {
    if (this.files.has(file)) return this.files.get(file);
    const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const imports = new Map();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      const target = this.resolveModule(m[2], path.dirname(file));
      for (const part of m[1].split(",")) {
        const [orig, alias] = part.trim().split(/\s+as\s+/);
        if (orig) imports.set((alias || orig).trim(), target);
      }
    }
    let main = null;
    const head = /export\s+interface\s+\w+\s*(?:extends[^{]*)?\{/.exec(text);
    if (head) {
      const tokens = tokenize(text.slice(head.index + head[0].length));
      const parser = new TypeParser(tokens);
      main = parser.object();
      annotateRefs(main, imports);
    }
    const entry = { imports, main };
    this.files.set(file, entry);
    return entry;
  }

  // Errors for keys of `obj` that the model `spec` does not declare.
  check(obj, spec) {
    const file = this.resolveModule(spec, this.nodeModules);
    if (!file) throw new Error(`no type declarations for ${spec}`);
    const errors = [];
    this.walk(obj, { k: "obj-file", file }, "", errors);
    return errors;
  }

  walk(value, node, where, errors) {
    if (value === null || value === undefined) return;
    switch (node.k) {
      case "obj-file": {
        const entry = this.load(node.file);
        if (entry.main) this.walk(value, entry.main, where, errors);
        return;
      }
      case "ref": // a type from another file; unresolvable names are aliases of scalars
        if (node.file) this.walk(value, { k: "obj-file", file: node.file }, where, errors);
        return;
      case "arr":
        if (Array.isArray(value)) value.forEach((v, i) => this.walk(v, node.el, `${where}[${i}]`, errors));
        return;
      case "obj":
        if (typeof value !== "object" || Array.isArray(value)) return;
        for (const [key, v] of Object.entries(value)) {
          const child = node.props.get(key) ?? node.index;
          const at = where ? `${where}.${key}` : key;
          if (!child) errors.push(`${at}: unknown field`);
          else this.walk(v, child, at, errors);
        }
        return;
      case "union": { // the first object-shaped member that fits an object value
        if (typeof value !== "object") return;
        const member = node.members.find((m) => m.k === "obj" || m.k === "ref");
        if (member) this.walk(value, member, where, errors);
        return;
      }
      default:
        return;
    }
  }
}
