import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { functionTimeoutSeconds, parseTemplate } from '../../../scripts/lib/sam-template';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));

const withTimeouts = parseTemplate(`
Globals:
  Function:
    Timeout: 45
Resources:
  SignImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 300
  VerifyImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handler.handler
  DeployManifestFunction:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: !Ref DeployTimeout
`);

describe('functionTimeoutSeconds', () => {
  it.each([
    ['its own Timeout', 'sign-image', 300],
    ['the Globals Timeout when it has none', 'verify-image', 45],
    ['the Globals Timeout for a stage without a function yet', 'check-admission', 45],
    ['undefined when the Timeout is not a plain number', 'deploy-manifest', undefined],
  ])('gives a function %s', (_label, stage, seconds) => {
    expect(functionTimeoutSeconds(withTimeouts, stage)).toBe(seconds);
  });

  it('gives undefined when the template names no Timeout at all', () => {
    expect(functionTimeoutSeconds(parseTemplate('Resources: {}'), 'sign-image')).toBeUndefined();
  });

  it("reads template.yaml's Globals Timeout for the shipped stages", () => {
    const globals = (template.Globals as { Function: { Timeout: unknown } }).Function.Timeout;
    expect(typeof globals).toBe('number');
    expect(functionTimeoutSeconds(template, 'sign-image')).toBeGreaterThan(0);
  });
});

describe('template.yaml logging', () => {
  const globals = (template.Globals as { Function: Record<string, unknown> }).Function;
  const logLevel = (template.Parameters as { LogLevel: { AllowedValues: string[]; Default: string } })
    .LogLevel;

  it('sets the application log level from the LogLevel parameter (Lambda would force INFO otherwise)', () => {
    expect(globals.LoggingConfig).toMatchObject({
      LogFormat: 'JSON',
      ApplicationLogLevel: { Ref: 'LogLevel' },
      SystemLogLevel: 'WARN',
    });
  });

  it('offers only LogLevel values that Lambda and Powertools Logger both accept', () => {
    // Lambda ApplicationLogLevel: TRACE|DEBUG|INFO|WARN|ERROR|FATAL; Powertools: TRACE|DEBUG|INFO|WARN|ERROR|CRITICAL|SILENT.
    const both = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
    expect(logLevel.AllowedValues.length).toBeGreaterThan(0);
    for (const value of logLevel.AllowedValues) expect(both).toContain(value);
    expect(logLevel.AllowedValues).toContain(logLevel.Default);
  });
});
