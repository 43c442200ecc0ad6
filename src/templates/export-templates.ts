// The 8 export templates of ../shared/spec/templates.md, as data. Where the spec says "the columns of
// <import template>", the export reuses that template's Column objects, so the exported file of a template
// with an import twin can be imported back unchanged. src/export reads these and nothing else.
import { employeeParent, employerParent } from './columns.js';
import {
  caseDetails,
  caseManagersList,
  clientDetails,
  companyDetails,
  expiryDates,
  passportDetails,
  petitionsList,
  visaDetails,
} from './import-templates.js';
import type { CellType, Column, ImportTemplate } from './types.js';

/**
 * Where an exported value is read from: the exported record itself (`row`), the records it hangs from
 * (`employer`, `client`), or the records whose values it shows (`supervisor`, `petition`,
 * `case-manager`), whose changes count as changes of the exported row.
 */
export type ExportRelation = 'row' | 'employer' | 'client' | 'supervisor' | 'petition' | 'case-manager';

/** Relations that are shown, not owned: a change to one of them is a change of the exported row. */
export const SHOWN_RELATIONS: readonly ExportRelation[] = ['supervisor', 'petition', 'case-manager'];

/** How an exported cell is written: as its import type, or one of the export-only kinds. */
export type ExportCellType =
  | CellType
  /** A Caseport record id. */
  | 'id'
  /** Whole days from today (firm's time zone) to the source date; negative when past. */
  | 'days-to-expiry'
  /** ISO 8601 with the firm's offset: the latest update of the row or of what it shows. */
  | 'last-modified';

export interface ExportColumn {
  /** Header name, exactly as the contract spells it. */
  name: string;
  type: ExportCellType;
  /** Where the value comes from; absent for LastModified, which is computed from the rows shown. */
  source?: { relation: ExportRelation; field: string };
  /** The import column this one is, for the columns an export shares with its import twin. */
  column?: Column;
}

export interface ExportTemplate {
  /** File-name prefix and the template's name. */
  name: string;
  description: string;
  /** The import template (or per-firm list) whose records are exported and whose columns it carries. */
  twin: ImportTemplate;
  columns: readonly ExportColumn[];
}

const id = (name: string, field = 'id'): ExportColumn => ({
  name,
  type: 'id',
  source: { relation: 'row', field },
});
const shown = (name: string, relation: ExportRelation, field: string): ExportColumn => ({
  name,
  type: 'text',
  source: { relation, field },
});
const lastModified: ExportColumn = { name: 'LastModified', type: 'last-modified' };

/** "The columns of <t>": parent columns are read from the parent records, the others from the row. */
export function columnsOf(t: ImportTemplate): ExportColumn[] {
  return t.columns.map((column) => {
    let source: ExportColumn['source'] = { relation: 'row', field: column.field! };
    if (column === employerParent) source = { relation: 'employer', field: 'employer_code' };
    else if (column === employeeParent) source = { relation: 'client', field: 'employee_id' };
    else if (column.parent) throw new Error(`${t.name}: parent column ${column.name} has no export source`);
    return { name: column.name, type: column.type, source, column };
  });
}

const clientId = id('CaseportClientID', 'client_id');

export const corporationDetailsExport: ExportTemplate = {
  name: 'corporation_details_export',
  description: 'Corporations / employers',
  twin: companyDetails,
  columns: [id('CaseportEmployerID'), ...columnsOf(companyDetails), lastModified],
};

export const clientDetailsExport: ExportTemplate = {
  name: 'client_details_export',
  description: 'Foreign nationals (clients) with their linked supervisor',
  twin: clientDetails,
  columns: [
    id('CaseportClientID'),
    ...columnsOf(clientDetails),
    shown('SupervisorContactID', 'supervisor', 'supervisor_contact_code'),
    lastModified,
  ],
};

export const immigDocDetailsExport: ExportTemplate = {
  name: 'fn_immig_doc_details_export',
  description: 'Immigration document expirations, with the days left',
  twin: expiryDates,
  columns: [
    clientId,
    ...columnsOf(expiryDates),
    { name: 'DaysToExpiry', type: 'days-to-expiry', source: { relation: 'row', field: 'expiration_date' } },
    lastModified,
  ],
};

export const visaDetailsExport: ExportTemplate = {
  name: 'fn_visa_details_export',
  description: 'Visas',
  twin: visaDetails,
  columns: [clientId, ...columnsOf(visaDetails), lastModified],
};

export const passportDetailsExport: ExportTemplate = {
  name: 'fn_passport_details_export',
  description: 'Passports',
  twin: passportDetails,
  columns: [clientId, ...columnsOf(passportDetails), lastModified],
};

export const caseDetailsExport: ExportTemplate = {
  name: 'fn_case_details_export',
  description: 'Cases with their petition and case manager',
  twin: caseDetails,
  columns: [
    id('CaseportCaseID'),
    clientId,
    ...columnsOf(caseDetails),
    shown('PetitionName', 'petition', 'petition_name'),
    shown('FormType', 'petition', 'form_type'),
    // first + last name of the case manager whose email matches CaseManagerEmail
    shown('CaseManagerName', 'case-manager', 'full_name'),
    lastModified,
  ],
};

export const petitionDetailsExport: ExportTemplate = {
  name: 'petition_details_export',
  description: 'Petitions (PetID) of the firm',
  twin: petitionsList,
  columns: [...columnsOf(petitionsList), lastModified],
};

export const caseManagerDetailsExport: ExportTemplate = {
  name: 'case_manager_details_export',
  description: 'Case managers of the firm',
  twin: caseManagersList,
  columns: [...columnsOf(caseManagersList), lastModified],
};

/** The 8 export templates in the spec's order. */
export const EXPORT_TEMPLATES: readonly ExportTemplate[] = [
  corporationDetailsExport,
  clientDetailsExport,
  immigDocDetailsExport,
  visaDetailsExport,
  passportDetailsExport,
  caseDetailsExport,
  petitionDetailsExport,
  caseManagerDetailsExport,
];

/** An export template by name (case-insensitive, as file-name prefixes compare). */
export function findExportTemplate(name: string): ExportTemplate | undefined {
  const wanted = name.trim().toLowerCase();
  return EXPORT_TEMPLATES.find((t) => t.name.toLowerCase() === wanted);
}

/** The columns an export shares with its import twin, in the twin's order: what imports back. */
export function twinColumnNames(t: ExportTemplate): string[] {
  return t.twin.columns.map((c) => c.name);
}
