/**
 * Container logs as the kubelet serves them through `GET …/pods/<pod>/log`: per Pod and container,
 * the current and the previous (before the last restart) log, each line with its time. Query
 * parameters like the kubelet: `container` (required when the Pod has several), `sinceSeconds` /
 * `sinceTime` (lines at or after), `tailLines` (last N of those), `timestamps` (each line prefixed
 * with its RFC 3339 time in nanoseconds and a space), `limitBytes` (cut at N bytes), `previous`.
 */
import { errors } from './status';

export interface LogLine {
  time: Date;
  text: string;
}

interface ContainerLog {
  current: LogLine[];
  previous: LogLine[] | undefined;
}

/** `2026-12-07T22:10:00.123000000Z`: the kubelet's RFC3339Nano prefix. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}000000Z`);
}

export interface LogQuery {
  container?: string | null;
  sinceSeconds?: string | null;
  sinceTime?: string | null;
  timestamps?: string | null;
  tailLines?: string | null;
  limitBytes?: string | null;
  previous?: string | null;
}

export class PodLogs {
  private readonly logs = new Map<string, ContainerLog>();

  private key(namespace: string, pod: string, container: string): string {
    return `${namespace}/${pod}/${container}`;
  }

  private entry(namespace: string, pod: string, container: string): ContainerLog {
    const k = this.key(namespace, pod, container);
    let e = this.logs.get(k);
    if (!e) {
      e = { current: [], previous: undefined };
      this.logs.set(k, e);
    }
    return e;
  }

  /** Appends `text` (split into physical lines, all with the same time). */
  append(namespace: string, pod: string, container: string, text: string, time: Date): void {
    const log = this.entry(namespace, pod, container).current;
    for (const line of text.replace(/\n$/, '').split('\n')) log.push({ time, text: line });
  }

  /** A container restart: the current log becomes the previous one. */
  restart(namespace: string, pod: string, container: string): void {
    const e = this.entry(namespace, pod, container);
    e.previous = e.current;
    e.current = [];
  }

  lines(namespace: string, pod: string, container: string, previous = false): LogLine[] {
    const e = this.entry(namespace, pod, container);
    return [...((previous ? e.previous : e.current) ?? [])];
  }

  /** Serves a log request for a Pod with containers `containers`, at server time `now`. */
  read(namespace: string, pod: string, containers: string[], q: LogQuery, now: Date): string {
    let container = q.container ?? undefined;
    if (!container) {
      if (containers.length !== 1) {
        throw errors.badRequest(
          `a container name must be specified for pod ${pod}, choose one of: [${containers.join(' ')}]`,
        );
      }
      container = containers[0]!;
    }
    if (!containers.includes(container))
      throw errors.badRequest(`container ${container} is not valid for pod ${pod}`);
    const e = this.entry(namespace, pod, container);
    const previous = q.previous === 'true';
    if (previous && !e.previous) {
      throw errors.badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
    }
    let lines = [...(previous ? e.previous! : e.current)];
    if (q.sinceSeconds && q.sinceTime)
      throw errors.invalidPodLogOptions('at most one of `sinceTime` or `sinceSeconds` may be specified');
    let since: number | undefined;
    if (q.sinceSeconds) {
      const s = Number(q.sinceSeconds);
      if (!Number.isInteger(s) || s < 1)
        throw errors.invalidPodLogOptions('sinceSeconds: Invalid value: must be greater than 0');
      since = now.getTime() - s * 1000;
    } else if (q.sinceTime) {
      since = Date.parse(q.sinceTime);
      if (Number.isNaN(since))
        throw errors.badRequest(`parsing time "${q.sinceTime}" as RFC 3339: cannot parse`);
    }
    if (since !== undefined) lines = lines.filter((l) => l.time.getTime() >= since!);
    if (q.tailLines) {
      const n = Number(q.tailLines);
      if (!Number.isInteger(n) || n < 0)
        throw errors.invalidPodLogOptions('tailLines: Invalid value: must be greater than or equal to 0');
      lines = n === 0 ? [] : lines.slice(-n);
    }
    const timestamps = q.timestamps === 'true';
    let text = lines.map((l) => `${timestamps ? `${rfc3339Nano(l.time)} ` : ''}${l.text}\n`).join('');
    if (q.limitBytes) {
      const n = Number(q.limitBytes);
      if (!Number.isInteger(n) || n < 1)
        throw errors.invalidPodLogOptions('limitBytes: Invalid value: must be greater than 0');
      const bytes = Buffer.from(text);
      if (bytes.length > n) text = bytes.subarray(0, n).toString('utf8');
    }
    return text;
  }
}
