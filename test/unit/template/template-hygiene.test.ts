/**
 * Rules template.yaml keeps for every resource of its kind, so a function or parameter added
 * later follows them too: the signing profile survives replacement, every function logs to its own
 * log group with the stack's retention, kms:Decrypt exists only for a named customer-managed key,
 * repository and cluster parameters are validated by pattern, and no bundle ships a source map.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../../scripts/lib/sam-template';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
type Node = Record<string, unknown>;
const resources = template['Resources'] as Record<string, Node>;
const parameters = template['Parameters'] as Record<string, Node>;
const functions = Object.entries(resources).filter(([, r]) => r['Type'] === 'AWS::Serverless::Function');

/** The EKS cluster name rule (CreateCluster: 1-100 characters, [0-9A-Za-z][A-Za-z0-9-_]*). */
const CLUSTER_NAME_PATTERN = '^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$';
/**
 * An optional cluster parameter (Default '': the stage takes UserParameters.clusterName instead)
 * allows exactly the empty string besides a cluster name.
 */
const OPTIONAL_CLUSTER_NAME_PATTERN = `^$|${CLUSTER_NAME_PATTERN}`;

/** CloudFormation matches AllowedPattern against each entry of a CommaDelimitedList. */
function allows(parameter: string, value: string): boolean {
  const pattern = parameters[parameter]?.['AllowedPattern'];
  expect(typeof pattern, `${parameter} has an AllowedPattern`).toBe('string');
  return new RegExp(pattern as string).test(value);
}

/** Every node of `value` with the path that leads to it. */
function* walk(value: unknown, at: string[] = []): Generator<[string[], unknown]> {
  yield [at, value];
  if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* walk(v, [...at, String(i)]);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) yield* walk(v, [...at, k]);
}

describe('template.yaml', () => {
  it('has the functions these rules are checked on', () => {
    expect(functions.map(([id]) => id)).toEqual(
      expect.arrayContaining(['SignImageFunction', 'VerifyImageFunction']),
    );
  });

  describe('the signing profile', () => {
    it('is retained when replaced or when the stack is deleted', () => {
      const profiles = Object.values(resources).filter((r) => r['Type'] === 'AWS::Signer::SigningProfile');
      expect(profiles.length).toBeGreaterThan(0);
      for (const profile of profiles) {
        expect(profile['DeletionPolicy']).toBe('Retain');
        expect(profile['UpdateReplacePolicy']).toBe('Retain');
      }
    });

    it('says in the profile-name parameter that replacing the profile untrusts earlier signatures', () => {
      expect(String(parameters['SigningProfileName']?.['Description']).replace(/\s+/g, ' ')).toContain(
        'silently untrusts every signature made before',
      );
    });
  });

  describe.each(functions)('%s', (logicalId, fn) => {
    it('logs to a log group of its own whose retention is the LogRetentionDays parameter', () => {
      const properties = fn['Properties'] as Node;
      const ref = ((properties['LoggingConfig'] as Node | undefined)?.['LogGroup'] as Node | undefined)?.[
        'Ref'
      ];
      expect(ref, `${logicalId}.Properties.LoggingConfig.LogGroup is !Ref <a LogGroup resource>`).toEqual(
        expect.any(String),
      );
      const group = resources[ref as string]!;
      expect(group['Type']).toBe('AWS::Logs::LogGroup');
      expect((group['Properties'] as Node)['RetentionInDays']).toEqual({ Ref: 'LogRetentionDays' });
      const sharing = functions.filter(
        ([, other]) =>
          ((
            ((other['Properties'] as Node)['LoggingConfig'] as Node | undefined)?.['LogGroup'] as
              Node | undefined
          )?.['Ref'] ?? '') === ref,
      );
      expect(sharing.map(([id]) => id)).toEqual([logicalId]);
    });

    it('ships no source map (SAM would add --enable-source-maps to every cold start)', () => {
      expect(((fn['Metadata'] as Node)['BuildProperties'] as Node)['Sourcemap']).toBe(false);
    });
  });

  it('offers only the retention periods CloudWatch Logs accepts', () => {
    expect(parameters['LogRetentionDays']?.['AllowedValues']).toEqual(
      expect.arrayContaining([1, 7, 30, 90, 365, 3653]),
    );
  });

  // The stage functions' grants; the example pipeline's roles use their own artifact key.
  describe('kms:Decrypt of the functions', () => {
    const grants = [...walk(Object.fromEntries(functions))].filter(
      ([, v]) => v === 'kms:Decrypt' || (Array.isArray(v) && v.includes('kms:Decrypt')),
    );

    it('is granted only under the condition that a customer-managed key is named for a trust parameter', () => {
      expect(grants.length).toBeGreaterThan(0);
      for (const [at] of grants) {
        // …/Policies/<i>/Fn::If/1/Statement/<j>/Action: the statement sits in the "true" branch.
        const ifAt = at.lastIndexOf('Fn::If');
        expect(ifAt, `kms:Decrypt at ${at.join('.')} must sit inside an !If`).toBeGreaterThan(0);
        const fnIf = at
          .slice(0, ifAt + 1)
          .reduce<unknown>((node, key) => (node as Node)[key], resources) as unknown[];
        expect(fnIf[0]).toBe('DecryptsTrustParameters');
        expect(at[ifAt + 1]).toBe('1');
      }
      const condition = JSON.stringify((template['Conditions'] as Node)['DecryptsTrustParameters']);
      expect(condition).toContain('{"Fn::Not":[{"Fn::Equals":[{"Ref":"TrustParametersKmsKeyArn"},""]}]}');
    });

    it('is limited to the named key, through SSM, for the trust parameters', () => {
      for (const [at] of grants) {
        const statement = at
          .slice(0, -1)
          .reduce<unknown>((node, key) => (node as Node)[key], resources) as Node;
        expect(statement['Resource']).toEqual({ Ref: 'TrustParametersKmsKeyArn' });
        const equals = (statement['Condition'] as Node)['StringEquals'] as Node;
        expect(equals['kms:ViaService']).toEqual({ 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' });
        expect(JSON.stringify(equals['kms:EncryptionContext:PARAMETER_ARN'])).toContain(
          'TrustPolicyParameterName',
        );
      }
    });

    it.each([
      ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', true],
      ['arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab', true],
      ['', true],
      ['arn:aws:kms:us-east-1:123456789012:alias/aws/ssm', false],
      ['1234abcd-12ab-34cd-56ef-1234567890ab', false],
    ])('TrustParametersKmsKeyArn %j allowed: %s', (value, ok) => {
      expect(allows('TrustParametersKmsKeyArn', value)).toBe(ok);
    });
  });

  describe.each(['SignableRepositories', 'VerifiableRepositories'])('%s', (parameter) => {
    it.each(['app', 'team/web', 'a1.b_c-d/e', 'x'.repeat(256)])('allows the repository name %j', (name) => {
      expect(allows(parameter, name)).toBe(true);
    });
    it.each([
      'a',
      'App',
      'app:v1',
      'localhost:5000/app',
      'app/',
      '/app',
      '-app',
      'app--web',
      'x'.repeat(257),
    ])('refuses %j', (name) => {
      expect(allows(parameter, name)).toBe(false);
    });
  });

  describe('cluster-name parameters (any parameter named *ClusterName)', () => {
    const clusterParameters = Object.keys(parameters).filter((name) => name.endsWith('ClusterName'));

    const optional = (name: string) => parameters[name]?.['Default'] === '';
    const names: Array<[string, boolean]> = [
      ['prod', true],
      ['my-cluster_2', true],
      ['0abc', true],
      ['x'.repeat(100), true],
      ['', false],
      ['-prod', false],
      ['prod.eu', false],
      ['x'.repeat(101), false],
      ['arn:aws:eks:us-east-1:123456789012:cluster/prod', false],
    ];

    it("include the deploy stage's ClusterName", () => {
      expect(clusterParameters).toContain('ClusterName');
    });

    it.each(clusterParameters.map((name) => [name]))(
      '%s uses the EKS cluster-name pattern (optional: empty or a cluster name, nothing else)',
      (name) => {
        expect(parameters[name]?.['AllowedPattern']).toBe(
          optional(name) ? OPTIONAL_CLUSTER_NAME_PATTERN : CLUSTER_NAME_PATTERN,
        );
      },
    );

    it.each(names)('the pattern treats %j as valid: %s', (name, ok) => {
      expect(new RegExp(CLUSTER_NAME_PATTERN).test(name)).toBe(ok);
    });

    describe.each(clusterParameters.map((name) => [name]))('%s', (name) => {
      it.each(names)('treats %j as valid: %s (the empty string only when optional)', (value, ok) => {
        expect(allows(name, value)).toBe(value === '' ? optional(name) : ok);
      });
    });
  });
});
