import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  certificateSubjectRdns,
  matchesX509Identity,
  parseX509Identity,
  x509SubjectString,
} from '../../../shared/notary/x509-identity';

const vectors = new URL('../../../../shared/vectors/', import.meta.url);
const cert = (p: string) => new X509Certificate(readFileSync(new URL(p, vectors)));

describe('parseX509Identity', () => {
  it.each<[string, Record<string, string>]>([
    [
      'CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US',
      { CN: 'Notation Test Root', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' },
    ],
    [
      ' CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US',
      { CN: 'wabbit-networks.io', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' },
    ],
    ['C=US, S=WA, O=Acme', { C: 'US', ST: 'WA', O: 'Acme' }],
    ['C=US;ST=WA;O=Acme', { C: 'US', ST: 'WA', O: 'Acme' }],
    ['C=US,ST=WA,O=Acme\\, Inc.', { C: 'US', ST: 'WA', O: 'Acme, Inc.' }],
    ['C=US,ST=WA,O=a\\+b\\;c\\\\d', { C: 'US', ST: 'WA', O: 'a+b;c\\d' }],
    ['C=US,ST=WA,O=\\ padded\\ ', { C: 'US', ST: 'WA', O: ' padded ' }],
    ['C=US,ST=WA,O=Caf\\C3\\A9', { C: 'US', ST: 'WA', O: 'Café' }],
    ['C=US,ST=WA,O="Acme, Inc."', { C: 'US', ST: 'WA', O: 'Acme, Inc.' }],
    ['C=US,ST=WA,O=Acme,2.5.4.97=VATUS-1', { C: 'US', ST: 'WA', O: 'Acme', '2.5.4.97': 'VATUS-1' }],
  ])('parses %j', (value, rdns) => {
    expect(parseX509Identity(value)).toEqual({ rdns });
  });

  it.each([
    ['C=US,ST=WA', 'has no mandatory RDN attribute for "O"'],
    ['C=US,ST=,O=Acme', 'has no mandatory RDN attribute for "ST"'],
    ['c=US,ST=WA,O=Acme', 'has no mandatory RDN attribute for "C"'],
    ['C=US,ST=WA,O=#0c0141', 'containing "=#"'],
    ['C=US,ST=WA+L=Seattle,O=Acme', 'has multi-valued RDN attributes'],
    ['C=US,ST=WA,S=OR,O=Acme', 'has duplicate RDN attribute for "ST"'],
    ['C=US,ST=WA,O=Acme,', 'failed with err'],
    ['C=US,ST=WA,O=Ac"me', 'failed with err'],
    ['C=US,ST=WA,O=Acme\\q', 'failed with err'],
    ['C=US,ST=WA,O="Acme', 'failed with err'],
    ['C=US,S T=WA,O=Acme', 'failed with err'],
  ])('rejects %j', (value, message) => {
    expect(() => parseX509Identity(value)).toThrow(message);
  });
});

describe('matchesX509Identity', () => {
  const identities = [parseX509Identity('C=US,ST=WA,O=Notary,CN=Notation Test Root')];
  const leaf = { C: 'US', ST: 'WA', L: 'Seattle', O: 'Notary', CN: 'Notation Test Root' };

  it.each<[string, string | Record<string, string>, boolean]>([
    ['a map with every RDN of the identity', leaf, true],
    ['an RFC 4514 string in Go order', 'CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US', true],
    ["node:crypto's one-RDN-a-line subject", 'C=US\nST=WA\nL=Seattle\nO=Notary\nCN=Notation Test Root', true],
    ['a subject with a different CN', { ...leaf, CN: 'Other' }, false],
    ['a subject missing an RDN of the identity', { C: 'US', ST: 'WA', O: 'Notary' }, false],
    ['a subject differing only in case', { ...leaf, O: 'notary' }, false],
    ['a subject with duplicate RDNs', 'CN=Notation Test Root,O=Notary,O=Notary,ST=WA,C=US', false],
    ['a subject that is not a DN', 'not a dn', false],
  ])('for %s returns %s', (_what, subject, expected) => {
    expect(matchesX509Identity(subject, identities)).toBe(expected);
  });

  it('matches when any one of several identities is a subset', () => {
    const many = [parseX509Identity('C=IN,ST=TG,O=DummyOrg'), parseX509Identity('C=US,ST=WA,O=Notary')];
    expect(matchesX509Identity(leaf, many)).toBe(true);
    expect(matchesX509Identity(leaf, [many[0]!])).toBe(false);
  });

  it('matches nothing against an empty identity list', () => {
    expect(matchesX509Identity(leaf, [])).toBe(false);
  });
});

describe('certificate subjects', () => {
  it('prints a subject as notation does and reads it back for matching', () => {
    const root = cert(
      'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem',
    );
    expect(x509SubjectString(root)).toBe('CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US');
    expect(certificateSubjectRdns(root)).toEqual({
      CN: 'Notation Test Root',
      O: 'Notary',
      L: 'Seattle',
      ST: 'WA',
      C: 'US',
    });
  });

  it('matches the leaf of the notation-go sa_valid vector against the vector policy identity, and not the mismatch identity', () => {
    const envelope = JSON.parse(
      readFileSync(new URL('notation-go/internal/mock/testdata/sa_valid_sig_env.json', vectors), 'utf8'),
    );
    const leaf = new X509Certificate(Buffer.from(envelope.header.x5c[0], 'base64'));
    const subject = certificateSubjectRdns(leaf)!;
    expect(
      matchesX509Identity(subject, [
        parseX509Identity('CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US'),
      ]),
    ).toBe(true);
    expect(
      matchesX509Identity(subject, [parseX509Identity('CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN')]),
    ).toBe(false);
  });

  it('prints the AWS Signer root subject in Go order', () => {
    const root = cert(
      'kyverno-notation-aws/configs/samples/extracted/aws-signer-ts.aws-signer-notation-root.pem',
    );
    expect(x509SubjectString(root)).toBe(
      'CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US',
    );
  });
});
