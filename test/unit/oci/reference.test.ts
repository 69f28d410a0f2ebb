import { describe, expect, it } from 'vitest';
import {
  canonicalScope,
  ecrPartition,
  formatReference,
  parseEcrHost,
  parseReference,
  scopeRegistryHost,
  withDigest,
} from '../../../shared/oci/reference';

const D256 = `sha256:${'ab'.repeat(32)}`;
const D512 = `sha512:${'cd'.repeat(64)}`;

describe('parseReference', () => {
  describe('when the reference is valid', () => {
    it.each([
      [
        '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1',
        { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'app', tag: 'v1' },
      ],
      [
        `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@${D256}`,
        { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'team/app', digest: D256 },
      ],
      [
        `localhost:5000/app:v1@${D256}`,
        { registry: 'localhost:5000', repository: 'app', tag: 'v1', digest: D256 },
      ],
      ['localhost/app', { registry: 'localhost', repository: 'app' }],
      ['127.0.0.1:5000/a/b/c:latest', { registry: '127.0.0.1:5000', repository: 'a/b/c', tag: 'latest' }],
      ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
      [
        'ghcr.io/my-org/my__app.x:1.0.0-rc_1',
        { registry: 'ghcr.io', repository: 'my-org/my__app.x', tag: '1.0.0-rc_1' },
      ],
      ['Registry.Example.com/app:V1', { registry: 'registry.example.com', repository: 'app', tag: 'V1' }],
      [
        `registry.example.com/app@${D512}`,
        { registry: 'registry.example.com', repository: 'app', digest: D512 },
      ],
      [
        `registry.example.com/app:${'t'.repeat(128)}`,
        { registry: 'registry.example.com', repository: 'app', tag: 't'.repeat(128) },
      ],
      ['registry.example.com/a--b/c', { registry: 'registry.example.com', repository: 'a--b/c' }],
    ])('parses %s', (input, expected) => {
      expect(parseReference(input)).toEqual(expected);
    });
  });

  describe('when the reference is invalid', () => {
    it.each([
      ['', 'empty'],
      ['app:v1', 'no registry host'],
      ['registry.example.com/App:v1', 'repository "App" must be lowercase'],
      ['registry.example.com/team/MyApp', 'must be lowercase'],
      [
        `registry.example.com/app@sha256:${'ab'.repeat(31)}`,
        'sha256 digest must have 64 hex characters, got 62',
      ],
      [`registry.example.com/app@sha256:${'ab'.repeat(33)}`, 'got 66'],
      [`registry.example.com/app@sha256:${'zz'.repeat(32)}`, 'lowercase hexadecimal'],
      [`registry.example.com/app@sha256:${'AB'.repeat(32)}`, 'lowercase hexadecimal'],
      [`registry.example.com/app@sha512:${'ab'.repeat(32)}`, 'sha512 digest must have 128 hex characters'],
      [`registry.example.com/app@md5:${'ab'.repeat(16)}`, 'algorithm "md5" is not supported'],
      ['registry.example.com/app@sha256', 'must be <algorithm>:<hex>'],
      ['registry.example.com/app:-v1', 'tag "-v1"'],
      ['registry.example.com/app:.v1', 'tag ".v1"'],
      [`registry.example.com/app:${'t'.repeat(129)}`, 'tag'],
      ['registry.example.com/app:v1+build', 'tag'],
      ['registry.example.com/', 'repository is empty'],
      ['registry.example.com/-app', 'lowercase path components'],
      ['registry.example.com/app_', 'lowercase path components'],
      ['registry.example.com//app', 'lowercase path components'],
      ['-registry.example.com/app', 'not a valid host'],
      ['registry.example.com:99999/app', 'port 99999 is out of range'],
      ['registry.example.com/app name', 'whitespace'],
      [`registry.example.com/${'a'.repeat(250)}`, 'longer than 255'],
    ])('rejects %j saying %s', (input, why) => {
      expect(() => parseReference(input)).toThrow(
        expect.objectContaining({
          code: 'INVALID_REFERENCE',
          kind: 'input',
          message: expect.stringContaining(why),
        }),
      );
      expect(() => parseReference(input)).toThrow(`"${input}"`);
    });
  });
});

describe('one spelling per registry host (issue 9 item 2)', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM/app', '123456789012.dkr.ecr.us-west-2.amazonaws.com'],
    ['Registry.Example.com:443/app', 'registry.example.com'],
    ['registry.example.com:5000/app', 'registry.example.com:5000'],
    [
      '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app',
      '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com',
    ],
  ])('parseReference(%s) keeps the registry as %s', (input, registry) => {
    const ref = parseReference(`${input}@${digest}`);
    expect(ref.registry).toBe(registry);
    expect(formatReference(ref)).toBe(`${registry}/app@${digest}`);
  });
  it.each([
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    [
      '123456789012.DKR.ECR-FIPS.us-gov-west-1.amazonaws.com:443',
      '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
    ],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['localhost:443', 'localhost'],
  ])('scopeRegistryHost(%s) is %s', (host, scope) => {
    expect(scopeRegistryHost(host)).toBe(scope);
    expect(canonicalScope(`${host}/a/b`)).toBe(`${scope}/a/b`);
  });
});

describe('formatReference', () => {
  it.each([
    'registry.example.com/app',
    'localhost:5000/team/app:v1',
    `localhost:5000/app@${D256}`,
    `localhost:5000/app:v1@${D256}`,
  ])('round-trips %s', (input) => {
    expect(formatReference(parseReference(input))).toBe(input);
  });
});

describe('withDigest', () => {
  it('pins the reference and drops the tag', () => {
    expect(formatReference(withDigest(parseReference('localhost:5000/app:v1'), D256))).toBe(
      `localhost:5000/app@${D256}`,
    );
  });

  it('refuses a malformed digest', () => {
    expect(() => withDigest(parseReference('localhost:5000/app:v1'), 'sha256:abc')).toThrow(
      expect.objectContaining({ code: 'INVALID_REFERENCE' }),
    );
  });
});

describe('parseEcrHost', () => {
  it.each([
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      { accountId: '123456789012', region: 'us-east-1', fips: false, partitionSuffix: '' },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      { accountId: '123456789012', region: 'us-gov-west-1', fips: true, partitionSuffix: '' },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { accountId: '123456789012', region: 'cn-north-1', fips: false, partitionSuffix: '.cn' },
    ],
    [
      '123456789012.dkr.ecr.eu-west-3.amazonaws.com',
      { accountId: '123456789012', region: 'eu-west-3', fips: false, partitionSuffix: '' },
    ],
  ])('recognises %s', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });

  it.each([
    'public.ecr.aws',
    'registry.example.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com:443',
    '12345.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
    'localhost:5000',
  ])('does not take %s for ECR', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });
});

describe('ecrPartition', () => {
  it.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', 'aws'],
    ['123456789012.dkr.ecr.us-gov-west-1.amazonaws.com', 'aws-us-gov'],
    ['123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com', 'aws-us-gov'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', 'aws-cn'],
    ['123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn', 'aws-cn'],
  ])('puts %s in the %s partition (for ARNs in permission hints)', (host, partition) => {
    expect(ecrPartition(parseEcrHost(host)!)).toBe(partition);
  });
});

describe('messages quoting a reference', () => {
  it.each([
    ['a NUL byte', 'registry.example.com/app\u0000:v1'],
    ['an escape sequence', 'registry.example.com/app\u001b[31m'],
    ['a carriage return in the digest', 'registry.example.com/app@sha256:ab\r'],
  ])('escape %s so the message stays on one clean line', (_, input) => {
    let message = '';
    try {
      parseReference(input);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^invalid reference "/);
    expect([...message].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toBe(false);
    expect(message).toContain(JSON.stringify(input));
  });
});
