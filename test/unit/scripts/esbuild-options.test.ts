import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../scripts/lib/esbuild-options';
import { esbuildFunctions, parseTemplate, stageName } from '../../../scripts/lib/sam-template';

const where = {
  codeDir: '/repo',
  outdir: '/repo/dist/sign-image',
  handler: 'handler.handler',
  logicalId: 'SignImageFunction',
};

describe('esbuildOptions', () => {
  it('applies the aws-lambda-builders defaults when BuildProperties is empty', () => {
    expect(esbuildOptions({}, where)).toEqual({
      entryPoints: [path.resolve('/repo/handler')],
      bundle: true,
      platform: 'node',
      outdir: '/repo/dist/sign-image',
      target: 'es2020',
      format: 'cjs',
      minify: true,
      sourcemap: false,
    });
  });

  it('maps every property the way the SAM esbuild builder passes it to the CLI', () => {
    const options = esbuildOptions(
      {
        EntryPoints: ['functions/sign-image/handler.ts'],
        Format: 'esm',
        Target: 'es2022',
        Minify: false,
        Sourcemap: true,
        External: ['@aws-sdk/*', 'pg-native'],
        Loader: ['.pem=text', '.bin=binary'],
        MainFields: 'module,main',
        OutExtension: ['.js=.mjs'],
        Banner: [
          "js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        ],
        SourcesContent: 'false',
      },
      where,
    );
    expect(options).toEqual({
      entryPoints: [path.resolve('/repo/functions/sign-image/handler.ts')],
      bundle: true,
      platform: 'node',
      outdir: '/repo/dist/sign-image',
      target: 'es2022',
      format: 'esm',
      minify: false,
      sourcemap: true,
      external: ['@aws-sdk/*', 'pg-native'],
      loader: { '.pem': 'text', '.bin': 'binary' },
      mainFields: ['module', 'main'],
      outExtension: { '.js': '.mjs' },
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      sourcesContent: false,
    });
  });

  it.each([
    [{ Format: 'amd' }, /Format must be cjs, esm or iife/],
    [{ External: 'aws-sdk' }, /External must be a list of strings/],
    [{ OutExtension: ['.mjs'] }, /OutExtension items look like "key=value"/],
    [{ Minify: 'yes' }, /Minify must be true or false/],
  ])('rejects %j naming the function and property', (props, message) => {
    expect(() => esbuildOptions(props, where)).toThrow(message);
    expect(() => esbuildOptions(props, where)).toThrow(/^SignImageFunction: Metadata\.BuildProperties\./);
  });
});

describe('the template', () => {
  const template = parseTemplate(readFileSync(new URL('../../../template.yaml', import.meta.url), 'utf8'));

  it('parses CloudFormation short tags into their long forms', () => {
    const doc = parseTemplate(
      'A: !Ref X\nB: !GetAtt Fn.Arn\nC: !Sub "${AWS::Region}"\nD: !Join [",", [a, b]]\nE: !If [Cond, 1, 2]\n',
    );
    expect(doc).toEqual({
      A: { Ref: 'X' },
      B: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      C: { 'Fn::Sub': '${AWS::Region}' },
      D: { 'Fn::Join': [',', ['a', 'b']] },
      E: { 'Fn::If': ['Cond', 1, 2] },
    });
  });

  it('builds every stage as one ESM .mjs bundle with a createRequire banner, for nodejs22.x on arm64', () => {
    const functions = esbuildFunctions(template);
    expect(functions.map((f) => f.stage)).toEqual(expect.arrayContaining(['sign-image', 'verify-image']));
    for (const fn of functions) {
      const options = esbuildOptions(fn.buildProperties, {
        codeDir: '/repo',
        outdir: '/out',
        handler: fn.handler,
        logicalId: fn.logicalId,
      });
      expect(options).toMatchObject({
        format: 'esm',
        target: 'es2022',
        outExtension: { '.js': '.mjs' },
        banner: { js: expect.stringContaining('createRequire') },
      });
      expect(options.entryPoints).toEqual([path.resolve('/repo', `functions/${fn.stage}/handler.ts`)]);
      // One entry point → esbuild writes handler.mjs at the bundle root, which is what Handler names.
      expect(fn.handler).toBe('handler.handler');
    }
    const globals = (template.Globals as { Function: Record<string, unknown> }).Function;
    expect(globals).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogFormat: 'JSON' },
      EventInvokeConfig: { MaximumRetryAttempts: 0 },
    });
  });

  it('grants every function the two reporting actions on Resource "*"', () => {
    const resources = template.Resources as Record<
      string,
      { Type: string; Properties: { Policies: { Statement?: { Action: string[]; Resource: string }[] }[] } }
    >;
    for (const resource of Object.values(resources).filter((r) => r.Type === 'AWS::Serverless::Function')) {
      const statements = resource.Properties.Policies.flatMap((p) => p.Statement ?? []);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
          Resource: '*',
        }),
      );
    }
  });
});

describe('stageName', () => {
  it.each([
    ['SignImageFunction', 'sign-image'],
    ['CheckAdmissionFunction', 'check-admission'],
    ['DeployManifestFunction', 'deploy-manifest'],
  ])('turns %s into %s', (id, stage) => {
    expect(stageName(id)).toBe(stage);
  });
});
