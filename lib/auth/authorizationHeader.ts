// The Authorization header, parsed strictly (RFC 9110 §11.4, RFC 7617 Basic,
// RFC 6750 Bearer): a scheme token, exactly one space, one token68 credential.
// Anything else is malformed — answered 401 and counted against the client's
// address — never guessed at: a lenient decoder lets one password be spelled
// many ways and lets junk reach the password check and the failure table.
const MAX_HEADER_BYTES = 8 << 10;
/** Longest identity name accepted in a credential (also the bound on the key it is tracked under). */
export const MAX_IDENTITY_BYTES = 256;
/** Longest password accepted (Basic's is bounded by the header anyway; /auth/userpassword's body is not). */
export const MAX_PASSWORD_BYTES = 4 << 10;

export type ParsedAuthorization =
  | { kind: 'basic'; identity: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'malformed'; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// C0 and C1 control characters and DEL: RFC 7617 forbids them in user-id and password.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// ignoreBOM: the credentials are compared byte for byte, a leading U+FEFF included.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseAuthorization(header: string): ParsedAuthorization {
  if (header.length > MAX_HEADER_BYTES) return { kind: 'malformed', reason: 'authorization header too long' };
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const credential = space < 0 ? '' : header.slice(space + 1);
  if (!TOKEN.test(scheme)) return { kind: 'malformed', reason: 'malformed authorization scheme' };
  const name = scheme.toLowerCase();
  if (name !== 'basic' && name !== 'bearer') return { kind: 'malformed', reason: `unsupported authorization scheme ${scheme.slice(0, 32)}` };
  if (!TOKEN68.test(credential)) return { kind: 'malformed', reason: `malformed ${name} credentials` };
  if (name === 'bearer') return { kind: 'bearer', token: credential };
  // Canonical base64 only: Buffer.from would skip invalid characters and accept missing or extra padding.
  if (!BASE64.test(credential)) return { kind: 'malformed', reason: 'basic credentials are not base64' };
  const bytes = Buffer.from(credential, 'base64');
  if (bytes.toString('base64') !== credential) return { kind: 'malformed', reason: 'basic credentials are not canonical base64' };
  return credentialsFromBytes(bytes);
}

function credentialsFromBytes(bytes: Buffer): ParsedAuthorization {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'malformed', reason: 'basic credentials are not UTF-8' };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { kind: 'malformed', reason: 'basic credentials without ":"' };
  const checked = checkCredentials(text.slice(0, colon), text.slice(colon + 1));
  return typeof checked === 'string' ? { kind: 'malformed', reason: checked } : { kind: 'basic', ...checked };
}

/** The same rules for an identity and password however they arrive (Basic, or the /auth/userpassword body): the problem, or them. */
export function checkCredentials(identity: string, password: string): { identity: string; password: string } | string {
  if (identity.length === 0) return 'empty identity';
  if (Buffer.byteLength(identity) > MAX_IDENTITY_BYTES) return 'identity too long';
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return 'password too long';
  if (CONTROL.test(identity) || CONTROL.test(password)) return 'control character in credentials';
  return { identity, password };
}
