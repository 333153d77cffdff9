// The grammar of github.com/distribution/reference.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = new RegExp(`^(?:(${DOMAIN})/)?(${REMOTE_NAME})$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_LENGTHS: { [algorithm: string]: number } = { sha256: 64, sha384: 96, sha512: 128 };
const EXAMPLE = "e.g. 'registry.k8s.io/metrics-server/metrics-server:v0.8.1' or 'registry.k8s.io/metrics-server/metrics-server@sha256:<64 hex digits>'";

/**
 * Throws unless `image` is a valid image reference: `name[:tag][@digest]`,
 * where a digest is `sha256:` and 64 lower-case hex digits (or sha384/sha512
 * with 96/128).
 * @internal
 */
export function assertImageReference(prop: string, image: string): void {
  if (typeof image !== 'string' || image.trim() === '' || /\s/.test(image)) {
    throw new Error(`${prop}: '${image}' is not an image reference; use ${EXAMPLE}`);
  }
  let rest = image;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):(.*)$/.exec(digest);
    const algorithm = m?.[1] ?? '';
    const hex = m?.[2] ?? '';
    const length = DIGEST_LENGTHS[algorithm];
    if (length === undefined) {
      throw new Error(`${prop}: '${image}' has a malformed digest '${digest}'; a digest is 'sha256:' followed by 64 lower-case hex digits (${EXAMPLE})`);
    }
    if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
      throw new Error(`${prop}: '${image}' has a malformed ${algorithm} digest: '${hex}' must be exactly ${length} lower-case hex digits (${EXAMPLE})`);
    }
  }
  // a ':' after the last '/' starts the tag; one before it is a registry port
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new Error(`${prop}: '${image}' has a malformed tag '${tag}'; a tag is at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (${EXAMPLE})`);
    }
  }
  const name = NAME.exec(rest);
  if (!name || rest.length > 255) {
    throw new Error(`${prop}: '${image}' has a malformed repository name '${rest}'; use lower-case path components separated by '/', optionally after a registry host (${EXAMPLE})`);
  }
}
