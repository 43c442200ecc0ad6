// Shipped knowledge-base lists: the values a cell of a KB column may take in every firm.
// Firms may add entries (kb_entries); shipped entries cannot be removed or renamed by a firm.
import type { KbListName } from '../templates/types.js';

export const SHIPPED_LISTS = {
  'visa-types': [
    'A-1', 'A-2', 'B-1', 'B-2', 'B-1/B-2', 'C-1', 'C-1/D', 'D', 'E-1', 'E-2', 'E-3', 'E-3D', 'F-1', 'F-2',
    'G-1', 'G-4', 'H-1B', 'H-1B1', 'H-2A', 'H-2B', 'H-3', 'H-4', 'I', 'J-1', 'J-2', 'K-1', 'K-3', 'L-1A',
    'L-1B', 'L-2', 'M-1', 'M-2', 'O-1', 'O-2', 'O-3', 'P-1', 'P-3', 'Q-1', 'R-1', 'R-2', 'TN', 'TD',
    'U', 'V', 'VWP/ESTA', 'Green Card / LPR', 'Conditional Resident', 'Parolee', 'Asylee', 'Refugee',
    'TPS', 'DACA', 'US Citizen', 'EAD (Pending Adjustment)', 'Out of Status', 'None',
  ],
  'document-types': [
    'I-94', 'EAD', 'Advance Parole', 'I-797 Approval', 'Visa Stamp', 'Green Card', 'H-1B Max Out',
    'L-1 Max Out', 'Re-entry Permit', 'Travel Document',
  ],
  'case-statuses': [
    'Open', 'In Preparation', 'Pending Documents', 'Filed', 'Receipted', 'RFE Issued', 'RFE Responded',
    'Approved', 'Denied', 'Withdrawn', 'On Hold', 'Closed',
  ],
  genders: ['Male', 'Female', 'Unspecified'],
  'marital-statuses': ['Single', 'Married', 'Divorced', 'Widowed', 'Separated', 'Annulled', 'Domestic Partner'],
  'employment-statuses': ['Active', 'Terminated', 'On Leave'],
  'employer-statuses': ['Active', 'Inactive'],
  'contact-types': ['Contact', 'Supervisor', 'HR', 'Signatory', 'Billing'],
  'address-types': ['Home', 'Work', 'Mailing', 'Foreign'],
  'degree-types': [
    'High School Diploma', 'Associate', "Bachelor's", "Master's", 'Doctorate', 'Professional Degree',
    'Post-Doctorate', 'Certificate', 'Diploma', 'Other',
  ],
  'visa-entries': ['Single', 'Multiple', 'M', '1', '2'],
  'custom-field-types': ['text', 'number', 'date', 'yesno', 'list'],
} as const satisfies Partial<Record<KbListName, readonly string[]>>;

export type ShippedListName = keyof typeof SHIPPED_LISTS;

/** Lists a firm can add entries to with a one-column `Value` file. */
export const EXTENDABLE_LISTS: readonly ShippedListName[] = (Object.keys(SHIPPED_LISTS) as ShippedListName[]).filter(
  (l) => l !== 'custom-field-types',
);

export function isShippedList(name: string): name is ShippedListName {
  return Object.hasOwn(SHIPPED_LISTS, name);
}
