import { describe, expect, it } from 'vitest';
import { readDeployed, writeDeployed } from '../../../shared/pipeline/handoff';
import type { DeployedWorkload } from '../../../shared/pipeline/handoff';

const WEB: DeployedWorkload = {
  kind: 'Deployment',
  namespace: 'prod',
  name: 'web',
  uid: '6c1c5e4a-0b7d-4f57-9b8e-2f1d3c4b5a69',
  generation: 3,
  revision: '2',
  appliedAt: '2026-12-07T10:00:00Z',
  images: [{ container: 'web', image: `r.example.com/app@sha256:${'a'.repeat(64)}` }],
};

describe('DEPLOYED hand-off', () => {
  it('reads back what it writes, from the substituted array or its text', () => {
    const text = writeDeployed([WEB, { ...WEB, kind: 'Job', name: 'migrate', revision: null }]);
    expect(readDeployed(JSON.parse(text))).toEqual([
      WEB,
      { ...WEB, kind: 'Job', name: 'migrate', revision: null },
    ]);
    expect(readDeployed(text)).toHaveLength(2);
  });

  it.each([
    [{ ...WEB, uid: '' }, 'UserParameters.deployed[0].uid must be a non-empty string'],
    [{ ...WEB, generation: '3' }, 'UserParameters.deployed[0].generation must be an integer'],
    [{ ...WEB, appliedAt: 'yesterday' }, 'UserParameters.deployed[0].appliedAt must be an RFC 3339 time'],
    [
      { ...WEB, images: [{ container: 'web' }] },
      'UserParameters.deployed[0].images[0] must be {container, image}',
    ],
  ])('refuses a damaged entry naming the field', (entry, message) => {
    expect(() => readDeployed([entry])).toThrow(message);
  });

  it('refuses something that is not the array', () => {
    expect(() => readDeployed('#{DeployVariables.DEPLOYED')).toThrow(/is not JSON/);
    expect(() => readDeployed({})).toThrow(/must be the JSON array/);
  });
});
