// Builds src/kb/data/countries.json, the knowledge base's country list (256 entries).
//
// Source of truth: the ISO 3166-1 data shipped by the `i18n-iso-countries` package (alpha-2 and alpha-3
// codes, English official name and alternative short names). On top of it this script applies the small,
// reviewed tables below:
//   - CANONICAL_OVERRIDES: the common English short name used on US immigration forms, where it differs
//     from the package's first English name;
//   - EXTRA_ALIASES: ISO 3166-1 short names (the "Name, qualifier of" forms) and a few former names that
//     the package does not carry; the ISO forms were checked against Debian iso-codes
//     (data/iso_3166-1.json);
//   - DROPPED_ALIASES: package aliases that are ambiguous between two entries;
//   - HISTORICAL: 7 entries that are not current ISO 3166-1 entries but appear in immigration records;
//     codes and ISO names from ISO 3166-3 (Debian iso-codes data/iso_3166-3.json) where they exist.
// Every table entry is checked against the package at build time, so a package upgrade that renames or
// recodes a country makes this script fail instead of silently producing a wrong list.
//
// Run: node --import tsx scripts/build-countries.ts

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import isoCountries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };

interface CountryRecord {
  name: string;
  iso2: string | null;
  iso3: string;
  aliases: string[];
  historical: boolean;
}

const EXPECTED_ISO_COUNT = 249;
const EXPECTED_TOTAL = 256;

// The package also lists XK/XKK (Kosovo), a user-assigned code that is not part of ISO 3166-1. Kosovo is
// added below as one of the HISTORICAL/other entries instead, with the XKX alpha-3 the spec asks for.
const NON_ISO_PACKAGE_CODES = new Set(['XK']);

// (a) Canonical-name overrides: alpha-2 -> [name the package returns first, canonical US-forms name].
// The package name is asserted so that a change in the package is noticed. Entries where both are equal
// pin a name the package already gets right for US forms (e.g. "Vietnam", not ISO's "Viet Nam").
const CANONICAL_OVERRIDES: Record<string, [from: string, to: string]> = {
  AX: ['Åland Islands', 'Aland Islands'],
  BL: ['Saint Barthélemy', 'Saint Barthelemy'],
  BO: ['Bolivia', 'Bolivia'],
  BN: ['Brunei Darussalam', 'Brunei'],
  CD: ['Democratic Republic of the Congo', 'Democratic Republic of the Congo'],
  CG: ['Republic of the Congo', 'Republic of the Congo'],
  CI: ["Cote d'Ivoire", "Cote d'Ivoire"],
  CN: ["People's Republic of China", 'China'],
  CW: ['Curaçao', 'Curacao'],
  CZ: ['Czech Republic', 'Czech Republic'],
  FK: ['Falkland Islands (Malvinas)', 'Falkland Islands'],
  FM: ['Micronesia, Federated States of', 'Micronesia'],
  GM: ['Republic of The Gambia', 'Gambia'],
  IR: ['Islamic Republic of Iran', 'Iran'],
  KP: ['North Korea', 'North Korea'],
  KR: ['South Korea', 'South Korea'],
  LA: ["Lao People's Democratic Republic", 'Laos'],
  MD: ['Moldova, Republic of', 'Moldova'],
  MF: ['Saint Martin (French part)', 'Saint Martin'],
  MK: ['The Republic of North Macedonia', 'North Macedonia'],
  MO: ['Macao', 'Macau'],
  PN: ['Pitcairn', 'Pitcairn Islands'],
  PS: ['State of Palestine', 'Palestine'],
  RU: ['Russian Federation', 'Russia'],
  SX: ['Sint Maarten (Dutch part)', 'Sint Maarten'],
  SY: ['Syrian Arab Republic', 'Syria'],
  TR: ['Türkiye', 'Turkey'],
  TW: ['Taiwan, Province of China', 'Taiwan'],
  TZ: ['United Republic of Tanzania', 'Tanzania'],
  US: ['United States of America', 'United States'],
  VA: ['Holy See (Vatican City State)', 'Vatican City'],
  VE: ['Venezuela', 'Venezuela'],
  VG: ['Virgin Islands, British', 'British Virgin Islands'],
  VI: ['Virgin Islands, U.S.', 'U.S. Virgin Islands'],
  VN: ['Vietnam', 'Vietnam'],
};

// Extra aliases the package lacks: ISO 3166-1 short names (checked against Debian iso-codes), the current
// ISO short name where the package still has the old one, and former names still seen on old documents.
const EXTRA_ALIASES: Record<string, string[]> = {
  BO: ['Bolivia, Plurinational State of'],
  CD: [
    'Congo, The Democratic Republic of the',
    'Congo, Democratic Republic of the',
    'Congo (Kinshasa)',
    'Zaire',
  ],
  CG: ['Congo, Republic of the', 'Congo (Brazzaville)'],
  CV: ['Cabo Verde'], // ISO 3166-1 short name since 2013
  GB: ['United Kingdom of Great Britain and Northern Ireland'],
  IR: ['Iran, Islamic Republic of'],
  KP: ["Korea, Democratic People's Republic of"],
  MK: ['Macedonia', 'Macedonia, the former Yugoslav Republic of'], // ISO short name until 2019
  PS: ['Palestine, State of'],
  RE: ['Réunion'],
  SH: ['Saint Helena, Ascension and Tristan da Cunha'],
  SZ: ['Swaziland'], // ISO short name until 2018
  TL: ['East Timor'],
  TZ: ['Tanzania, United Republic of'],
  VA: ['Holy See'],
  VE: ['Venezuela, Bolivarian Republic of'],
  VG: ['Virgin Islands (British)'],
  VI: ['Virgin Islands (U.S.)'],
  VN: ['Viet Nam'],
};

// Package aliases that name two different entries; the ISO short name "Congo" belongs to CG only.
const DROPPED_ALIASES: Record<string, string[]> = {
  CD: ['Congo'],
};

// (b) Historical and other entries: exactly 7, so that 249 + 7 = 256. All are flagged `historical: true`,
// meaning "not a current ISO 3166-1 entry" (withdrawn ISO code, or user-assigned code for Kosovo).
const HISTORICAL: CountryRecord[] = [
  // Kosovo: user-assigned XK / XKX (not in ISO 3166-1; the package's own alpha-3 for it is XKK).
  { name: 'Kosovo', iso2: 'XK', iso3: 'XKX', aliases: ['Republic of Kosovo'], historical: true },
  // ISO 3166-3: YU/YUG withdrawn 2003 (renamed Serbia and Montenegro).
  {
    name: 'Yugoslavia',
    iso2: 'YU',
    iso3: 'YUG',
    aliases: ['Yugoslavia, Socialist Federal Republic of'],
    historical: true,
  },
  // ISO 3166-3: CS/SCG withdrawn 2006 (split into RS and ME).
  { name: 'Serbia and Montenegro', iso2: 'CS', iso3: 'SCG', aliases: [], historical: true },
  // ISO 3166-3: CSK withdrawn 1993. Its old alpha-2 was also "CS", which ISO later reassigned to Serbia and
  // Montenegro; to keep alpha-2 lookups unambiguous Czechoslovakia has NO alpha-2 here (iso2: null) and is
  // found by name or by CSK only.
  {
    name: 'Czechoslovakia',
    iso2: null,
    iso3: 'CSK',
    aliases: ['Czechoslovakia, Czechoslovak Socialist Republic'],
    historical: true,
  },
  // ISO 3166-3: SU/SUN withdrawn 1992.
  {
    name: 'USSR',
    iso2: 'SU',
    iso3: 'SUN',
    aliases: [
      'Soviet Union',
      'Union of Soviet Socialist Republics',
      'USSR, Union of Soviet Socialist Republics',
    ],
    historical: true,
  },
  // ISO 3166-3: AN/ANT withdrawn 2010 (split into CW, SX, BQ).
  { name: 'Netherlands Antilles', iso2: 'AN', iso3: 'ANT', aliases: [], historical: true },
  // ISO 3166-3: BU/BUR withdrawn 1989; Myanmar (MM/MMR) stays its own ISO entry.
  {
    name: 'Burma',
    iso2: 'BU',
    iso3: 'BUR',
    aliases: ['Burma, Socialist Republic of the Union of'],
    historical: true,
  },
];

/** Lookup key: trimmed, case-, accent- and apostrophe-insensitive (same rule as src/kb/countries.ts). */
function key(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function fail(message: string): never {
  throw new Error(`build-countries: ${message}`);
}

function uniqueAliases(name: string, codes: (string | null)[], candidates: string[]): string[] {
  const seen = new Set([name.toLowerCase(), ...codes.filter((c) => c !== null).map((c) => c.toLowerCase())]);
  const out: string[] = [];
  for (const alias of candidates) {
    const lower = alias.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    out.push(alias);
  }
  return out;
}

function build(): CountryRecord[] {
  isoCountries.registerLocale(en);
  const alpha2ToAlpha3 = isoCountries.getAlpha2Codes();
  const names = isoCountries.getNames('en', { select: 'all' });

  const isoCodes = Object.keys(alpha2ToAlpha3)
    .filter((code) => !NON_ISO_PACKAGE_CODES.has(code))
    .sort();
  if (isoCodes.length !== EXPECTED_ISO_COUNT) {
    fail(`expected ${EXPECTED_ISO_COUNT} ISO 3166-1 entries in the package, got ${isoCodes.length}`);
  }
  for (const table of [CANONICAL_OVERRIDES, EXTRA_ALIASES, DROPPED_ALIASES]) {
    for (const code of Object.keys(table)) {
      if (!isoCodes.includes(code)) fail(`table entry for unknown alpha-2 code ${code}`);
    }
  }

  const records: CountryRecord[] = isoCodes.map((iso2) => {
    const iso3 = alpha2ToAlpha3[iso2];
    const packageNames = names[iso2];
    if (!iso3 || !packageNames || packageNames.length === 0) {
      fail(`no alpha-3 code or English name for ${iso2}`);
    }
    let name = packageNames[0];
    const override = CANONICAL_OVERRIDES[iso2];
    if (override) {
      const [from, to] = override;
      if (packageNames[0] !== from) {
        fail(`${iso2}: override expects package name "${from}", package returns "${packageNames[0]}"`);
      }
      name = to;
    }
    const dropped = new Set(DROPPED_ALIASES[iso2] ?? []);
    for (const alias of dropped) {
      if (!packageNames.includes(alias)) fail(`${iso2}: dropped alias "${alias}" not in package names`);
    }
    const candidates = [...packageNames.filter((n) => !dropped.has(n)), ...(EXTRA_ALIASES[iso2] ?? [])];
    return { name, iso2, iso3, aliases: uniqueAliases(name, [iso2, iso3], candidates), historical: false };
  });

  for (const h of HISTORICAL) {
    records.push({ ...h, aliases: uniqueAliases(h.name, [h.iso2, h.iso3], h.aliases) });
  }
  if (records.length !== EXPECTED_TOTAL) fail(`expected ${EXPECTED_TOTAL} entries, got ${records.length}`);

  // Every name, alias and code must identify exactly one entry.
  const owner = new Map<string, string>();
  for (const r of records) {
    for (const text of [r.name, ...r.aliases, r.iso2, r.iso3]) {
      if (text === null) continue;
      const k = key(text);
      const previous = owner.get(k);
      if (previous !== undefined && previous !== r.iso3) {
        fail(`"${text}" identifies both ${previous} and ${r.iso3}`);
      }
      owner.set(k, r.iso3);
    }
  }

  return records.sort((a, b) => a.name.localeCompare(b.name, 'en'));
}

const records = build();
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'kb', 'data', 'countries.json');
writeFileSync(out, JSON.stringify(records, null, 2) + '\n');
console.log(`wrote ${records.length} countries to ${out}`);
