/**
 * The example pipeline of a parsed template.yaml (the `AWS::CodePipeline::Pipeline` resource),
 * read as `npm run pipeline` runs it and as the template test checks it, and CodePipeline's
 * variable substitution. Pure: callers read the template.
 */

type Node = Record<string, unknown>;

/** One action of the pipeline, as declared. */
export interface PipelineAction {
  readonly stage: string;
  readonly name: string;
  readonly runOrder: number;
  readonly category: string;
  readonly provider: string;
  readonly namespace?: string;
  /** `Configuration.FunctionName` as `!Ref <logical id>`: the function's logical ID. */
  readonly functionLogicalId?: string;
  /** `Configuration.UserParameters`, `!Sub` of template parameters resolved; '' when absent. */
  readonly userParameters: string;
  readonly inputArtifacts: readonly string[];
  readonly outputArtifacts: readonly string[];
}

export interface PipelineStage {
  readonly name: string;
  readonly actions: readonly PipelineAction[];
}

/** An Invoke/Lambda action whose function is a resource of the same template. */
export type LambdaAction = PipelineAction & { readonly functionLogicalId: string };

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The pipeline resource: the only `AWS::CodePipeline::Pipeline` of the template. */
function pipelineResource(template: Node): Node {
  const resources = (template['Resources'] ?? {}) as Record<string, Node>;
  const found = Object.entries(resources).filter(([, r]) => r['Type'] === 'AWS::CodePipeline::Pipeline');
  if (found.length !== 1) {
    throw new Error(
      `template.yaml must hold exactly one AWS::CodePipeline::Pipeline (found ${found.length})`,
    );
  }
  return found[0]![1];
}

/**
 * The value of a template parameter: `overrides` first, else its Default. Throws naming the
 * parameter when it has neither.
 */
function parameterValue(template: Node, name: string, overrides: Readonly<Record<string, string>>): string {
  if (name in overrides) return overrides[name]!;
  const parameter = ((template['Parameters'] ?? {}) as Record<string, Node>)[name];
  if (parameter === undefined) throw new Error(`!Sub names \${${name}}, which is not a template parameter`);
  const fallback = parameter['Default'];
  if (fallback === undefined) throw new Error(`template parameter ${name} has no Default: give it a value`);
  return String(fallback);
}

/** A string-valued property: a literal, or `!Sub` over template parameters. */
function stringValue(template: Node, value: unknown, overrides: Readonly<Record<string, string>>): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (isNode(value) && typeof value['Fn::Sub'] === 'string') {
    return value['Fn::Sub'].replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
      parameterValue(template, name.trim(), overrides),
    );
  }
  throw new Error(`cannot read ${JSON.stringify(value)}: only a string or a !Sub of parameters is supported`);
}

/** `{ Fn::If: [cond, a, b] }` → `a` (the pipeline's alternatives keep the same action name). */
function firstBranch(value: unknown): unknown {
  return isNode(value) && Array.isArray(value['Fn::If']) ? (value['Fn::If'] as unknown[])[1] : value;
}

function artifactNames(value: unknown): string[] {
  return Array.isArray(value) ? value.map((a) => String((a as Node)['Name'])) : [];
}

/** The pipeline's stages and actions in declaration order (actions sorted by RunOrder). */
export function pipelineStages(
  template: Node,
  parameters: Readonly<Record<string, string>> = {},
): PipelineStage[] {
  const stages = (pipelineResource(template)['Properties'] as Node)['Stages'];
  if (!Array.isArray(stages)) throw new Error('the pipeline has no Stages list');
  return stages.map((raw) => {
    const stage = raw as Node;
    const name = String(stage['Name']);
    const actions = ((stage['Actions'] ?? []) as unknown[]).map((rawAction): PipelineAction => {
      const action = firstBranch(rawAction) as Node;
      const type = (action['ActionTypeId'] ?? {}) as Node;
      const configuration = (action['Configuration'] ?? {}) as Node;
      const fn = configuration['FunctionName'];
      const functionLogicalId = isNode(fn) && typeof fn['Ref'] === 'string' ? fn['Ref'] : undefined;
      return {
        stage: name,
        name: String(action['Name']),
        runOrder: typeof action['RunOrder'] === 'number' ? action['RunOrder'] : 1,
        category: String(type['Category']),
        provider: String(type['Provider']),
        ...(typeof action['Namespace'] === 'string' ? { namespace: action['Namespace'] } : {}),
        ...(functionLogicalId ? { functionLogicalId } : {}),
        userParameters: stringValue(template, configuration['UserParameters'], parameters),
        inputArtifacts: artifactNames(action['InputArtifacts']),
        outputArtifacts: artifactNames(action['OutputArtifacts']),
      };
    });
    return { name, actions: [...actions].sort((a, b) => a.runOrder - b.runOrder) };
  });
}

/** The pipeline's Invoke/Lambda actions on the template's own functions, in run order. */
export function lambdaActions(
  template: Node,
  parameters: Readonly<Record<string, string>> = {},
): LambdaAction[] {
  return pipelineStages(template, parameters)
    .flatMap((s) => s.actions)
    .filter(
      (a): a is LambdaAction =>
        a.category === 'Invoke' && a.provider === 'Lambda' && a.functionLogicalId !== undefined,
    );
}

/** Output variables of the actions run so far, by namespace. */
export type NamespaceVariables = ReadonlyMap<string, Readonly<Record<string, string>>>;

const VARIABLE = /#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}/g;

/**
 * CodePipeline's variable resolution: every `#{Namespace.VARIABLE}` is replaced by the variable's
 * text, as is (no quoting or escaping), so a JSON array variable substituted unquoted becomes JSON.
 * A reference to a namespace or variable that does not exist fails, as CodePipeline fails the
 * action ("unable to resolve").
 */
export function resolveVariables(text: string, variables: NamespaceVariables): string {
  return text.replace(VARIABLE, (whole, namespace: string, name: string) => {
    const values = variables.get(namespace);
    if (values === undefined) {
      throw new Error(`${whole}: no earlier action has namespace ${namespace}`);
    }
    if (!(name in values)) {
      throw new Error(
        `${whole}: ${namespace} has no variable ${name} (it has ${Object.keys(values).sort().join(', ') || 'none'})`,
      );
    }
    return values[name]!;
  });
}
