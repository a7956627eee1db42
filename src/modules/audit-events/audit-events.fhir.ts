import type { ExportLine } from '../../audit/export-format.js';

/**
 * FHIR R4 AuditEvent resources after the IHE Basic Audit Log Patterns (BALP): who (the requesting
 * agent), what (a Patient entity per client touched, the data as a domain resource, the request
 * id as the transaction), why (purposeOfUse) and the outcome.
 */

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SECURITY_SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const BALP_PROFILE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit';
/** Dialectic's own subtypes (login, verify, export, …) where FHIR has no interaction code. */
const LOCAL_SUBTYPE = 'urn:dialectic:audit-subtype';
const LOCAL_RESOURCE = 'urn:dialectic:resource';

const restfulInteractions = new Set(['read', 'vread', 'update', 'patch', 'delete', 'history', 'create', 'search']);

/** 0 success, 4 minor failure (denied, refused), 8 serious failure (the server failed). */
export const fhirOutcome = { success: '0', denied: '4', failure: '4', error: '8' } as const;

const balpProfiles = { C: 'Create', R: 'Read', U: 'Update', D: 'Delete', E: 'Query' } as const;

export function toFhirAuditEvent(line: ExportLine): Record<string, unknown> {
  const withPatient = line.clientIds.length > 0;
  const pattern = line.subtype === 'search' ? 'Query' : balpProfiles[line.action];
  return {
    resourceType: 'AuditEvent',
    id: line.id,
    meta: { profile: [`${BALP_PROFILE}.${withPatient ? `Patient${pattern}` : pattern}`] },
    type: withPatient
      ? { system: DCM, code: '110110', display: 'Patient Record' }
      : { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    subtype: [
      restfulInteractions.has(line.subtype)
        ? { system: RESTFUL_INTERACTION, code: line.subtype }
        : { system: LOCAL_SUBTYPE, code: line.subtype },
    ],
    action: line.action,
    period: { start: line.occurredAt, ...(line.endedAt ? { end: line.endedAt } : {}) },
    recorded: line.occurredAt,
    outcome: fhirOutcome[line.outcome],
    outcomeDesc: line.denialReason ? `HTTP ${line.httpStatus}: ${line.denialReason}` : `HTTP ${line.httpStatus}`,
    ...(line.purposeOfUse ? { purposeOfUse: [{ coding: [{ system: ACT_REASON, code: line.purposeOfUse }] }] } : {}),
    agent: [
      {
        who: line.actorId ? { reference: `Practitioner/${line.actorId}` } : { display: line.actorType },
        ...(line.actorRoles.length > 0 ? { role: line.actorRoles.map((role) => ({ text: role })) } : {}),
        requestor: true,
        ...(line.sourceIp ? { network: { address: line.sourceIp, type: '2' } } : {}),
      },
    ],
    source: {
      observer: { display: `dialectic ${line.serviceVersion}` },
      type: [{ system: SECURITY_SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity: [
      { what: { identifier: { value: line.requestId } }, type: { system: BALP_ENTITY_TYPE, code: 'XrequestId' } },
      ...line.clientIds.map((clientId) => ({
        what: { reference: `Patient/${clientId}` },
        type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
        role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
      })),
      ...(line.resourceType
        ? [
            {
              what: {
                ...(line.resourceId ? { identifier: { system: `${LOCAL_RESOURCE}:${line.resourceType}`, value: line.resourceId } } : {}),
                display: line.resourceType,
              },
              type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
              role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
            },
          ]
        : []),
    ],
  };
}

/** A Bundle is written in three parts, so its entries can stream between head and tail. */
export const fhirBundleHead = (timestamp: string) => `{"resourceType":"Bundle","type":"collection","timestamp":"${timestamp}","entry":[`;
export const fhirBundleEntry = (line: ExportLine, first: boolean) =>
  `${first ? '' : ','}\n${JSON.stringify({ fullUrl: `urn:uuid:${line.id}`, resource: toFhirAuditEvent(line) })}`;
export const fhirBundleTail = ']}\n';
