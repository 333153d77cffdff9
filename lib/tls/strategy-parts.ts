import { ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { assertDnsSubdomain } from '../k8s/util';
import { ServingTlsContext } from './serving-context';
import { Pem } from '../store/pem';
import { protectKeyManifest } from './key-manifest';

export function tlsSecret(scope: Construct, context: ServingTlsContext, name: string, certPem: string, keyPem: string,
  annotations: { [key: string]: string }): ApiObject {
  protectKeyManifest(scope, context.prop);
  return new k8s.KubeSecret(scope, 'TlsSecret', {
    metadata: { name, namespace: context.namespace, labels: context.labels, annotations },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(certPem).toString('base64'),
      'tls.key': Buffer.from(keyPem).toString('base64'),
    },
  });
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
