// Image references, parsed and normalised the way Docker does it
// (github.com/distribution/reference: regexp.go, normalize.go). The grammar:
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [domain '/'] remote-name
//   domain         := host [':' port-number]
//   remote-name    := path-component ['/' path-component]*
//   path-component := [a-z0-9]+ ( ( [._] | __ | [-]+ ) [a-z0-9]+ )*
//   tag            := [\w][\w.-]{0,127}
//   digest         := algorithm ":" hex
//
// `busybox` → docker.io/library/busybox(:latest once defaulted); the "familiar"
// form drops docker.io/ and library/ again for display.
import { InvalidParameterError } from "../errors.ts";

export const DEFAULT_DOMAIN = "docker.io";
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
export const OFFICIAL_REPO_PREFIX = "library/";
export const DEFAULT_TAG = "latest";
const NAME_TOTAL_MAX = 255;

export interface Reference {
  /** Registry host[:port], e.g. docker.io or 127.0.0.1:5000. */
  domain: string;
  /** Repository path inside the registry, e.g. library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

/** A reference that does not parse; the message is Docker's. */
export class ReferenceError extends InvalidParameterError {
  override name = "ReferenceError";
}

const alnum = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = "[\\w][\\w.-]{0,127}";
const digestPat = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredName = new RegExp(`^(?:(${domainAndPort})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const anchoredTag = new RegExp(`^${tagPat}$`);
const identifierRe = /^[a-f0-9]{64}$/;

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's Validate: a known algorithm and lowercase hex of its length. */
export function validateDigest(d: string): void {
  const i = d.indexOf(":");
  if (i <= 0 || i === d.length - 1) throw new ReferenceError("invalid checksum digest format");
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  const len = DIGEST_HEX[alg];
  if (len === undefined) throw new ReferenceError("unsupported digest algorithm");
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) throw new ReferenceError("invalid checksum digest length");
}

/** Parses a fully qualified reference with no normalisation (distribution's reference.Parse). */
export function parseReference(s: string): Reference {
  const m = referenceRe.exec(s);
  if (!m) {
    if (s === "") throw new ReferenceError("repository name must have at least one component");
    if (referenceRe.exec(s.toLowerCase())) throw new ReferenceError("repository name must be lowercase");
    throw new ReferenceError("invalid reference format");
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_MAX) throw new ReferenceError(`repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  const nm = anchoredName.exec(name)!;
  const ref: Reference = { domain: nm[1] ?? "", path: nm[2]! };
  if (m[2]) ref.tag = m[2];
  if (m[3]) {
    validateDigest(m[3]);
    ref.digest = m[3];
  }
  return ref;
}

/** Splits off the registry like Docker's splitDockerDomain. */
function splitDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = i === -1 ? "" : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses what a user typed (ParseNormalizedNamed): `busybox`, `user/app:1`,
 * `host:5000/ns/app@sha256:…`. No tag is added; see withDefaultTag.
 */
export function parseNormalized(s: string): Reference {
  if (identifierRe.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDomain(s);
  const at = remainder.indexOf("@");
  const colon = at === -1 ? remainder.indexOf(":") : remainder.slice(0, at).indexOf(":");
  const remoteName = colon === -1 ? (at === -1 ? remainder : remainder.slice(0, at)) : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ReferenceError(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  return parseReference(`${domain}/${remainder}`);
}

/** docker's TagNameOnly: a reference without tag or digest gets `:latest`. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: DEFAULT_TAG };
}

/** Parses and defaults in one step: what `pull`/`run` do with a user string. */
export function parseUserRef(s: string): Reference {
  return withDefaultTag(parseNormalized(s));
}

export function isTag(s: string): boolean {
  return anchoredTag.test(s);
}

/** docker.io/library/busybox */
export function repoName(r: Reference): string {
  return r.domain ? `${r.domain}/${r.path}` : r.path;
}

/** The full string: docker.io/library/busybox:latest, …@sha256:… */
export function refString(r: Reference): string {
  return `${repoName(r)}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** Display name without docker.io/ and library/ (FamiliarName). */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repoName(r);
  return r.path.startsWith(OFFICIAL_REPO_PREFIX) && r.path.indexOf("/", OFFICIAL_REPO_PREFIX.length) === -1
    ? r.path.slice(OFFICIAL_REPO_PREFIX.length)
    : r.path;
}

/** busybox:latest, user/app@sha256:… (FamiliarString). */
export function familiarString(r: Reference): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The familiar form of a stored full reference string. */
export function familiarize(full: string): string {
  try {
    return familiarString(parseReference(full));
  } catch {
    return full;
  }
}

/** The path only (Docker's reference.Path), e.g. for `Pulling from library/busybox`. */
export function pathOf(r: Reference): string {
  return r.path;
}
