// Deterministic names for every kernel object of a lab. Each carries the lab's tag, so teardown and
// sweep can tell cnlab's objects from everyone else's; interface names fit Linux's 15 characters.
import { createHash } from 'node:crypto';
import { CnlabError } from '../errors';
import { OBJECT_NAME_PATTERN } from './topology-schema';

/** Linux IFNAMSIZ is 16 including the NUL. */
export const MAX_IFNAME = 15;
/** Every interface cnlab creates carries this alias, so sweep finds it even without a ledger. */
export const LINK_ALIAS_PREFIX = 'cnlab:';
export const NETNS_PREFIX = 'cnl-';
export const LEDGER_ROOT = '/run/cnlab';
/** runtime docker: the label every Docker object of a lab carries, cnlab.lab=<lab id>. */
export const DOCKER_LAB_LABEL = 'cnlab.lab';

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Role letters keep names readable in `ip link`: b bridge, v veth, m macvlan, i ipvlan, x vxlan. */
export type LinkRole = 'b' | 'v' | 'm' | 'i' | 'x' | 'd';

export interface LabNames {
  labId: string;
  /** The folder of this lab's ledger and state on each host. */
  ledgerDir: string;
  /** The alias every link of this lab carries. */
  linkAlias: string;
  /** The nftables table of this lab (NAT rules). */
  nftTable: string;
  netns(container: string): string;
  /** A host-side link name: "c" + 4 lab hex + role + 9 object hex = 15 characters. */
  link(role: LinkRole, object: string): string;
}

/**
 * A lab id becomes a folder on each host (/run/cnlab/<lab>, which teardown undoes and removes), a file in
 * the workspace (labs/<lab>.json) and part of every object name: only a topology name is one. A name from
 * the command line such as `../../etc` must never get that far.
 */
export function isLabId(labId: string): boolean {
  return OBJECT_NAME_PATTERN.test(labId);
}

export function assertLabId(labId: string): void {
  if (!isLabId(labId)) {
    throw new CnlabError('invalid-input', `${JSON.stringify(labId)} is not a lab name: a lab is named by its topology's name (1-31 lower-case letters, digits or "-", starting with a letter)`);
  }
}

export function labNames(labId: string): LabNames {
  assertLabId(labId);
  const labTag = shortHash(`lab:${labId}`, 4);
  return {
    labId,
    ledgerDir: `${LEDGER_ROOT}/${labId}`,
    linkAlias: `${LINK_ALIAS_PREFIX}${labId}`,
    nftTable: `cnlab_${labId.replace(/-/g, '_')}`,
    netns: (container) => `${NETNS_PREFIX}${labId}-${container}`,
    link: (role, object) => `c${labTag}${role}${shortHash(`${labId}/${role}/${object}`, 9)}`,
  };
}

/** Expands `count` containers into name1..nameN, keeping a single container's name as is. */
export function expandedNames(name: string, count: number | undefined): string[] {
  if (count === undefined) return [name];
  return Array.from({ length: count }, (_, index) => `${name}${index + 1}`);
}
