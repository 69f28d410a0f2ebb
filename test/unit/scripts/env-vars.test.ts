import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredVariables, environmentFor, parseEnvVarsFile } from '../../../scripts/lib/env-vars';
import { parseTemplate } from '../../../scripts/lib/sam-template';
import { promisedOutcome } from '../../helpers/event-outcome';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const template = parseTemplate(`
Globals:
  Function:
    Environment:
      Variables:
        POWERTOOLS_LOG_LEVEL: INFO
Resources:
  SignImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          SIGNING_PROFILE_ARN: !GetAtt SigningProfile.Arn
  VerifyImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          TRUST_POLICY: !Ref TrustPolicy
`);

describe('declaredVariables', () => {
  it("lists Globals' and the function's own Environment.Variables", () => {
    expect(declaredVariables(template, 'SignImageFunction')).toEqual([
      'POWERTOOLS_LOG_LEVEL',
      'SIGNING_PROFILE_ARN',
    ]);
    expect(declaredVariables(template, 'NoSuchFunction')).toEqual(['POWERTOOLS_LOG_LEVEL']);
  });
});

describe('environmentFor (sam local invoke --env-vars semantics)', () => {
  const file = parseEnvVarsFile(
    JSON.stringify({
      Parameters: { POWERTOOLS_LOG_LEVEL: 'WARN', SIGNING_PROFILE_ARN: 'from-parameters', EXTRA: 'x' },
      SignImageFunction: { SIGNING_PROFILE_ARN: 'from-function', TRUST_POLICY: 'not-declared-here' },
    }),
    'env.json',
  );

  it("applies Parameters to every function and the function's own values over them", () => {
    expect(
      environmentFor(file, 'SignImageFunction', declaredVariables(template, 'SignImageFunction')),
    ).toEqual({
      values: { POWERTOOLS_LOG_LEVEL: 'WARN', SIGNING_PROFILE_ARN: 'from-function' },
      ignored: ['EXTRA', 'TRUST_POLICY'],
    });
    expect(
      environmentFor(file, 'VerifyImageFunction', declaredVariables(template, 'VerifyImageFunction')),
    ).toEqual({
      values: { POWERTOOLS_LOG_LEVEL: 'WARN' },
      ignored: ['EXTRA', 'SIGNING_PROFILE_ARN'],
    });
  });

  it('turns numbers, booleans and null into text as SAM does', () => {
    const typed = parseEnvVarsFile('{"Parameters":{"A":3,"B":true,"C":false,"D":null}}', 'env.json');
    expect(environmentFor(typed, 'F', ['A', 'B', 'C', 'D']).values).toEqual({
      A: '3',
      B: 'true',
      C: 'false',
      D: '',
    });
  });

  it.each([
    ['not json', /^env\.json is not valid JSON/],
    ['[]', /^env\.json must be a JSON object: \{"Parameters"/],
    ['{"SignImageFunction":"x"}', /^env\.json: "SignImageFunction" must be an object of variables/],
    [
      '{"Parameters":{"TRUST_POLICY":{"version":"1.0"}}}',
      /^env\.json: Parameters\.TRUST_POLICY must be a string, number, boolean or null/,
    ],
  ])('refuses %s, naming the key and the fix', (text, message) => {
    expect(() => parseEnvVarsFile(text, 'env.json')).toThrow(message);
  });

  it('gives events/env.json only variables template.yaml declares for each function it names', () => {
    const real = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
    const envFile = parseEnvVarsFile(
      readFileSync(path.join(root, 'events/env.json'), 'utf8'),
      'events/env.json',
    );
    for (const logicalId of Object.keys(envFile).filter((k) => k !== 'Parameters')) {
      expect(
        environmentFor(envFile, logicalId, declaredVariables(real, logicalId)).ignored,
        logicalId,
      ).toEqual([]);
    }
  });
});

describe('promisedOutcome (the events/README.md naming rule)', () => {
  it.each([
    ['happy-path.json', { outcome: 'success' }],
    ['continuation.json', { outcome: 'success' }],
    ['bad-user-parameters.json', { outcome: 'failure', type: 'ConfigurationError' }],
    ['missing-user-parameters.json', { outcome: 'failure', type: 'ConfigurationError' }],
    ['unsigned-image.json', { outcome: 'failure', type: 'JobFailed' }],
    ['preflight-rejected.json', { outcome: 'failure', type: 'JobFailed' }],
    ['cluster-forbidden.json', { outcome: 'failure', type: 'PermissionError' }],
    ['api-throttled.json', { outcome: 'failure', type: 'SystemUnavailable' }],
    ['rollout-waiting.json', { outcome: 'continuation' }],
    ['bad-unsigned.json', { outcome: 'failure', type: 'ConfigurationError' }],
  ])('%s promises %j', (name, outcome) => {
    expect(promisedOutcome(name)).toEqual(outcome);
  });
});
