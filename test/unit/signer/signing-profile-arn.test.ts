import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import { parseSigningProfileArn } from '../../../shared/signer/signing-profile-arn';

describe('parseSigningProfileArn', () => {
  describe('when given a signing profile ARN', () => {
    it.each([
      [
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test',
        'aws',
        'us-west-2',
        'notation_test',
      ],
      [
        'arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/GovProfile1',
        'aws-us-gov',
        'us-gov-west-1',
        'GovProfile1',
      ],
      [
        'arn:aws-cn:signer:cn-north-1:111122223333:/signing-profiles/cn_profile',
        'aws-cn',
        'cn-north-1',
        'cn_profile',
      ],
      ['arn:aws:signer:ap-southeast-3:111122223333:/signing-profiles/ab', 'aws', 'ap-southeast-3', 'ab'],
      [
        `arn:aws:signer:eu-west-1:111122223333:/signing-profiles/${'x'.repeat(64)}`,
        'aws',
        'eu-west-1',
        'x'.repeat(64),
      ],
    ])('parses %s', (arn, partition, region, profileName) => {
      expect(parseSigningProfileArn(arn)).toEqual({
        partition,
        region,
        accountId: '111122223333',
        profileName,
        arn,
      });
    });
  });

  describe('when given anything else', () => {
    it.each([
      [
        'a profile-version ARN',
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test/IrwHQeF7XW',
        'SIGNING_PROFILE_ARN_IS_VERSION',
      ],
      [
        'a hyphenated profile name',
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/my-profile',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a one-character name',
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/a',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a 65-character name',
        `arn:aws:signer:us-west-2:111122223333:/signing-profiles/${'x'.repeat(65)}`,
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'an 11-digit account',
        'arn:aws:signer:us-west-2:11112222333:/signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a non-numeric account',
        'arn:aws:signer:us-west-2:11112222333a:/signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'another service',
        'arn:aws:kms:us-west-2:111122223333:/signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'an unknown partition',
        'arn:aws-iso:signer:us-iso-east-1:111122223333:/signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a signing-job ARN',
        'arn:aws:signer:us-west-2:111122223333:/signing-jobs/5808635f-05de-4207-a891-c95f827b50f4',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a resource without the leading slash',
        'arn:aws:signer:us-west-2:111122223333:signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a missing region',
        'arn:aws:signer::111122223333:/signing-profiles/notation_test',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a GovCloud region in the commercial partition',
        'arn:aws:signer:us-gov-west-1:111122223333:/signing-profiles/p1',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'a commercial region in the China partition',
        'arn:aws-cn:signer:us-east-1:111122223333:/signing-profiles/p1',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      [
        'trailing whitespace',
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test ',
        'SIGNING_PROFILE_ARN_INVALID',
      ],
      ['a profile name', 'notation_test', 'SIGNING_PROFILE_ARN_INVALID'],
      ['an empty string', '', 'SIGNING_PROFILE_ARN_INVALID'],
    ])('rejects %s with a ConfigurationError quoting it', (_name, arn, code) => {
      let caught: unknown;
      try {
        parseSigningProfileArn(arn);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigurationError);
      expect(caught).toMatchObject({ code });
      if (arn !== '') expect((caught as Error).message).toContain(JSON.stringify(arn));
    });

    it.each([
      {
        what: 'a trailing slash after the profile name',
        arn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test/',
        code: 'SIGNING_PROFILE_ARN_INVALID',
        says: 'ends with "/" after the profile name; remove it: arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test',
      },
      {
        what: 'a version ARN whose profile name is invalid',
        arn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/my-profile/IrwHQeF7XW',
        code: 'SIGNING_PROFILE_ARN_INVALID',
        says: 'invalid signing profile name "my-profile"',
      },
      {
        what: 'a version ARN with an empty profile name',
        arn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles//IrwHQeF7XW',
        code: 'SIGNING_PROFILE_ARN_INVALID',
        says: 'invalid signing profile name ""',
      },
      {
        what: 'a version ARN whose region is in another partition',
        arn: 'arn:aws:signer:cn-north-1:111122223333:/signing-profiles/notation_test/IrwHQeF7XW',
        code: 'SIGNING_PROFILE_ARN_INVALID',
        says: 'belongs to partition aws-cn, not aws',
      },
    ])('reports $what as $code, suggesting no ARN that would itself be rejected', ({ arn, code, says }) => {
      let caught: unknown;
      try {
        parseSigningProfileArn(arn);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ name: 'ConfigurationError', code });
      const message = (caught as Error).message;
      expect(message).toContain(says);
      // Every ARN the message offers (other than the one quoted) must parse.
      const offered = [...message.matchAll(/arn:[^\s",]+/g)].map((m) => m[0]).filter((a) => a !== arn);
      for (const suggestion of offered) expect(() => parseSigningProfileArn(suggestion)).not.toThrow();
    });

    it('tells the user which profile ARN to use instead of a version ARN', () => {
      expect(() =>
        parseSigningProfileArn(
          'arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test/IrwHQeF7XW',
        ),
      ).toThrow('arn:aws:signer:us-west-2:111122223333:/signing-profiles/notation_test');
    });
  });
});
