import * as fs from 'fs';
import * as path from 'path';
import type { Cluster, KubeConfig } from './client-node';
import { readRegularFileSync } from '../k8s/bounded-read';
import { proxyFor } from './proxy';

/** Largest kubeconfig file read (kubeconfigs with many clusters and embedded certificates stay far below). */
const MAX_KUBECONFIG_BYTES = 16 << 20;

/**
 * Where doctor reads its cluster from, as kubectl decides it.
 * @internal
 */
export interface KubeconfigOptions {
  /** --kubeconfig: one file, used alone (KUBECONFIG is then ignored) */
  readonly kubeconfig?: string;
  /** --context: a context of the merged kubeconfig instead of current-context */
  readonly context?: string;
  /** the environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST, HTTPS_PROXY, NO_PROXY) */
  readonly env: { readonly [name: string]: string | undefined };
}

/** @internal */
export interface LoadedKubeconfig {
  readonly kc: KubeConfig;
  readonly context: string;
  readonly server: string;
  /** where the configuration came from, for the report (never a credential) */
  readonly source: string;
  /** the proxy the requests go through, and why (kubeconfig proxy-url or HTTPS_PROXY) */
  readonly proxy?: string;
}

/** Where the service-account token lives in a pod. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The client library, loaded on first use only: it is ESM-only (jest's
 * in-process tests import doctor's argument parser and cannot load it) and
 * nothing but doctor needs it (the construct never loads it). The require
 * names ./client-node, which re-exports only what is used: esbuild follows
 * this literal require into doctor's bundle and tree-shakes the library to
 * about 1.5 MB; a require of the library itself keeps all of it (5.7 MB).
 * @internal
 */
export function clientNode(): typeof import('./client-node') {
  return require('./client-node');
}

/**
 * Loads the kubeconfig the way kubectl does: --kubeconfig alone; else every
 * file of KUBECONFIG merged (the first file that sets a value wins, later
 * duplicates are ignored, as client-go's merge does; client-node's own merge
 * throws on duplicates); else ~/.kube/config; else the in-cluster service
 * account. Then --context, then the proxy (kubeconfig `proxy-url`, else
 * HTTPS_PROXY/NO_PROXY, which client-node does not read itself).
 * @internal
 */
export function loadKubeconfig(options: KubeconfigOptions): LoadedKubeconfig {
  const k8s = clientNode();
  const env = options.env;
  const kc = new k8s.KubeConfig();
  let source: string;
  const files = options.kubeconfig
    ? [options.kubeconfig]
    : (env.KUBECONFIG ?? '').split(path.delimiter).filter(f => f !== '');
  const home = env.HOME ? path.join(env.HOME, '.kube', 'config') : undefined;
  const saDir = env.SECURE_METRICS_SERVER_SERVICE_ACCOUNT_DIR ?? SERVICE_ACCOUNT_DIR;
  if (files.length > 0) {
    mergeFiles(kc, files, options.kubeconfig ? '--kubeconfig' : 'KUBECONFIG');
    source = options.kubeconfig ? `--kubeconfig ${options.kubeconfig}` : `KUBECONFIG (${files.length} file${files.length > 1 ? 's' : ''})`;
  } else if (home && fs.existsSync(home)) {
    mergeFiles(kc, [home], 'kubeconfig');
    source = home;
  } else if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(saDir, 'token'))) {
    inCluster(kc, env, saDir);
    source = `in-cluster service account (${saDir})`;
  } else {
    throw new Error('no kubeconfig: set KUBECONFIG, pass --kubeconfig, create ~/.kube/config, or run in a pod with a service account token');
  }
  if (options.context !== undefined) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map(c => c.name);
      throw new Error(`--context: no context '${options.context}' in ${source}; known contexts: ${known.join(', ') || 'none'}`);
    }
    kc.setCurrentContext(options.context);
  }
  const context = kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    throw new Error(`${source}: no current-context; pass --context (known contexts: ${kc.getContexts().map(c => c.name).join(', ') || 'none'})`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) {
    throw new Error(`${source}: context '${context}' names no cluster with a server; fix the kubeconfig`);
  }
  let proxy: string | undefined;
  if (cluster.proxyUrl) {
    proxy = `${redactUrl(cluster.proxyUrl)} (proxy-url)`;
  } else {
    const fromEnv = proxyFor(cluster.server, env);
    if (fromEnv) {
      replaceCluster(kc, { ...cluster, proxyUrl: fromEnv.url });
      proxy = `${redactUrl(fromEnv.url)} (${fromEnv.variable})`;
    }
  }
  return { kc, context, server: cluster.server, source, proxy };
}

function mergeFiles(kc: KubeConfig, files: string[], what: string): void {
  const k8s = clientNode();
  const clusters: Cluster[] = [];
  const users: any[] = [];
  const contexts: any[] = [];
  let current: string | undefined;
  let read = 0;
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      if (fs.statSync(file).isFIFO()) {
        // `--kubeconfig <(vault read ...)`: read as kubectl reads it
        one.loadFromFile(file);
      } else {
        // bounded: /dev/zero or a 2 GB file is refused, never read whole
        one.loadFromString(readRegularFileSync(file, MAX_KUBECONFIG_BYTES).toString('utf8'));
        one.makePathsAbsolute(path.dirname(file));
      }
    } catch (e: any) {
      if (e.code === 'ENOENT' && what === 'KUBECONFIG') {
        continue; // kubectl skips missing files of KUBECONFIG
      }
      throw new Error(`${what}: cannot read ${file} (${e.message}); fix the path or the file`, { cause: e });
    }
    read++;
    current = current || one.getCurrentContext() || undefined;
    for (const c of one.getClusters()) {
      if (!clusters.some(x => x.name === c.name)) clusters.push(c);
    }
    for (const u of one.getUsers()) {
      if (!users.some(x => x.name === u.name)) users.push(u);
    }
    for (const c of one.getContexts()) {
      if (!contexts.some(x => x.name === c.name)) contexts.push(c);
    }
  }
  if (read === 0) {
    throw new Error(`${what}: none of its files exists (${files.join(path.delimiter)}); fix the variable or pass --kubeconfig`);
  }
  kc.loadFromOptions({ clusters, users, contexts, currentContext: current ?? '' });
}

function inCluster(kc: KubeConfig, env: { readonly [name: string]: string | undefined }, saDir: string): void {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  kc.loadFromClusterAndUser(
    { name: 'inCluster', server, caFile: path.join(saDir, 'ca.crt'), skipTLSVerify: false },
    { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(saDir, 'token') } } },
  );
}

function replaceCluster(kc: KubeConfig, cluster: Cluster): void {
  kc.loadFromOptions({
    clusters: kc.getClusters().map(c => c.name === cluster.name ? cluster : c),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
}

/** A proxy URL without its password, for the report. */
export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) {
      url.password = 'xxxxx';
    }
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable proxy URL)';
  }
}
