import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import {
  collectImages,
  collectImageSources,
  imagesFromArtifactFiles,
  parseImageSourceParams,
} from '../../../shared/pipeline/image-sources';
import type { ArtifactFiles } from '../../../shared/pipeline/artifact-store';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

const files = (entries: Record<string, unknown>): ArtifactFiles =>
  new Map(
    Object.entries(entries).map(([path, value]) => [
      path,
      new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)),
    ]),
  );

const job = (artifacts: Record<string, ArtifactFiles>) => {
  const reads: string[] = [];
  return {
    reads,
    inputArtifactNames: Object.keys(artifacts),
    readInputArtifact: async (name: string) => {
      reads.push(name);
      return artifacts[name]!;
    },
  };
};

describe('parseImageSourceParams', () => {
  it('reads image and images, keeps the order and drops duplicates', () => {
    const params = parseImageSourceParams({
      image: `${ECR}/app:v1`,
      images: [`${ECR}/web@${DIGEST}`, `${ECR}/app:v1`],
    });
    expect(params.images.map((i) => [i.text, i.origin])).toEqual([
      [`${ECR}/app:v1`, 'UserParameters.image'],
      [`${ECR}/web@${DIGEST}`, 'UserParameters.images[0]'],
    ]);
    expect(params.images[0]!.reference).toEqual({ registry: ECR, repository: 'app', tag: 'v1' });
  });

  it.each([
    { up: { image: 'app:v1' }, field: 'UserParameters.image', quoted: '"app:v1"' },
    { up: { images: [`${ECR}/app:v1`, `${ECR}/App:v1`] }, field: 'UserParameters.images[1]', quoted: 'App' },
    { up: { image: `${ECR}/app@sha256:1234` }, field: 'UserParameters.image', quoted: 'sha256:1234' },
    {
      up: { image: '#{BuildVariables.IMAGE_URI}' },
      field: 'UserParameters.image',
      quoted: 'unresolved pipeline variable',
    },
    { up: { image: 42 }, field: 'UserParameters.image', quoted: 'number 42' },
    { up: { images: `${ECR}/app:v1` }, field: 'UserParameters.images', quoted: 'array' },
  ])(
    'refuses $field in $up with a ConfigurationError naming the field and quoting the value',
    ({ up, field, quoted }) => {
      const error = (() => {
        try {
          parseImageSourceParams(up);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'IMAGE_REFERENCE_INVALID' });
      expect((error as Error).message).toContain(field);
      expect((error as Error).message).toContain(quoted);
    },
  );

  it.each([
    { up: { imageFile: '../secrets.json' }, code: 'IMAGE_FILE_INVALID' },
    { up: { imageFile: '/abs.json' }, code: 'IMAGE_FILE_INVALID' },
    { up: { inputArtifact: '' }, code: 'USER_PARAMETERS_INVALID' },
  ])('refuses $up', ({ up, code }) => {
    expect(() => parseImageSourceParams(up)).toThrow(
      expect.objectContaining({ code, name: 'ConfigurationError' }),
    );
  });
});

describe('imagesFromArtifactFiles', () => {
  it('reads imagedefinitions.json entries with their container names', () => {
    const { images } = imagesFromArtifactFiles(
      files({
        'imagedefinitions.json': [
          { name: 'web', imageUri: `${ECR}/web:1.2` },
          { name: 'worker', imageUri: `${ECR}/worker@${DIGEST}` },
        ],
      }),
      'BuildOutput',
      undefined,
    );
    expect(images.map((i) => [i.name, i.text, i.origin, i.kind])).toEqual([
      ['web', `${ECR}/web:1.2`, 'BuildOutput:imagedefinitions.json[0].imageUri', 'imagedefinitions'],
      [
        'worker',
        `${ECR}/worker@${DIGEST}`,
        'BuildOutput:imagedefinitions.json[1].imageUri',
        'imagedefinitions',
      ],
    ]);
  });

  it('reads imageDetail.json when there is no imagedefinitions.json', () => {
    const { images } = imagesFromArtifactFiles(
      files({ 'imageDetail.json': { ImageURI: `${ECR}/app@${DIGEST}` } }),
      'Src',
      undefined,
    );
    expect(images.map((i) => [i.text, i.kind])).toEqual([[`${ECR}/app@${DIGEST}`, 'imageDetail']]);
  });

  it('prefers imagedefinitions.json over imageDetail.json by default, and honours imageFile', () => {
    const both = files({
      'imagedefinitions.json': [{ name: 'a', imageUri: `${ECR}/a:1` }],
      'imageDetail.json': { ImageURI: `${ECR}/b:1` },
    });
    expect(imagesFromArtifactFiles(both, 'X', undefined).images.map((i) => i.text)).toEqual([`${ECR}/a:1`]);
    expect(imagesFromArtifactFiles(both, 'X', 'imageDetail.json').images.map((i) => i.text)).toEqual([
      `${ECR}/b:1`,
    ]);
  });

  it.each([
    { content: '{not json', message: 'BuildOutput:imagedefinitions.json is not valid UTF-8 JSON' },
    { content: [{ name: 'web' }], message: 'BuildOutput:imagedefinitions.json[0].imageUri must be a string' },
    {
      content: [{ name: 'web', imageUri: 'web:latest' }],
      message: 'BuildOutput:imagedefinitions.json[0].imageUri is not a valid image reference',
    },
    { content: { foo: 1 }, message: 'neither imagedefinitions.json' },
  ])('refuses a malformed file: $message', ({ content, message }) => {
    expect(() =>
      imagesFromArtifactFiles(files({ 'imagedefinitions.json': content }), 'BuildOutput', undefined),
    ).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining(message) }),
    );
  });

  it('says which files the artifact holds when imageFile is missing', () => {
    expect(() =>
      imagesFromArtifactFiles(files({ 'appspec.yaml': 'x' }), 'BuildOutput', 'build/images.json'),
    ).toThrow(
      expect.objectContaining({
        code: 'IMAGE_FILE_MISSING',
        message: expect.stringContaining('appspec.yaml'),
      }),
    );
  });
});

describe('collectImages', () => {
  it('uses UserParameters alone and does not read the artifact when images are given', async () => {
    const j = job({
      BuildOutput: files({ 'imagedefinitions.json': [{ name: 'x', imageUri: `${ECR}/x:1` }] }),
    });
    const images = await collectImages(parseImageSourceParams({ image: `${ECR}/app:v1` }), j);
    expect(images.map((i) => i.text)).toEqual([`${ECR}/app:v1`]);
    expect(j.reads).toEqual([]);
  });

  it('combines UserParameters and the artifact file when imageFile is set', async () => {
    const j = job({
      BuildOutput: files({ 'imagedefinitions.json': [{ name: 'x', imageUri: `${ECR}/x:1` }] }),
    });
    const images = await collectImages(
      parseImageSourceParams({ image: `${ECR}/app:v1`, imageFile: 'imagedefinitions.json' }),
      j,
    );
    expect(images.map((i) => i.text)).toEqual([`${ECR}/app:v1`, `${ECR}/x:1`]);
  });

  it('reads the only input artifact when UserParameters names no image', async () => {
    const j = job({ BuildOutput: files({ 'imageDetail.json': { ImageURI: `${ECR}/app@${DIGEST}` } }) });
    expect((await collectImages(parseImageSourceParams(undefined), j)).map((i) => i.text)).toEqual([
      `${ECR}/app@${DIGEST}`,
    ]);
    expect(j.reads).toEqual(['BuildOutput']);
  });

  it('asks for inputArtifact when the action has several', async () => {
    const j = job({ A: files({}), B: files({}) });
    await expect(collectImages(parseImageSourceParams({}), j)).rejects.toMatchObject({
      code: 'INPUT_ARTIFACT_AMBIGUOUS',
    });
    const named = job({ A: files({}), B: files({ 'imageDetail.json': { ImageURI: `${ECR}/b:1` } }) });
    expect(await collectImages(parseImageSourceParams({ inputArtifact: 'B' }), named)).toHaveLength(1);
  });

  it.each([
    { artifacts: {} as Record<string, ArtifactFiles>, where: 'input artifacts (the action has none)' },
    {
      artifacts: { BuildOutput: files({ 'appspec.yaml': 'x' }) },
      where:
        'input artifact BuildOutput for imagedefinitions.json or imageDetail.json (it contains appspec.yaml)',
    },
    {
      artifacts: { BuildOutput: files({ 'imagedefinitions.json': [] }) },
      where: 'BuildOutput:imagedefinitions.json',
    },
  ])('fails with NO_IMAGES saying it looked in $where', async ({ artifacts, where }) => {
    const error = await collectImages(parseImageSourceParams({}), job(artifacts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'NO_IMAGES' });
    expect((error as Error).message).toContain('Looked in UserParameters.image and UserParameters.images; ');
    expect((error as Error).message).toContain(where);
  });
});

describe('collectImageSources', () => {
  it('returns the distinct references to act on and every entry as found, duplicates and extra fields included', async () => {
    const j = job({
      BuildOutput: files({
        'imagedefinitions.json': [
          { name: 'web', imageUri: `${ECR}/web:1`, cpu: 256 },
          { name: 'sidecar', imageUri: `${ECR}/web:1` },
          { name: 'worker', imageUri: `${ECR}/worker:2` },
        ],
      }),
    });
    const { images, entries } = await collectImageSources(
      parseImageSourceParams({ image: `${ECR}/worker:2`, imageFile: 'imagedefinitions.json' }),
      j,
    );
    expect(images.map((i) => [i.text, i.origin])).toEqual([
      [`${ECR}/worker:2`, 'UserParameters.image'],
      [`${ECR}/web:1`, 'BuildOutput:imagedefinitions.json[0].imageUri'],
    ]);
    expect(entries.map((i) => [i.name, i.text, i.kind])).toEqual([
      [undefined, `${ECR}/worker:2`, 'user-parameters'],
      ['web', `${ECR}/web:1`, 'imagedefinitions'],
      ['sidecar', `${ECR}/web:1`, 'imagedefinitions'],
      ['worker', `${ECR}/worker:2`, 'imagedefinitions'],
    ]);
    expect(entries[1]!.fields).toEqual({ name: 'web', imageUri: `${ECR}/web:1`, cpu: 256 });
  });

  it('keeps the fields of imageDetail.json', async () => {
    const detail = { ImageURI: `${ECR}/app@${DIGEST}`, ImageTags: ['v1'], RegistryId: '123456789012' };
    const { entries } = await collectImageSources(
      parseImageSourceParams(undefined),
      job({ Src: files({ 'imageDetail.json': detail }) }),
    );
    expect(entries.map((e) => e.fields)).toEqual([detail]);
  });

  it('agrees with collectImages on the work list', async () => {
    const artifacts = {
      BuildOutput: files({
        'imagedefinitions.json': [
          { name: 'a', imageUri: `${ECR}/a:1` },
          { name: 'b', imageUri: `${ECR}/a:1` },
        ],
      }),
    };
    const params = parseImageSourceParams(undefined);
    expect((await collectImages(params, job(artifacts))).map((i) => i.name)).toEqual(['a']);
    expect((await collectImageSources(params, job(artifacts))).images.map((i) => i.name)).toEqual(['a']);
  });
});
