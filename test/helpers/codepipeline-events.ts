import { readFileSync } from 'node:fs';

/** The fake credentials in every events/*.json file; tests assert they never reach any output. */
export const EVENT_SECRETS = [
  'AKIAFAKESTAGESIGN000',
  'FAKE-stagesign-secret-access-key-never-log-me',
  'FAKE-stagesign-session-token-never-log-me',
] as const;

/** Reads events/<stage>/<name>.json. */
export function loadEvent(stage: string, name: string): Record<string, unknown> {
  const url = new URL(`../../events/${stage}/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}

/** A minimal valid job event with the given UserParameters (undefined = none) and data overrides. */
export function jobEvent(
  userParameters?: string,
  data: Record<string, unknown> = {},
  id = '11111111-abcd-1111-abcd-111111abcdef',
) {
  return {
    'CodePipeline.job': {
      id,
      accountId: '111111111111',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'stagesign-test',
            ...(userParameters === undefined ? {} : { UserParameters: userParameters }),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: {
          accessKeyId: EVENT_SECRETS[0],
          secretAccessKey: EVENT_SECRETS[1],
          sessionToken: EVENT_SECRETS[2],
        },
        ...data,
      },
    },
  };
}

/** A Lambda context with a fixed request id and `remainingMs` left. */
export function fakeContext(remainingMs = 60_000, awsRequestId = 'req-0001') {
  return { awsRequestId, getRemainingTimeInMillis: () => remainingMs };
}
