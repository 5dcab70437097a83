// SSH public host keys as bytes: the key type inside a wire-format blob, SHA256 fingerprints as
// `ssh-keygen -l` prints them, and OpenSSH public key lines (`ssh-ed25519 AAAA… comment`).

import { createHash } from 'node:crypto';
import { CnlabError } from '../errors';

/** Key type names are short printable ASCII (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `sk-…@openssh.com`). */
const KEY_TYPE_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** Strict base64: Node's decoder silently drops invalid characters, which would hide a corrupt line. */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * `SHA256:<base64 without padding>` of the key blob, the format `ssh-keygen -lf` and OpenSSH's prompts
 * print, so users can compare what cnlab shows with what their admin publishes.
 */
export function fingerprintSha256(keyBlob: Buffer): string {
  const digest = createHash('sha256').update(keyBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** Reads the key type (the first SSH `string`: uint32 length + bytes) of a wire-format key blob. */
export function tryKeyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 128 || 4 + length > blob.length) return undefined;
  const type = blob.toString('latin1', 4, 4 + length);
  // A type without key material after it is a truncated blob, not a key.
  if (!KEY_TYPE_PATTERN.test(type) || 4 + length === blob.length) return undefined;
  return type;
}

/** Like {@link tryKeyTypeOfBlob}, but a blob that is not SSH wire format is an error. */
export function keyTypeOfBlob(blob: Buffer): string {
  const type = tryKeyTypeOfBlob(blob);
  if (type === undefined) {
    throw new CnlabError(
      'invalid-input',
      `the host key (${blob.length} bytes) is not an SSH wire-format public key: pass the raw key blob ssh2 gives the host verifier, not a hash or a text line`,
    );
  }
  return type;
}

/** Decodes strict base64; undefined for anything else (see BASE64_PATTERN for why strict). */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64_PATTERN.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

export interface OpenSshPublicKey {
  /** The type named on the line, equal to the type inside the blob. */
  type: string;
  blob: Buffer;
  /** Free text after the key, trimmed; '' when absent. */
  comment: string;
}

export type PublicKeyParse = { ok: true; key: OpenSshPublicKey } | { ok: false; reason: string };

/**
 * Parses the key part of an OpenSSH line: `type base64 [comment…]` (fields split by spaces or tabs).
 * Returns a reason instead of throwing so file parsers can report bad lines and go on.
 */
export function parsePublicKeyFields(text: string): PublicKeyParse {
  const match = /^[ \t]*(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(.*))?$/.exec(text);
  if (!match || match[1] === undefined) return { ok: false, reason: 'no key type' };
  const type = match[1];
  const encoded = match[2];
  if (/^\d+$/.test(type)) {
    // `bits exponent modulus`: SSH protocol 1 RSA, which OpenSSH itself dropped in 7.4.
    return { ok: false, reason: 'an SSH-1 RSA key (protocol 1 is not supported)' };
  }
  if (!KEY_TYPE_PATTERN.test(type)) return { ok: false, reason: `bad key type ${JSON.stringify(type.slice(0, 40))}` };
  if (encoded === undefined) return { ok: false, reason: `no key data after the key type ${type}` };
  const blob = decodeBase64Strict(encoded);
  if (!blob) return { ok: false, reason: 'the key data is not valid base64' };
  const blobType = tryKeyTypeOfBlob(blob);
  if (blobType === undefined) return { ok: false, reason: 'the key data is not an SSH public key' };
  // OpenSSH refuses a line whose declared type differs from the blob's: it is corrupt or forged.
  if (blobType !== type) return { ok: false, reason: `the line says ${type} but the key data is ${blobType}` };
  return { ok: true, key: { type, blob, comment: (match[3] ?? '').trim() } };
}

/** Parses one public key line such as a `.pub` file's; a bad line is an error naming the problem. */
export function parseOpenSshPublicKey(line: string): OpenSshPublicKey {
  const result = parsePublicKeyFields(line.trim());
  if (!result.ok) {
    throw new CnlabError(
      'invalid-input',
      `not an OpenSSH public key line (${result.reason}): expected "type base64 [comment]" as in a .pub file`,
    );
  }
  return result.key;
}

/** Formats `type base64 [comment]`, the inverse of {@link parseOpenSshPublicKey}. */
export function formatOpenSshPublicKey(blob: Buffer, comment = ''): string {
  const text = `${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
  const cleaned = comment.replace(/[\r\n]+/g, ' ').trim();
  return cleaned ? `${text} ${cleaned}` : text;
}
