import { describe, expect, it } from 'vitest';
import { pickInputArtifact } from '../../../shared/pipeline/input-artifact';

describe('pickInputArtifact', () => {
  it('returns the requested artifact when the action has it', () => {
    expect(pickInputArtifact(['SourceOutput', 'BuildOutput'], 'BuildOutput', 'the image file')).toBe(
      'BuildOutput',
    );
  });

  it('returns the only artifact when none is requested, and undefined when there is none', () => {
    expect(pickInputArtifact(['BuildOutput'], undefined, 'the image file')).toBe('BuildOutput');
    expect(pickInputArtifact([], undefined, 'the image file')).toBeUndefined();
  });

  it('refuses a requested artifact the action lacks, naming the ones it has', () => {
    expect(() => pickInputArtifact(['BuildOutput'], 'Missing', 'the image file')).toThrow(
      expect.objectContaining({
        code: 'INPUT_ARTIFACT_MISSING',
        message:
          "The action has no input artifact named Missing (it has: BuildOutput). Add it to the action's InputArtifacts or fix UserParameters.inputArtifact.",
      }),
    );
  });

  it('asks for UserParameters.inputArtifact when there are several, saying what it must hold', () => {
    expect(() => pickInputArtifact(['A', 'B'], undefined, 'the manifests')).toThrow(
      expect.objectContaining({
        code: 'INPUT_ARTIFACT_AMBIGUOUS',
        message:
          'The action has 2 input artifacts (A, B); set UserParameters.inputArtifact to the one holding the manifests.',
      }),
    );
  });
});
