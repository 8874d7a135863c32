/**
 * Initiation (RFC 7854 §4.3) and Termination (§4.5): no per-peer header, only information TLVs.
 * Initiation: 0 string, 1 sysDescr, 2 sysName. Termination: 0 string, 1 reason (2 bytes).
 */
import { INITIATION_TLV_NAMES, TERMINATION_REASONS, TERMINATION_TLV_NAMES } from './constants.js';
import { decodeInformationTlvs } from './information-tlv.js';
import type { InitiationMessage, TerminationMessage } from './types.js';
import { err, ok, type Result } from '../wire/result.js';

const INITIATION_TEXT = new Set([0, 1, 2]);
const TERMINATION_TEXT = new Set([0]);
const TERMINATION_REASON_TLV = 1;

export function decodeInitiation(buf: Buffer, start: number, end: number): Result<InitiationMessage> {
  const information = decodeInformationTlvs(buf, start, end, INITIATION_TLV_NAMES, INITIATION_TEXT);
  if (!Array.isArray(information)) return err(information);
  const message: InitiationMessage = { type: 'initiation', information };
  const sysDescr = information.find((tlv) => tlv.type === 1)?.value;
  const sysName = information.find((tlv) => tlv.type === 2)?.value;
  return ok({ ...message, ...(sysName !== undefined && { sysName }), ...(sysDescr !== undefined && { sysDescr }) });
}

export function decodeTermination(buf: Buffer, start: number, end: number): Result<TerminationMessage> {
  const information = decodeInformationTlvs(buf, start, end, TERMINATION_TLV_NAMES, TERMINATION_TEXT);
  if (!Array.isArray(information)) return err(information);
  const reasonTlv = information.find((tlv) => tlv.type === TERMINATION_REASON_TLV && tlv.value.length === 4);
  if (!reasonTlv) return ok({ type: 'termination', information });
  const reason = Number.parseInt(reasonTlv.value, 16);
  return ok({ type: 'termination', information, reason, reasonName: TERMINATION_REASONS[reason] ?? `unknown (${reason})` });
}
