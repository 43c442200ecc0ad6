// Builds src/kb/data/countries.json, the knowledge base's country list (256 entries).
//
// Sources and their licences (all are build inputs; only the facts they record, country names and codes,
// end up in the generated file):
//   - `i18n-iso-countries` (MIT, a runtime dependency): alpha-2/alpha-3 codes, the first English name and
//     other English names;
//   - `country-list` (MIT, devDependency, data taken from iso.org): the ISO 3166-1 English short name in
//     ISO form, as the ISO Online Browsing Platform spells it with the parenthesised part ("Korea (the
//     Republic of)", "United States of America (the)"). Its one footnote marker ("Western Sahara*") is
//     dropped;
//   - `iso-3166` (MIT, devDependency): the same short name in the comma form many systems use ("Korea,
//     Republic of");
//   - Debian `iso-codes` (LGPL-2.1+, a build input only, not shipped): its `name`, where it spells the comma
//     form differently ("Congo, The Democratic Republic of the"), and its `official_name`, the ISO full
//     (official) name ("Socialist Republic of Viet Nam", "Plurinational State of Bolivia"), which entries
//     have only where ISO gives one. iso-codes is not on npm: it is read from
//     /usr/share/iso-codes/json/iso_3166-1.json (Debian package `iso-codes`, in this project's machine
//     image; ISO_CODES_JSON overrides the path). The script fails without it rather than write a smaller
//     list; the committed file was built with iso-codes 4.15.0.
// No ODbL-licensed data (e.g. the `world-countries` package) is used: the shipped list must not be a
// database derived from share-alike data.
// On top of that data this script applies the small, reviewed tables below:
//   - CANONICAL_OVERRIDES: the common English short name used on US immigration forms, where it differs
//     from the package's first English name;
//   - EXTRA_ALIASES: former and other names still seen on old documents, which no source carries (the
//     build fails if a source starts carrying one, so the table stays minimal);
//   - DROPPED_ALIASES: source names that name two entries or another place as well;
//   - CONTRACT_EXAMPLES: the alias examples of the file contract (shared/spec/templates.md, "Countries"),
//     added verbatim and checked to resolve to the right entry;
//   - HISTORICAL: 7 entries that are not current ISO 3166-1 entries but appear in immigration records;
//     codes and ISO names from ISO 3166-3 (Debian iso-codes data/iso_3166-3.json) where they exist.
// Every table entry and every source is checked against the package at build time (same 249 codes, same
// alpha-3 pairs), so an upgrade that renames or recodes a country makes this script fail instead of
// silently producing a wrong list. Two entries sharing a lookup key also make it fail.
//
// Run: node --import tsx scripts/build-countries.ts

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import isoObpNames from 'country-list/data.json' with { type: 'json' };
import isoCountries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import { iso31661 } from 'iso-3166';

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

// Other names no source carries: former ISO short names and names still seen on old documents. The build
// fails if a source also gives one of them, so the table only holds what the data lacks.
const EXTRA_ALIASES: Record<string, string[]> = {
  CD: ['Congo (Kinshasa)', 'Zaire'],
  CG: ['Congo, Republic of the', 'Congo (Brazzaville)'],
  MK: ['Macedonia', 'Macedonia, the former Yugoslav Republic of'], // ISO short name until 2019
  SZ: ['Swaziland'], // ISO short name until 2018
  TL: ['East Timor'],
  // Long names common on passports and visas that the ISO sources spell otherwise.
  IE: ['Republic of Ireland'],
  VN: ['Socialist Republic of Vietnam'],
  MM: ['Republic of the Union of Myanmar'],
};

// Source names left out on purpose (each must still be offered by a source, so a stale entry is noticed):
//   - CD "Congo" (i18n-iso-countries): the ISO short name "Congo" belongs to CG, which keeps it.
// Bare "Virgin Islands" (it names VG and VI alike) and "Guiana" (the whole region, and Guyana's former
// name) are given by no source; the tests check that they stay unresolved.
const DROPPED_ALIASES: Record<string, string[]> = {
  CD: ['Congo'],
};

// The alias examples the file contract gives (shared/spec/templates.md, "Countries"), verbatim. They are
// added as aliases of the named entry and the build checks that each resolves to it.
const CONTRACT_EXAMPLES: [alias: string, iso2: string][] = [
  ['Korea (the Republic of)', 'KR'],
  ['Bolivia (Plurinational State of)', 'BO'],
  ['Plurinational State of Bolivia', 'BO'],
  ['Socialist Republic of Viet Nam', 'VN'],
  ['Republic of Türkiye', 'TR'],
];

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

interface IsoCodesEntry {
  alpha_2: string;
  alpha_3: string;
  name: string;
  official_name?: string;
  common_name?: string;
}

const ISO_CODES_JSON = process.env['ISO_CODES_JSON'] ?? '/usr/share/iso-codes/json/iso_3166-1.json';

function readIsoCodes(): IsoCodesEntry[] {
  if (!existsSync(ISO_CODES_JSON)) {
    fail(
      `Debian iso-codes data not found at ${ISO_CODES_JSON}: install the iso-codes package ` +
        '(apt-get install iso-codes) or set ISO_CODES_JSON to its iso_3166-1.json',
    );
  }
  const parsed = JSON.parse(readFileSync(ISO_CODES_JSON, 'utf8')) as { '3166-1'?: IsoCodesEntry[] };
  const entries = parsed['3166-1'];
  if (!Array.isArray(entries)) fail(`${ISO_CODES_JSON} has no "3166-1" list`);
  return entries;
}

interface SourceRow {
  iso2: string;
  iso3?: string;
  names: string[];
}

/**
 * Indexes one source's names by alpha-2 code, checking that it covers exactly the package's ISO 3166-1
 * entries with the same alpha-3 pairing: a source that lags behind or runs ahead of the package fails the
 * build instead of leaving an entry without its ISO names.
 */
function indexSource(
  label: string,
  rows: SourceRow[],
  alpha2ToAlpha3: Record<string, string>,
  isoCodes: string[],
): Map<string, string[]> {
  const byCode = new Map<string, string[]>();
  for (const row of rows) {
    if (!isoCodes.includes(row.iso2)) fail(`${label}: unknown alpha-2 code ${row.iso2}`);
    if (row.iso3 !== undefined && row.iso3 !== alpha2ToAlpha3[row.iso2]) {
      fail(
        `${label}: ${row.iso2} paired with ${row.iso3}, i18n-iso-countries says ${alpha2ToAlpha3[row.iso2]}`,
      );
    }
    if (byCode.has(row.iso2)) fail(`${label}: ${row.iso2} listed twice`);
    const names = row.names.map((n) => n.trim());
    if (names.length === 0 || names.some((n) => n === '')) fail(`${label}: ${row.iso2} has no name`);
    byCode.set(row.iso2, names);
  }
  const missing = isoCodes.filter((code) => !byCode.has(code));
  if (missing.length > 0) fail(`${label}: no entry for ${missing.join(', ')}`);
  return byCode;
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
  const contractCodes = Object.fromEntries(CONTRACT_EXAMPLES.map(([, iso2]) => [iso2, true]));
  for (const table of [CANONICAL_OVERRIDES, EXTRA_ALIASES, DROPPED_ALIASES, contractCodes]) {
    for (const code of Object.keys(table)) {
      if (!isoCodes.includes(code)) fail(`table entry for unknown alpha-2 code ${code}`);
    }
  }

  // The ISO names, one source each (see the header comment), in the order they are listed as aliases.
  const isoCodesData = readIsoCodes();
  const sources = [
    // ISO short name, ISO form. "Western Sahara*": the asterisk is the ISO list's footnote marker.
    indexSource(
      'country-list',
      isoObpNames.map((e) => ({ iso2: e.code, names: [e.name.replace(/\*+$/, '')] })),
      alpha2ToAlpha3,
      isoCodes,
    ),
    // ISO short name, comma form.
    indexSource(
      'iso-3166',
      iso31661.map((e) => ({ iso2: e.alpha2, iso3: e.alpha3, names: [e.name] })),
      alpha2ToAlpha3,
      isoCodes,
    ),
    // Comma form as iso-codes spells it, and the ISO full (official) name.
    indexSource(
      'iso-codes',
      isoCodesData.map((e) => ({
        iso2: e.alpha_2,
        iso3: e.alpha_3,
        names: e.official_name === undefined ? [e.name] : [e.name, e.official_name],
      })),
      alpha2ToAlpha3,
      isoCodes,
    ),
  ];

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
    const sourced = [...packageNames, ...sources.flatMap((source) => source.get(iso2) ?? [])];
    const dropped = new Set(DROPPED_ALIASES[iso2] ?? []);
    for (const alias of dropped) {
      if (!sourced.includes(alias)) fail(`${iso2}: dropped alias "${alias}" is given by no source`);
    }
    const sourcedKeys = new Set(sourced.map(key));
    const extra = EXTRA_ALIASES[iso2] ?? [];
    for (const alias of extra) {
      if (sourcedKeys.has(key(alias))) fail(`${iso2}: extra alias "${alias}" is now given by a source`);
    }
    const examples = CONTRACT_EXAMPLES.filter(([, code]) => code === iso2).map(([alias]) => alias);
    const candidates = [...sourced.filter((n) => !dropped.has(n)), ...extra, ...examples];
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
  for (const [alias, iso2] of CONTRACT_EXAMPLES) {
    if (owner.get(key(alias)) !== alpha2ToAlpha3[iso2]) fail(`contract example "${alias}" is not ${iso2}`);
  }

  return records.sort((a, b) => a.name.localeCompare(b.name, 'en'));
}

const records = build();
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'kb', 'data', 'countries.json');
writeFileSync(out, JSON.stringify(records, null, 2) + '\n');
const aliasCount = records.reduce((sum, r) => sum + r.aliases.length, 0);
console.log(`wrote ${records.length} countries (${aliasCount} aliases) to ${out}`);
