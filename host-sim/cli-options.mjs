// Command lines of the tools (npm start, npm run flash, npm run bench) from one option table each: the
// table parses and validates the arguments and generates --help, and every mistake ends the command
// with one line naming the problem and what to do, never a stack trace.
import { valueProblem } from "../boards/schema.mjs";

/** A mistake the user can fix (a bad option, file or address); the message is one line. `exitCode`:
 *  2 for a bad command line or file, 1 when something outside (a board, a broker) failed. */
export class UsageError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Parses `argv` against `table`: {name: {type: "string" | "integer" | "number" | "boolean", short?,
 *  value? (placeholder in --help), help, default?, min?, max?, spec? (a boards/schema.mjs entry the
 *  value must fit), check?(value) → problem text or null, mask?(raw) → the value as shown in a message
 *  (for secrets)}}. Returns {name: value} with defaults filled
 *  in; throws UsageError for an unknown option, a missing or bad value, or a stray argument. */
export function parseOptions(command, table, argv = process.argv.slice(2)) {
  const out = {};
  const byShort = Object.fromEntries(Object.entries(table).filter(([, o]) => o.short).map(([name, o]) => [o.short, name]));
  const hint = `see ${command} -- --help`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^(?:--([a-z][\w-]*)|-(\w))(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}": options start with -- (${hint})`);
    const name = m[1] || byShort[m[2]];
    const opt = table[name];
    if (!opt) throw new UsageError(`unknown option ${arg.replace(/=.*/s, "")} (${hint})`);
    const flag = m[1] ? `--${name}` : `-${m[2]}`;
    if (opt.type === "boolean") {
      if (m[3] !== undefined) throw new UsageError(`${flag} takes no value (${hint})`);
      out[name] = true;
      continue;
    }
    let raw = m[3];
    if (raw === undefined) {
      if (i + 1 >= argv.length || /^--?[a-z]/i.test(argv[i + 1])) throw new UsageError(`${flag} needs a value: ${flag} ${opt.value || "VALUE"} (${hint})`);
      raw = argv[++i];
    }
    out[name] = convert(flag, raw, opt, hint);
  }
  for (const [name, opt] of Object.entries(table)) if (out[name] === undefined && opt.default !== undefined) out[name] = opt.default;
  return out;
}

/** The value of option `flag` given as `raw`, converted and checked against its table entry. */
function convert(flag, raw, opt, hint) {
  const shown = opt.mask ? opt.mask(raw) : raw;
  const lim = { min: opt.min ?? (opt.spec && opt.spec.min), max: opt.max ?? (opt.spec && opt.spec.max) };
  let value = raw;
  if (opt.type === "integer") {
    if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`${flag} ${JSON.stringify(shown)}: not a whole number${range(lim)} (${hint})`);
    value = Number(raw);
  } else if (opt.type === "number") {
    value = raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isFinite(value)) throw new UsageError(`${flag} ${JSON.stringify(shown)}: not a number${range(lim)} (${hint})`);
  }
  if ((lim.min !== undefined && value < lim.min) || (lim.max !== undefined && value > lim.max)) {
    throw new UsageError(`${flag} ${shown}: out of range${range(lim)}${opt.spec ? ` (${opt.spec.about})` : ""} (${hint})`);
  }
  const problem = (opt.spec && valueProblem(value, opt.spec)) || (opt.check && opt.check(value));
  if (problem) throw new UsageError(`${flag} ${shown}: ${problem.replace(/^("[^"]*"|\S+) is /, "is ")} (${hint})`);
  return value;
}

const range = (opt) =>
  opt.min !== undefined && opt.max !== undefined ? `, expected ${opt.min}–${opt.max}`
  : opt.min !== undefined ? `, expected at least ${opt.min}`
  : "";

/** parseOptions for a script's top level: a mistake ends the process with "<command>: <problem>", exit 2. */
export function optionsOrExit(command, table, argv = process.argv.slice(2)) {
  try {
    return parseOptions(command, table, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${command}: ${e.message}`);
    process.exit(e.exitCode);
  }
}

/** --help text: `usage` line(s), then one line per option of `table`, then `notes` lines. */
export function helpText(usage, table, notes = []) {
  const rows = Object.entries(table).map(([name, o]) => {
    const left = `  ${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "boolean" ? "" : ` ${o.value || "VALUE"}`}`;
    const dflt = o.default !== undefined && o.type !== "boolean" ? ` (default ${o.default})` : "";
    return [left, `${o.help}${dflt}`];
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [usage, "", "options:", ...rows.map(([l, r]) => l.padEnd(width) + r), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** Runs `main` as the command `command`: a UsageError, or any error a `known` class stands for (board,
 *  configuration, flash), ends it with "<command>: <message>" and a non-zero exit; anything else with
 *  one line too, marked as a bug. */
export async function runCommand(command, main, known = []) {
  const fail = (e) => {
    if (e instanceof UsageError || known.some((k) => e instanceof k)) {
      console.error(`${command}: ${String(e.message).split("\n")[0]}`);
      process.exit(e.exitCode || 2);
    }
    console.error(`${command}: unexpected error (a bug, please report it): ${String((e && e.message) || e).split("\n")[0]}`);
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  try {
    await main();
  } catch (e) {
    fail(e);
  }
}
