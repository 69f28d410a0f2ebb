import { describe, expect, it } from 'vitest';
import { parseTrustPolicy } from '../../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../../shared/notary/trust-policy';
import { findRelaxation, findUncoveredImage } from '../../../shared/notary/trust-policy-tightening';

const DN = 'x509.subject:C=US,ST=WA,O=Acme';
const DIGEST = `sha256:${'a'.repeat(64)}`;

function policy(...statements: Record<string, unknown>[]): TrustPolicyDocument {
  return parseTrustPolicy({
    version: '1.0',
    trustPolicies: statements.map((s, i) => ({
      name: `s${i}`,
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:acme'],
      trustedIdentities: [DN],
      ...s,
    })),
  });
}
const strictOnly = { allowUnenforcedAuthenticity: false };

describe('findRelaxation', () => {
  it.each([
    ['the same policy', {}, undefined],
    ['a narrower x509 identity (more RDNs)', { trustedIdentities: [`${DN},CN=signer`] }, undefined],
    ['fewer trust stores', { trustStores: ['ca:acme'] }, undefined],
    [
      'a broader x509 identity',
      { trustedIdentities: ['x509.subject:C=US,ST=WA,O=Acme2'] },
      'trusts identity',
    ],
    [
      'verifyTimestamp afterCertExpiry',
      { signatureVerification: { level: 'strict', verifyTimestamp: 'afterCertExpiry' } },
      'verifyTimestamp',
    ],
    [
      'skipTimestampRevocationCheck',
      { signatureVerification: { level: 'strict', skipTimestampRevocationCheck: true } },
      'skipTimestampRevocationCheck',
    ],
    [
      'an expiry override to log',
      { signatureVerification: { level: 'strict', override: { expiry: 'log' } } },
      'does not enforce expiry',
    ],
  ])('%s', (_what, candidate, relaxes) => {
    const found = findRelaxation(policy(candidate), policy({}), strictOnly);
    if (relaxes === undefined) expect(found).toBeUndefined();
    else expect(found?.relaxes).toContain(relaxes);
  });

  it('accepts anything where the deployment statement verifies nothing (level skip)', () => {
    const deployment = parseTrustPolicy({
      version: '1.0',
      trustPolicies: [{ name: 'off', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
    });
    expect(findRelaxation(policy({ trustedIdentities: ['*'] }), deployment, strictOnly)).toBeUndefined();
  });

  it('allows * identities only when the deployment has *', () => {
    expect(findRelaxation(policy({ trustedIdentities: ['*'] }), policy({}), strictOnly)?.relaxes).toContain(
      '"*"',
    );
    expect(findRelaxation(policy({}), policy({ trustedIdentities: ['*'] }), strictOnly)).toBeUndefined();
  });

  it('compares a scoped statement with the deployment statement of that scope only', () => {
    const deployment = policy(
      { registryScopes: ['r.example/app'] },
      { registryScopes: ['*'], signatureVerification: { level: 'permissive' } },
    );
    // Permissive for another repository: the deployment's * statement is permissive too.
    expect(
      findRelaxation(
        policy({ registryScopes: ['r.example/other'], signatureVerification: { level: 'permissive' } }),
        deployment,
        strictOnly,
      ),
    ).toBeUndefined();
    expect(
      findRelaxation(
        policy({ registryScopes: ['R.EXAMPLE:443/app'], signatureVerification: { level: 'permissive' } }),
        deployment,
        strictOnly,
      ),
    ).toMatchObject({ statement: 's0', deploymentStatement: 's0' });
  });

  it('with the opt-in, accepts statements that do not enforce authenticity and still checks the others', () => {
    const optIn = { allowUnenforcedAuthenticity: true };
    expect(
      findRelaxation(policy({ signatureVerification: { level: 'audit' } }), policy({}), optIn),
    ).toBeUndefined();
    expect(findRelaxation(policy({ trustedIdentities: ['*'] }), policy({}), optIn)?.relaxes).toContain('"*"');
  });
});

describe('findUncoveredImage', () => {
  it('names an image the candidate covers and the deployment does not', () => {
    const candidate = policy({});
    const deployment = policy({ registryScopes: ['r.example/app'] });
    expect(
      findUncoveredImage(candidate, deployment, [`r.example/app@${DIGEST}`], strictOnly),
    ).toBeUndefined();
    expect(
      findUncoveredImage(candidate, deployment, [`r.example/other@${DIGEST}`], strictOnly)?.relaxes,
    ).toContain(`covers r.example/other@${DIGEST}`);
  });
});
