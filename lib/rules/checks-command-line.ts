import { InstallContext, meta, str } from './model';
import { startupConflicts } from '../k8s/metrics-server-flags';
import { Rules } from './registry';

const UNKNOWN_TEXT: { [code: string]: string } = {
  'env-from': 'comes from envFrom, whose values the manifest does not hold',
  'value-from': 'comes from valueFrom, whose value the manifest does not hold',
  'shell': 'is a shell that builds the command line at run time',
  'entrypoint': 'is another program than metrics-server, which decides what metrics-server gets',
};

/** The kustomizations in the install's scope: its objects are not what gets applied. @internal */
export function kustomizations(ctx: InstallContext) {
  return ctx.index.ofKind('Kustomization').filter(o => (str(o.object.apiVersion) ?? '').startsWith('kustomize.config.k8s.io/'));
}

/**
 * Whether the audit knows what this install runs with: every flag literal
 * (lib/rules/model.ts `Flags`) and no unrendered kustomization in its
 * scope. Without it no check may report a hop as verified.
 * @internal
 */
export function commandLineKnown(ctx: InstallContext): boolean {
  return ctx.flags.known && kustomizations(ctx).length === 0;
}

/** SMS027 and SMS092: a command line metrics-server refuses, or one the audit cannot know. @internal */
export function checkCommandLine(ctx: InstallContext): void {
  const d = ctx.deployment;
  for (const k of kustomizations(ctx)) {
    ctx.report(Rules.COMMAND_LINE_UNKNOWN, k, `a kustomization (${meta(k.object).name || 'kustomization.yaml'}): its patches and generators change the objects read here; audit the output of 'kustomize build' instead`,
      { evidence: `kind: Kustomization` });
  }
  if (!d || !ctx.container) {
    return;
  }
  for (const u of ctx.flags.unknowns) {
    const what = u.code === 'shell' || u.code === 'entrypoint' ? `command ${u.detail}` : `${u.detail} in the command line`;
    ctx.report(Rules.COMMAND_LINE_UNKNOWN, d, `${what} ${UNKNOWN_TEXT[u.code]}; the flags cannot be read, so neither hop is reported as verified`, { evidence: u.detail });
  }
  for (const p of ctx.flags.problems) {
    const hint = p.suggestions && p.suggestions.length ? `; did you mean --${p.suggestions[0]}? (known flags, closest first: ${p.suggestions.slice(0, 5).map(s => `--${s}`).join(', ')}, ...)` : '';
    ctx.report(Rules.COMMAND_LINE_REFUSED, d, `${p.reason}: metrics-server exits at start${hint}`, { evidence: p.raw });
  }
  for (const conflict of startupConflicts(n => ctx.flags.get(n))) {
    ctx.report(Rules.COMMAND_LINE_REFUSED, d, `${conflict}: metrics-server exits at start`, { evidence: ctx.flags.raw.join(' ') });
  }
}
