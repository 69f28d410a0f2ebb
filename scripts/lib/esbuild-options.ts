import path from 'node:path';
import type { BuildOptions, Format, Loader } from 'esbuild';

/**
 * Maps SAM's `Metadata.BuildProperties` to esbuild JS API options exactly as aws-lambda-builders
 * maps them to the esbuild CLI (`workflows/nodejs_npm_esbuild/esbuild.py`): always
 * `--bundle --platform=node --outdir`, defaults `--target=es2020 --format=cjs --minify` when
 * unset, booleans `Minify`/`Sourcemap`, single values `Target`/`Format`/`MainFields`/
 * `SourcesContent`, lists `External`/`Loader` (`.ext=loader`)/`OutExtension` (`.js=.mjs`)/
 * `Banner` (`js=…`). Entry points are relative to CodeUri; without `EntryPoints` the handler
 * file is the entry. Reading the settings from the template (never copying them) keeps what is
 * measured locally equal to what `sam build` ships.
 */
export function esbuildOptions(
  props: Readonly<Record<string, unknown>>,
  where: {
    readonly codeDir: string;
    readonly outdir: string;
    readonly handler: string;
    readonly logicalId: string;
  },
): BuildOptions {
  const fail = (message: string): never => {
    throw new Error(`${where.logicalId}: Metadata.BuildProperties.${message}`);
  };
  const list = (key: string): string[] => {
    const value = props[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      return fail(`${key} must be a list of strings`);
    return value;
  };
  const pairs = (key: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const item of list(key)) {
      const at = item.indexOf('=');
      if (at <= 0) fail(`${key} items look like "key=value", got ${JSON.stringify(item)}`);
      out[item.slice(0, at)] = item.slice(at + 1);
    }
    return out;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = props[key];
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return fail(`${key} must be true or false`);
  };
  const text = (key: string, fallback?: string): string | undefined => {
    const value = props[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string') return fail(`${key} must be a string`);
    return value;
  };

  const entries = list('EntryPoints');
  const entryPoints = (entries.length > 0 ? entries : [handlerEntry(where.handler)]).map((entry) =>
    path.resolve(where.codeDir, entry),
  );
  const format = text('Format', 'cjs') as Format;
  if (!['cjs', 'esm', 'iife'].includes(format)) fail(`Format must be cjs, esm or iife, got ${format}`);
  const mainFields = text('MainFields');
  const sourcesContent = text('SourcesContent');

  const options: BuildOptions = {
    entryPoints,
    bundle: true,
    platform: 'node',
    outdir: where.outdir,
    target: text('Target', 'es2020'),
    format,
    minify: bool('Minify', true),
    sourcemap: bool('Sourcemap', false),
  };
  const external = list('External');
  if (external.length > 0) options.external = external;
  const loader = pairs('Loader');
  if (Object.keys(loader).length > 0) options.loader = loader as Record<string, Loader>;
  const outExtension = pairs('OutExtension');
  if (Object.keys(outExtension).length > 0) options.outExtension = outExtension;
  const banner = pairs('Banner');
  if (Object.keys(banner).length > 0) options.banner = banner;
  if (mainFields !== undefined) options.mainFields = mainFields.split(',').map((f) => f.trim());
  if (sourcesContent !== undefined) options.sourcesContent = sourcesContent !== 'false';
  return options;
}

/** `app.handler` → `app` (SAM resolves it as .ts then .js). */
function handlerEntry(handler: string): string {
  return handler.slice(0, handler.lastIndexOf('.'));
}
