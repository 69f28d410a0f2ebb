/**
 * `--env-vars env.json` as `sam local invoke` reads it, for the local invoker:
 *
 * ```json
 * { "Parameters": { "POWERTOOLS_LOG_LEVEL": "DEBUG" },
 *   "SignImageFunction": { "SIGNING_PROFILE_ARN": "arn:aws:signer:…" } }
 * ```
 *
 * `Parameters` applies to every function; an object named by the function's logical ID applies to
 * that function and wins over `Parameters`. As in SAM CLI, only variables the template declares in
 * the function's `Environment.Variables` (its own or `Globals.Function`) are set; others are ignored
 * (the invoker names them, SAM is silent). Values are strings; numbers and booleans become their
 * text (`true`/`false`) and null an empty string, as SAM converts them. Pure: the caller reads the
 * file and the template.
 */

/** A parsed env-vars file: `Parameters` and one object per function logical ID. */
export type EnvVarsFile = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The variables for one function, and the names the file gave that the template does not declare. */
export interface FunctionEnvironment {
  readonly values: Readonly<Record<string, string>>;
  readonly ignored: readonly string[];
}

/** Parses env-vars JSON; throws an Error naming `source`, the key and the fix. */
export function parseEnvVarsFile(text: string, source: string): EnvVarsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) {
    throw new Error(
      `${source} must be a JSON object: {"Parameters": {"VAR": "value"}, "<FunctionLogicalId>": {"VAR": "value"}}`,
    );
  }
  const file: Record<string, Record<string, string>> = {};
  for (const [scope, variables] of Object.entries(raw)) {
    if (!isObject(variables)) {
      throw new Error(
        `${source}: "${scope}" must be an object of variables, e.g. {"${scope}": {"VAR": "value"}}`,
      );
    }
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      if (value === null) values[name] = '';
      else if (typeof value === 'string') values[name] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') values[name] = String(value);
      else {
        throw new Error(
          `${source}: ${scope}.${name} must be a string, number, boolean or null (JSON text goes in a string: "${name}": "{\\"…\\": …}")`,
        );
      }
    }
    file[scope] = values;
  }
  return file;
}

/**
 * The environment `file` gives the function `logicalId` whose template declares `declared`:
 * `Parameters` first, then the function's own object on top, declared names only.
 */
export function environmentFor(
  file: EnvVarsFile,
  logicalId: string,
  declared: readonly string[],
): FunctionEnvironment {
  const merged = { ...(file['Parameters'] ?? {}), ...(file[logicalId] ?? {}) };
  const values: Record<string, string> = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(merged)) {
    if (declared.includes(name)) values[name] = value;
    else ignored.push(name);
  }
  return { values, ignored: ignored.sort() };
}

/**
 * The variable names a function of a parsed template declares (`Globals.Function` and its own
 * `Environment.Variables`), which is what `sam local invoke --env-vars` may set.
 */
export function declaredVariables(template: Record<string, unknown>, logicalId: string): string[] {
  const globals = (template['Globals'] as Record<string, unknown> | undefined)?.['Function'];
  const resource = (template['Resources'] as Record<string, unknown> | undefined)?.[logicalId];
  const names = new Set<string>();
  for (const holder of [globals, isObject(resource) ? resource['Properties'] : undefined]) {
    const variables = (
      (isObject(holder) ? holder['Environment'] : undefined) as Record<string, unknown> | undefined
    )?.['Variables'];
    if (isObject(variables)) for (const name of Object.keys(variables)) names.add(name);
  }
  return [...names].sort();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
