// The 11 import templates of ../shared/spec/templates.md, as data, plus the per-firm knowledge-base
// lists (petitions, case managers, custom fields), which load through the same pipeline.

import { SHIPPED_LISTS, type ShippedListName } from '../kb/lists.js';
import {
  country,
  date,
  employeeParent,
  employerParent,
  integer,
  K,
  kb,
  number,
  pattern,
  R,
  text,
  yesno,
} from './columns.js';
import type { ImportTemplate } from './types.js';

const clientParent = [employerParent, employeeParent];

export const companyDetails: ImportTemplate = {
  name: 'company_Details_import',
  order: 1,
  description: 'Corporation / employer (petitioner) data',
  table: 'employers',
  parent: 'none',
  columns: [
    text('EmployerID', { ...K, field: 'employer_code' }),
    text('EmployerName', R),
    text('DBAName'),
    pattern('FEIN', /^\d{2}-\d{7}$/, 'NN-NNNNNNN'),
    text('BusinessType'),
    text('YearEstablished'),
    integer('NumberOfEmployees'),
    number('GrossAnnualIncome'),
    number('NetAnnualIncome'),
    text('NAICSCode'),
    text('AddressLine1'),
    text('AddressLine2'),
    text('City'),
    text('State'),
    text('PostalCode'),
    country('Country'),
    text('Phone'),
    text('Email'),
    text('Website'),
    kb('Status', 'employer-statuses'),
  ],
};

export const companyContacts: ImportTemplate = {
  name: 'company_Additional_Contact_import',
  order: 2,
  description: 'Employer contacts and supervisors',
  table: 'contacts',
  parent: 'employer',
  columns: [
    employerParent,
    text('ContactID', { ...K, field: 'contact_code' }),
    kb('ContactType', 'contact-types', R),
    text('FirstName', R),
    text('LastName', R),
    text('JobTitle'),
    text('Email'),
    text('Phone'),
    yesno('IsPrimary'),
  ],
};

export const clientDetails: ImportTemplate = {
  name: 'fn_Details_Data_import',
  order: 3,
  description: 'Foreign national (client / employee) data',
  table: 'clients',
  parent: 'employer',
  columns: [
    employerParent,
    text('EmployeeID', K),
    text('FirstName', R),
    text('MiddleName'),
    text('LastName', R),
    text('OtherNames'),
    kb('Gender', 'genders'),
    date('DateOfBirth'),
    text('CityOfBirth'),
    country('CountryOfBirth'),
    country('CountryOfCitizenship'),
    kb('MaritalStatus', 'marital-statuses'),
    text('Email'),
    text('WorkPhone'),
    text('MobilePhone'),
    text('JobTitle'),
    text('Department'),
    date('HireDate'),
    kb('EmploymentStatus', 'employment-statuses'),
    date('TerminationDate'),
    text('WorkLocationCity'),
    text('WorkLocationState'),
    country('WorkLocationCountry'),
    number('AnnualSalary'),
    kb('CurrentImmigrationStatus', 'visa-types'),
    date('StatusExpirationDate'),
    pattern('ANumber', /^A\d{8,9}$/, 'A followed by 8 or 9 digits'),
    pattern('SSN', /^\d{3}-\d{2}-\d{4}$/, 'NNN-NN-NNNN'),
  ],
};

export const expiryDates: ImportTemplate = {
  name: 'fn_expiry_dates_import',
  order: 4,
  description: 'Immigration document expirations',
  table: 'expirations',
  parent: 'client',
  columns: [
    ...clientParent,
    kb('DocumentType', 'document-types', K),
    text('DocumentNumber'),
    date('IssueDate'),
    date('ExpirationDate', R),
    text('Notes'),
  ],
};

export const visaDetails: ImportTemplate = {
  name: 'fn_Visa_Details_import',
  order: 5,
  description: 'Visas',
  table: 'visas',
  parent: 'client',
  columns: [
    ...clientParent,
    kb('VisaType', 'visa-types', K),
    text('VisaNumber'),
    date('IssueDate', K),
    date('ExpirationDate'),
    text('IssuingPost'),
    country('IssuingCountry'),
    kb('NumberOfEntries', 'visa-entries'),
    text('Annotation'),
  ],
};

export const passportDetails: ImportTemplate = {
  name: 'fn_Passport_Details_import',
  order: 6,
  description: 'Passports',
  table: 'passports',
  parent: 'client',
  columns: [
    ...clientParent,
    text('PassportNumber', K),
    country('IssuingCountry', K),
    date('IssueDate'),
    date('ExpirationDate', R),
    text('PlaceOfIssue'),
    yesno('IsPrimary'),
  ],
};

export const addressDetails: ImportTemplate = {
  name: 'fn_Address_Details_import',
  order: 7,
  description: 'Addresses',
  table: 'addresses',
  parent: 'client',
  columns: [
    ...clientParent,
    kb('AddressType', 'address-types', K),
    text('AddressLine1', R),
    text('AddressLine2'),
    text('City', R),
    text('State'),
    text('PostalCode'),
    country('Country', R),
    date('FromDate'),
    date('ToDate'),
  ],
};

export const schoolHistory: ImportTemplate = {
  name: 'fn_School_History_import',
  order: 8,
  description: 'Education',
  table: 'education',
  parent: 'client',
  columns: [
    ...clientParent,
    text('SchoolName', K),
    kb('DegreeType', 'degree-types', K),
    text('FieldOfStudy'),
    date('StartDate'),
    date('EndDate'),
    date('DegreeDate'),
    text('City'),
    country('Country'),
  ],
};

export const supervisorDetails: ImportTemplate = {
  name: 'fn_Supervisor_Details_import',
  order: 9,
  description: 'Linked supervisor',
  table: 'supervisor_links',
  parent: 'client',
  columns: [
    ...clientParent,
    text('SupervisorContactID', {
      ...R,
      field: 'supervisor_contact_code',
      ref: {
        table: 'contacts',
        field: 'contact_code',
        where: { contact_type: 'Supervisor' },
        message:
          'is not a Supervisor contact of this employer (import it with company_Additional_Contact_import)',
      },
    }),
    date('EffectiveDate'),
  ],
};

export const customData: ImportTemplate = {
  name: 'fn_Custom_Data_import',
  order: 10,
  description: 'Custom data',
  table: 'custom_values',
  parent: 'client',
  columns: [
    ...clientParent,
    text('FieldName', K),
    { name: 'FieldValue', field: 'field_value', type: 'custom-value' },
  ],
};

export const caseDetails: ImportTemplate = {
  name: 'case_Details_Data_import',
  order: 11,
  description: 'Cases based on a configured petition',
  table: 'cases',
  parent: 'client',
  columns: [
    ...clientParent,
    text('CaseReference', K),
    kb('PetID', 'petitions', R),
    kb('CaseStatus', 'case-statuses'),
    kb('CaseManagerEmail', 'case-managers'),
    date('OpenDate'),
    date('FiledDate'),
    pattern('ReceiptNumber', /^[A-Z]{3}\d{10}$/, '3 letters and 10 digits, e.g. EAC2190012345'),
    date('PriorityDate'),
    date('ApprovalDate'),
    date('ValidFrom'),
    date('ValidTo'),
    text('Notes'),
  ],
};

/** The 11 import templates in processing order. */
export const IMPORT_TEMPLATES: readonly ImportTemplate[] = [
  companyDetails,
  companyContacts,
  clientDetails,
  expiryDates,
  visaDetails,
  passportDetails,
  addressDetails,
  schoolHistory,
  supervisorDetails,
  customData,
  caseDetails,
];

// Per-firm knowledge-base lists, loaded with `caseport kb import <list> <file.csv> --firm F`.
export const petitionsList: ImportTemplate = {
  kbList: true,
  name: 'petitions',
  order: 0,
  description: 'Petitions (PetID) the firm files',
  table: 'petitions',
  parent: 'none',
  columns: [
    text('PetID', K),
    text('PetitionName', R),
    text('FormType'),
    text('VisaCategory'),
    text('Description'),
    yesno('Active'),
  ],
};

export const caseManagersList: ImportTemplate = {
  kbList: true,
  name: 'case-managers',
  order: 0,
  description: 'Case managers of the firm',
  table: 'case_managers',
  parent: 'none',
  columns: [
    text('CaseManagerID', { ...K, field: 'case_manager_code' }),
    text('FirstName', R),
    text('LastName', R),
    text('Email', R),
    text('Phone'),
    text('Role'),
    yesno('Active'),
  ],
};

export const customFieldsList: ImportTemplate = {
  kbList: true,
  name: 'custom-fields',
  order: 0,
  description: 'Custom fields the firm has defined',
  table: 'custom_fields',
  parent: 'none',
  columns: [
    text('FieldName', K),
    kb('FieldType', 'custom-field-types', R),
    { name: 'ListValues', field: 'list_values', type: 'list-values' },
  ],
};

export const FIRM_LIST_TEMPLATES: readonly ImportTemplate[] = [
  petitionsList,
  caseManagersList,
  customFieldsList,
];

/**
 * A firm's own entries of a shipped knowledge-base list (visa types, document types...): a file with one
 * column, Value. Stored as kb_entries of that list, through the same pipeline as every template.
 */
export function listEntriesTemplate(list: ShippedListName): ImportTemplate {
  return {
    kbList: true,
    name: list,
    order: 0,
    description: `The firm's own entries of the shipped ${list} list`,
    table: 'kb_entries',
    parent: 'none',
    columns: [text('Value', { ...K, field: 'value' })],
    fixed: { list_name: list },
    shipped: SHIPPED_LISTS[list],
  };
}
