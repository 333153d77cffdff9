/**
 * What kube-apiserver accepts in a pod spec and its neighbours, beyond names
 * (lib/k8s/names.ts): the limits its validation enforces
 * (pkg/apis/core/validation, pkg/apis/apps/validation,
 * pkg/apis/policy/validation). Pure; no cdk8s, so the command bundles it.
 * @internal
 */
import { isIP } from 'net';

/** `dnsConfig.nameservers`: at most 3 (MaxDNSNameservers). */
export const MAX_DNS_NAMESERVERS = 3;
/** `dnsConfig.searches`: at most 32 (MaxDNSSearchPaths). */
export const MAX_DNS_SEARCH_PATHS = 32;
/** `dnsConfig.searches`: at most 2048 characters together, counting the separating spaces (MaxDNSSearchListChars). */
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** A 32-bit signed integer: the largest UID, GID, probe second count or revision limit the API stores. */
export const MAX_INT32 = 2147483647;

/**
 * Whether `value` is a whole number from `min` to 2^31-1, as the int32
 * fields of the API (probe thresholds, revisionHistoryLimit, UIDs) are.
 * @internal
 */
export function isInt32(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_INT32;
}

/**
 * Whether `value` is an absolute path without `..` segments or `:`: the API
 * refuses an empty mountPath and `..` segments; the container runtime refuses
 * a relative one and (with Docker's volume syntax) a `:` at start-up.
 * @internal
 */
export function isMountPath(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('/') && !value.split('/').includes('..') && !value.includes(':');
}

/**
 * Whether `value` is a relative path without `..` segments, as a
 * volumeMount's subPath must be.
 * @internal
 */
export function isSubPath(value: unknown): boolean {
  return typeof value === 'string' && !value.startsWith('/') && !value.split('/').includes('..');
}

/**
 * Whether `value` is an IP address (v4 or v6), as each `dnsConfig.nameservers` entry must be.
 * @internal
 */
export function isIpAddress(value: unknown): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  // kube-apiserver uses netip.ParseAddr: no zone, no leading zeros in IPv4
  return isIP(value) !== 0 && !value.includes('%') && !/(^|\.)0\d/.test(value);
}
