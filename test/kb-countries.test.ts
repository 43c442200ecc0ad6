import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import isoCountries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import { COUNTRIES, type Country, findCountry } from '../src/kb/countries.js';

isoCountries.registerLocale(en);

const HISTORICAL: [name: string, iso2: string | null, iso3: string][] = [
  ['Kosovo', 'XK', 'XKX'],
  ['Yugoslavia', 'YU', 'YUG'],
  ['Serbia and Montenegro', 'CS', 'SCG'],
  ['Czechoslovakia', null, 'CSK'],
  ['USSR', 'SU', 'SUN'],
  ['Netherlands Antilles', 'AN', 'ANT'],
  ['Burma', 'BU', 'BUR'],
];

function byIso3(iso3: string): Country {
  const country = COUNTRIES.find((c) => c.iso3 === iso3);
  assert.ok(country, `no entry with alpha-3 ${iso3}`);
  return country;
}

describe('kb countries: the list', () => {
  test('has 256 entries: 249 ISO 3166-1 plus 7 historical/other', () => {
    assert.equal(COUNTRIES.length, 256);
    assert.equal(COUNTRIES.filter((c) => !c.historical).length, 249);
    assert.equal(COUNTRIES.filter((c) => c.historical).length, 7);
  });

  test('every entry has the JSON shape', () => {
    for (const c of COUNTRIES) {
      assert.equal(typeof c.name, 'string');
      assert.ok(c.name.trim() !== '' && c.name === c.name.trim(), `bad name ${JSON.stringify(c.name)}`);
      assert.ok(c.iso2 === null || /^[A-Z]{2}$/.test(c.iso2), `bad iso2 for ${c.name}`);
      assert.match(c.iso3, /^[A-Z]{3}$/, `bad iso3 for ${c.name}`);
      assert.ok(Array.isArray(c.aliases), `aliases not an array for ${c.name}`);
      assert.ok(!c.aliases.includes(c.name), `${c.name} repeats its name in aliases`);
      assert.equal(typeof c.historical, 'boolean');
    }
  });

  test('names, alpha-3 codes and non-null alpha-2 codes are unique', () => {
    const names = COUNTRIES.map((c) => c.name.toLowerCase());
    assert.equal(new Set(names).size, names.length, 'duplicate name');
    const iso3 = COUNTRIES.map((c) => c.iso3);
    assert.equal(new Set(iso3).size, iso3.length, 'duplicate iso3');
    const iso2 = COUNTRIES.flatMap((c) => (c.iso2 === null ? [] : [c.iso2]));
    assert.equal(new Set(iso2).size, iso2.length, 'duplicate iso2');
    assert.equal(iso2.length, 255, 'only Czechoslovakia lacks an alpha-2 code');
  });

  test('is sorted by canonical name', () => {
    const names = COUNTRIES.map((c) => c.name);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => a.localeCompare(b, 'en')),
    );
  });

  test('every alpha-2/alpha-3 pair known to i18n-iso-countries is present with the same pairing', () => {
    const pairs = Object.entries(isoCountries.getAlpha2Codes());
    // The package also carries XK (Kosovo, user-assigned, alpha-3 XKK); the spec uses XKX for it.
    const iso = pairs.filter(([iso2]) => iso2 !== 'XK');
    assert.equal(iso.length, 249);
    for (const [iso2, iso3] of iso) {
      const entry = COUNTRIES.find((c) => c.iso2 === iso2);
      assert.ok(entry, `alpha-2 ${iso2} missing`);
      assert.equal(entry.iso3, iso3, `alpha-2 ${iso2} paired with ${entry.iso3}, package says ${iso3}`);
      assert.equal(entry.historical, false, `${iso2} is a current ISO entry`);
    }
    const kosovo = COUNTRIES.find((c) => c.iso2 === 'XK');
    assert.equal(kosovo?.name, 'Kosovo');
    assert.equal(kosovo?.iso3, 'XKX');
  });

  test('ISO official names from the package are kept as names or aliases', () => {
    const names = isoCountries.getNames('en', { select: 'official' });
    for (const [iso2, official] of Object.entries(names)) {
      if (iso2 === 'XK') continue;
      const entry = COUNTRIES.find((c) => c.iso2 === iso2);
      assert.ok(entry, `alpha-2 ${iso2} missing`);
      assert.ok(
        entry.name === official || entry.aliases.includes(official),
        `${iso2}: official name "${official}" is neither name nor alias`,
      );
    }
  });

  test('the historical entries are present, flagged and coded as specified', () => {
    for (const [name, iso2, iso3] of HISTORICAL) {
      const entry = byIso3(iso3);
      assert.equal(entry.name, name);
      assert.equal(entry.iso2, iso2, `${name} alpha-2`);
      assert.equal(entry.historical, true, `${name} not flagged historical`);
    }
    assert.equal(byIso3('MMR').name, 'Myanmar');
    assert.equal(byIso3('MMR').historical, false);
  });
});

describe('kb countries: canonical names', () => {
  const expected: [iso3: string, name: string][] = [
    ['USA', 'United States'],
    ['KOR', 'South Korea'],
    ['PRK', 'North Korea'],
    ['RUS', 'Russia'],
    ['VNM', 'Vietnam'],
    ['IRN', 'Iran'],
    ['BOL', 'Bolivia'],
    ['TUR', 'Turkey'],
    ['SYR', 'Syria'],
    ['LAO', 'Laos'],
    ['MDA', 'Moldova'],
    ['TZA', 'Tanzania'],
    ['VEN', 'Venezuela'],
    ['CZE', 'Czech Republic'],
    ['TWN', 'Taiwan'],
    ['BRN', 'Brunei'],
    ['CIV', "Cote d'Ivoire"],
    ['CHN', 'China'],
    ['GBR', 'United Kingdom'],
    ['COG', 'Republic of the Congo'],
    ['COD', 'Democratic Republic of the Congo'],
  ];
  for (const [iso3, name] of expected) {
    test(`${iso3} is "${name}"`, () => {
      assert.equal(byIso3(iso3).name, name);
    });
  }

  test('ISO official names are aliases of the US-forms name', () => {
    const aliases: [iso3: string, alias: string][] = [
      ['USA', 'United States of America'],
      ['KOR', 'Korea, Republic of'],
      ['PRK', "Korea, Democratic People's Republic of"],
      ['RUS', 'Russian Federation'],
      ['VNM', 'Viet Nam'],
      ['IRN', 'Iran, Islamic Republic of'],
      ['BOL', 'Bolivia, Plurinational State of'],
      ['TUR', 'Türkiye'],
      ['SYR', 'Syrian Arab Republic'],
      ['LAO', "Lao People's Democratic Republic"],
      ['MDA', 'Moldova, Republic of'],
      ['TZA', 'Tanzania, United Republic of'],
      ['VEN', 'Venezuela, Bolivarian Republic of'],
      ['CZE', 'Czechia'],
      ['TWN', 'Taiwan, Province of China'],
      ['BRN', 'Brunei Darussalam'],
      ['CIV', "Côte d'Ivoire"],
    ];
    for (const [iso3, alias] of aliases) {
      assert.ok(byIso3(iso3).aliases.includes(alias), `${iso3} lacks alias "${alias}"`);
    }
  });
});

describe('kb countries: findCountry', () => {
  const cases: [input: string, iso3: string][] = [
    ['Russian Federation', 'RUS'],
    ['RUS', 'RUS'],
    ['ru', 'RUS'],
    ['russia', 'RUS'],
    ['Korea, Republic of', 'KOR'],
    ['USA', 'USA'],
    ['us', 'USA'],
    ['United States of America', 'USA'],
    ['  united states  ', 'USA'],
    ['Viet Nam', 'VNM'],
    ['Türkiye', 'TUR'],
    ['Czechia', 'CZE'],
    ['Soviet Union', 'SUN'],
    ['USSR', 'SUN'],
    ['su', 'SUN'],
    ['CSK', 'CSK'],
    ['Czechoslovakia', 'CSK'],
    ['CS', 'SCG'],
    ['Burma', 'BUR'],
    ['Myanmar', 'MMR'],
    ['XK', 'XKX'],
    ['Congo', 'COG'],
    ['Ivory Coast', 'CIV'],
  ];
  for (const [input, iso3] of cases) {
    test(`${JSON.stringify(input)} resolves to ${iso3}`, () => {
      assert.equal(findCountry(input)?.iso3, iso3);
    });
  }

  test('is accent-insensitive', () => {
    for (const input of ["Cote d'Ivoire", "Côte d'Ivoire", 'COTE D’IVOIRE']) {
      assert.equal(findCountry(input)?.iso3, 'CIV', input);
    }
    assert.equal(findCountry('Turkiye')?.iso3, 'TUR');
    assert.equal(findCountry('Curaçao')?.iso3, 'CUW');
    assert.equal(findCountry('Curacao')?.iso3, 'CUW');
  });

  test('returns the entry object itself (canonical name for storage)', () => {
    const found = findCountry('korea, republic of');
    assert.equal(found, byIso3('KOR'));
    assert.equal(found?.name, 'South Korea');
  });

  test('every name, alias and code resolves to its own entry (no collisions)', () => {
    for (const c of COUNTRIES) {
      for (const text of [c.name, ...c.aliases, c.iso2, c.iso3]) {
        if (text === null) continue;
        assert.equal(findCountry(text), c, `${JSON.stringify(text)} does not resolve to ${c.name}`);
      }
    }
  });

  test('unknown or blank input returns undefined', () => {
    for (const input of ['Atlantis', '', '   ', 'ZZ', 'ZZZ', 'Korea']) {
      assert.equal(findCountry(input), undefined, JSON.stringify(input));
    }
  });
});
