import Handlebars from 'handlebars';
import { RUNTIME } from './fill-runtime.js';

// A specialised renderer for the subset of Handlebars the mail templates use.
//
// Why: a digest is ~25 KB of MJML output with ~100 placeholders, filled once per recipient.
// Handlebars' runtime spends most of a fill on bookkeeping rather than on output: each template
// call copies the helper table and wraps every helper in a closure (to hand it `lookupProperty`),
// builds two prototype-access tables, every helper call goes through that wrapper with a fresh
// `options` object, and `#if`/`#each` are generic helpers invoked through program wrappers.
// That overhead is about half of a fill. Here the Handlebars AST (Handlebars' own parser, so
// whitespace control and standalone lines are exactly Handlebars') is turned into one plain JS
// function per program: static text is a string literal, a placeholder is a lookup plus escape,
// `if`/`unless`/`with`/`each` are inline code and helpers are called directly.
//
// It implements Handlebars 4.7 semantics for what it accepts, including the odd corners
// (lookups deny inherited properties as Handlebars' prototype-access control does, functions in
// the data are called as lambdas, `#if` treats an empty array as false and `0` as false, `#each`
// walks arrays, iterables and plain objects with @index/@key/@first/@last). Anything else —
// partials, decorators, block params, `../` paths, unknown or builtin helpers other than these
// blocks, a hash on a block, a helper called with the wrong number of arguments, `compat`,
// `strict` — makes `compileFill` return undefined, and the caller uses Handlebars instead.
// test/unit/mail/fill.test.ts renders templates and data through both and compares bytes.

/**
 * A helper callable from compiled fills: the root data (`@root`), the hash (literal values) and
 * its arguments; called without `this`.
 */
export interface FillHelper {
  /** Positional arguments: a call with another count is left to Handlebars. */
  readonly arity: number;
  /** The result is always a string without a character HTML escaping would change: not escaped. */
  readonly safe?: boolean;
  fn(root: unknown, hash: Readonly<Record<string, unknown>>, a?: unknown, b?: unknown, c?: unknown): unknown;
}

export type FillFunction = (context: unknown) => string;

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

// The compiled fills' escape, beside compileFill: it must stay equal to Handlebars.escapeExpression.
export { esc } from './fill-runtime.js';

// ---------------------------------------------------------------------------------------------
// Compiler: AST → JS source
// ---------------------------------------------------------------------------------------------

class Unsupported extends Error {}

const BUILTIN_HELPERS = ['helperMissing', 'blockHelperMissing', 'each', 'if', 'unless', 'with', 'log', 'lookup'];
const BLOCKS = new Set(['if', 'unless', 'with', 'each']);

type Node = hbs.AST.Node;
type Expr = hbs.AST.Expression;

class FillCompiler {
  readonly programs: string[] = [];
  readonly consts: unknown[] = [];
  private readonly getters = new Map<string, string>();
  readonly getterSources: string[] = [];
  /** Helper name → index of its local (`h0`, `h1`…) in the generated code. */
  readonly helperLocals = new Map<string, number>();
  private readonly known: Record<string, unknown>;

  constructor(
    private readonly escape: boolean,
    private readonly helpers: Readonly<Record<string, FillHelper>>,
    knownHelpers: Record<string, unknown> | undefined,
  ) {
    const known: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const name of BUILTIN_HELPERS) known[name] = true;
    Object.assign(known, knownHelpers);
    this.known = known;
  }

  private constant(value: unknown): string {
    this.consts.push(value);
    return `K[${this.consts.length - 1}]`;
  }

  /** Compiles a program into `function pN(c, d)`; returns its name, or "" for none. */
  program(program: hbs.AST.Program | undefined): string {
    if (!program) return '';
    if (program.blockParams?.length) throw new Unsupported('block params');
    const index = this.programs.length;
    this.programs.push(''); // reserve the index: nested programs come after
    const body = program.body.map((s) => this.statement(s)).join('\n');
    this.programs[index] = `function p${index}(c, d) {\nlet o = "";\n${body}\nreturn o;\n}`;
    return `p${index}`;
  }

  private statement(node: Node): string {
    switch (node.type) {
      case 'ContentStatement': {
        const value = (node as hbs.AST.ContentStatement).value;
        return value ? `o += ${JSON.stringify(value)};` : '';
      }
      case 'CommentStatement':
        return '';
      case 'MustacheStatement':
        return this.mustache(node as hbs.AST.MustacheStatement);
      case 'BlockStatement':
        return this.block(node as hbs.AST.BlockStatement);
      default: // partials, decorators, raw blocks
        throw new Unsupported(node.type);
    }
  }

  /** Handlebars' classifySexpr: is this a helper call (rather than a lookup)? */
  private isHelper(node: { path: hbs.AST.PathExpression; params: Expr[]; hash?: hbs.AST.Hash }): boolean {
    const path = node.path;
    if ((node.params?.length ?? 0) > 0 || node.hash) return true;
    const simple = path.parts.length === 1 && !/^\.|this\b/.test(path.original) && !path.depth;
    return simple && !!this.known[path.parts[0]!];
  }

  /** A call of one of our helpers (never a builtin), with literal hash values only. */
  private helperCall(node: { path: hbs.AST.PathExpression; params: Expr[]; hash?: hbs.AST.Hash }): string {
    const path = node.path;
    const name = path.parts[0] ?? '';
    if (path.parts.length !== 1 || path.depth || path.data || /^\.|this\b/.test(path.original)) throw new Unsupported('helper path');
    const helper = Object.hasOwn(this.helpers, name) ? this.helpers[name] : undefined;
    if (!helper || !this.known[name] || BUILTIN_HELPERS.includes(name)) throw new Unsupported(`helper ${name}`);
    const params = node.params ?? [];
    if (params.length !== helper.arity || params.length > 3) throw new Unsupported(`${name} arity`);
    let hash = 'H0';
    if (node.hash) {
      const obj: Record<string, unknown> = {};
      for (const pair of node.hash.pairs) obj[pair.key] = this.literal(pair.value);
      hash = this.constant(Object.freeze(obj));
    }
    let local = this.helperLocals.get(name);
    if (local === undefined) this.helperLocals.set(name, (local = this.helperLocals.size));
    const args = params.map((p) => this.expr(p));
    return `h${local}(d.root, ${[hash, ...args].join(', ')})`;
  }

  private literal(node: Expr): unknown {
    switch (node.type) {
      case 'StringLiteral':
      case 'NumberLiteral':
      case 'BooleanLiteral':
        return (node as hbs.AST.StringLiteral).value;
      case 'UndefinedLiteral':
        return undefined;
      case 'NullLiteral':
        return null;
      default:
        throw new Unsupported('non-literal hash value');
    }
  }

  /** A parameter: a path (no lambda call), a literal, or a sub-expression. */
  private expr(node: Expr): string {
    switch (node.type) {
      case 'PathExpression':
        return this.path(node as hbs.AST.PathExpression);
      case 'SubExpression': {
        const sub = node as hbs.AST.SubExpression;
        if (sub.path.type !== 'PathExpression') throw new Unsupported('literal helper name');
        return this.helperCall(sub);
      }
      default: {
        const value = this.literal(node);
        return typeof value === 'string' ? JSON.stringify(value) : this.constant(value);
      }
    }
  }

  private path(path: hbs.AST.PathExpression): string {
    if (path.depth) throw new Unsupported('../ path');
    const parts = path.parts;
    if (path.data) {
      if (parts.length === 0) throw new Unsupported('@ path');
      return `gd(d, ${this.constant(Object.freeze([...parts]))})`;
    }
    if (parts.length === 0) return 'c'; // `this` or `.`
    return `${this.getter(parts)}(c)`;
  }

  /**
   * A function per distinct context path, `a.b` being `c != null ? lk(c, "a") : c` and so on,
   * with the property names written out: each load gets its own inline cache instead of all of
   * them going through one megamorphic `parent[name]`.
   */
  private getter(parts: readonly string[]): string {
    const key = JSON.stringify(parts);
    let name = this.getters.get(key);
    if (name === undefined) {
      name = `q${this.getters.size}`;
      this.getters.set(key, name);
      const steps = parts.map((part, i) => {
        const p = JSON.stringify(part);
        // "constructor" also needs lk's check against a prototype's own back-reference
        const step = part === 'constructor' ? `x = lk(x, ${p});` : `v = x[${p}];\nx = v == null || hasOwn.call(x, ${p}) ? v : deny(${p}, v);`;
        return i === 0 ? step : `if (x == null) return x;\n${step}`;
      });
      this.getterSources.push(`function ${name}(x) {\nlet v;\nif (x == null) return x;\n${steps.join('\n')}\nreturn x;\n}`);
    }
    return name;
  }

  private mustache(node: hbs.AST.MustacheStatement): string {
    if (node.path.type !== 'PathExpression') throw new Unsupported('literal mustache');
    const path = node.path as hbs.AST.PathExpression;
    const helper = this.isHelper({ ...node, path });
    const value = helper ? this.helperCall({ ...node, path }) : `lam(${this.path(path)}, c)`;
    const safe = helper && this.helpers[path.parts[0]!]?.safe === true;
    return node.escaped && this.escape && !safe ? `o += esc(${value});` : `o += raw(${value});`;
  }

  private block(node: hbs.AST.BlockStatement): string {
    const path = node.path;
    if (path.type !== 'PathExpression' || !this.isHelper(node)) throw new Unsupported('block without helper');
    const name = path.parts[0] ?? '';
    if (path.parts.length !== 1 || path.depth || path.data || /^\.|this\b/.test(path.original)) throw new Unsupported('block path');
    if (!BLOCKS.has(name) || !this.known[name] || Object.hasOwn(this.helpers, name)) throw new Unsupported(`block ${name}`);
    if (node.hash || node.params.length !== 1) throw new Unsupported(`block ${name} arguments`);
    const value = this.expr(node.params[0]!);
    const fn = this.program(node.program);
    const inverse = this.program(node.inverse);
    const call = (p: string, ctx: string) => (p ? `${p}(${ctx}, d)` : '""');
    // `s` is the helper's `this`: the context, or Handlebars' nullContext when there is none
    const open = `{\nlet v = ${value};\nconst s = c != null ? c : NC;\n`;
    switch (name) {
      case 'if':
      case 'unless': {
        const [yes, no] = name === 'if' ? [fn, inverse] : [inverse, fn];
        return `${open}o += truthy(v, s) ? ${call(yes, 's')} : ${call(no, 's')};\n}`;
      }
      case 'with':
        return `${open}if (typeof v === "function") v = v.call(s);\no += !isEmpty(v) ? ${call(fn, 'v')} : ${call(inverse, 's')};\n}`;
      default: // each: arrays inline, like the each helper's loop; anything else in the runtime
        return (
          `${open}if (typeof v === "function") v = v.call(s);\n` +
          `if (Array.isArray(v)) {\nconst f = frame(d);\nlet i = 0;\n` +
          `for (const n = v.length; i < n; i++) if (i in v) { f.key = i; f.index = i; f.first = i === 0; f.last = i === v.length - 1; o += ${fn ? `${fn}(v[i], f)` : '""'}; }\n` +
          `if (i === 0) o += ${call(inverse, 's')};\n` +
          `} else o += eachOther(s, v, d, ${fn || 'NOOP'}, ${inverse || 'null'});\n}`
        );
    }
  }
}

/**
 * Compiles `source` (already accepted by Handlebars with the same options) into a fill function
 * with exactly Handlebars' output, or returns undefined when the template uses anything outside
 * the supported subset (see the top of this file).
 */
export function compileFill(
  source: string,
  options: CompileOptions,
  helpers: Readonly<Record<string, FillHelper>>,
): FillFunction | undefined {
  const o = options as CompileOptions & Record<string, unknown>;
  if (!o.knownHelpersOnly || o.compat || o.strict || o.assumeObjects || o.data === false || o.stringParams || o.trackIds) {
    return undefined;
  }
  const compiler = new FillCompiler(!options.noEscape, helpers, options.knownHelpers as Record<string, unknown> | undefined);
  try {
    compiler.program(Handlebars.parse(source, options));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const helperLocals = [...compiler.helperLocals].map(([n, i]) => `const h${i} = H[${JSON.stringify(n)}].fn;`).join('\n');
  const code =
    `"use strict";\nconst { hasOwn, deny, lk, gd, lam, esc, raw, isEmpty, truthy, frame, eachOther, NC } = R;\n` +
    `const H0 = Object.freeze({});\nconst NOOP = () => "";\n${helperLocals}\n${compiler.getterSources.join('\n')}\n${compiler.programs.join('\n')}\n` +
    // Handlebars' initData: the root data frame holds the context as @root
    `return function fill(context) { return p0(context, { root: context }); };`;
  // The generated code holds no data: text and property names are JSON-quoted, helpers are
  // numbered locals, everything else is passed in through K.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, no-new-func
  const factory = new Function('R', 'H', 'K', code) as (r: typeof RUNTIME, h: typeof helpers, k: unknown[]) => FillFunction;
  return factory(RUNTIME, helpers, compiler.consts);
}
