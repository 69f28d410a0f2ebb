import { parse } from 'yaml';
import type { ScalarTag, CollectionTag } from 'yaml';

/**
 * Reads a SAM/CloudFormation template. CloudFormation short-form intrinsics (`!Ref`, `!GetAtt`,
 * `!Sub`, …) are not YAML the `yaml` package knows, so each becomes a custom tag that yields
 * the long form (`{ "Fn::GetAtt": [...] }`), as CloudFormation itself reads them.
 */
const INTRINSICS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'Condition',
  'GetAtt',
  'Ref',
] as const;

function longName(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

function cloudFormationTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const name of INTRINSICS) {
    const key = longName(name);
    tags.push({
      tag: `!${name}`,
      resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }),
    } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      } as unknown as CollectionTag);
    }
  }
  return tags;
}

/** Parses template text into plain data (intrinsics in long form). */
export function parseTemplate(text: string): Record<string, unknown> {
  const doc: unknown = parse(text, { customTags: cloudFormationTags() });
  if (typeof doc !== 'object' || doc === null) throw new Error('template.yaml is empty or not a mapping');
  return doc as Record<string, unknown>;
}

/** An `AWS::Serverless::Function` built with esbuild. */
export interface EsbuildFunction {
  readonly logicalId: string;
  /** `SignImageFunction` → `sign-image`: the dist/ folder and the invoker's stage name. */
  readonly stage: string;
  readonly codeUri: string;
  readonly handler: string;
  readonly buildProperties: Readonly<Record<string, unknown>>;
}

/** The esbuild-built functions of a parsed template, in template order. */
export function esbuildFunctions(template: Record<string, unknown>): EsbuildFunction[] {
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  const globals = ((template.Globals as Record<string, unknown> | undefined)?.Function ?? {}) as Record<
    string,
    unknown
  >;
  const found: EsbuildFunction[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const metadata = (resource.Metadata ?? {}) as Record<string, unknown>;
    if (metadata.BuildMethod !== 'esbuild') continue;
    const props = (resource.Properties ?? {}) as Record<string, unknown>;
    const codeUri = props.CodeUri ?? globals.CodeUri;
    const handler = props.Handler ?? globals.Handler;
    if (typeof codeUri !== 'string')
      throw new Error(`${logicalId}: CodeUri must be a local path for an esbuild build`);
    if (typeof handler !== 'string') throw new Error(`${logicalId}: Handler is missing`);
    found.push({
      logicalId,
      stage: stageName(logicalId),
      codeUri,
      handler,
      buildProperties: (metadata.BuildProperties ?? {}) as Record<string, unknown>,
    });
  }
  return found;
}

/** `SignImageFunction` → `sign-image`. */
export function stageName(logicalId: string): string {
  return logicalId
    .replace(/Function$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * The Lambda timeout in seconds of the stage's function, as SAM resolves it: the function's own
 * `Timeout`, else `Globals.Function.Timeout`. A stage without a function yet gets the Globals
 * value (what it will get once added). `undefined` when neither is a plain positive number (for
 * example a `!Ref`), so callers pick their own fallback.
 */
export function functionTimeoutSeconds(template: Record<string, unknown>, stage: string): number | undefined {
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  const globals = ((template.Globals as Record<string, unknown> | undefined)?.Function ?? {}) as Record<
    string,
    unknown
  >;
  const resource = Object.entries(resources).find(
    ([logicalId, r]) => r.Type === 'AWS::Serverless::Function' && stageName(logicalId) === stage,
  )?.[1];
  const own = ((resource?.Properties ?? {}) as Record<string, unknown>).Timeout;
  const timeout = own ?? globals.Timeout;
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}
