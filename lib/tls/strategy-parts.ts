import * as path from 'path';
import { App, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsSubdomain } from '../k8s/util';
import { ServingTlsContext } from './serving-context';
import { CertificateStore } from '../store/certificate-store';
import { Pem } from '../store/pem';
import { isInside } from '../store/store-paths';

/**
 * Throws unless the store is outside the app's output directory, which
 * 'cdk8s synth' empties on every run (real paths: a symbolic link must not
 * hide a store inside it).
 */
export function assertStoreOutsideOutdir(prop: string, store: CertificateStore, scope: Construct): void {
  const outdir = path.resolve(App.of(scope).outdir);
  if (isInside(store.directory, outdir)) {
    throw new Error(`${prop}.store: '${store.directory}' is inside the app's output directory '${outdir}', which 'cdk8s synth' empties on every run (the CA and keys would be made anew each time); choose a directory outside it, e.g. '${CertificateStore.DEFAULT_DIRECTORY}'`);
  }
}

export function secretNameOf(prop: string, given: string | undefined, context: ServingTlsContext): string {
  const name = given ?? `${context.serviceName}-tls`;
  assertDnsSubdomain(`${prop}.secretName`, name);
  return name;
}

export function assertDurationDays(prop: string, value: Duration, minDays: number): void {
  const ms = value.toMilliseconds();
  if (!(ms >= minDays * 86400000) || ms % 86400000 !== 0) {
    throw new Error(`${prop}: ${value.toHumanString()} is not a whole number of days of at least ${minDays}; use e.g. Duration.days(365)`);
  }
}

/** Throws, naming the option, unless each of `fields` is a Pem. */
export function requirePem(path: string, options: any, fields: { [field: string]: string }): void {
  for (const [field, example] of Object.entries(fields)) {
    const value = options[field];
    if (!(value instanceof Pem)) {
      const got = value === undefined ? 'it is missing' : `got ${typeof value === 'string' ? 'a string' : value === null ? 'null' : 'a plain object'}`;
      throw new Error(`${path}.${field}: ${got}; pass a Pem, e.g. ${example} or Pem.fromString(...)`);
    }
  }
}
