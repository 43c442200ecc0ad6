import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import isoObpNames from 'country-list/data.json' with { type: 'json' };
import isoCountries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import { iso31661 } from 'iso-3166';
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

// ISO 3166-1 full (official) names, copied from Debian iso-codes 4.15.0 (iso_3166-1.json, `official_name`,
// the source scripts/build-countries.ts reads them from). Fixed here so that the test does not depend on the
// iso-codes installed on the machine; the entries without an official name in iso-codes are not listed.
const ISO_OFFICIAL_NAMES: [iso2: string, officialName: string][] = [
  ['AD', 'Principality of Andorra'],
  ['AF', 'Islamic Republic of Afghanistan'],
  ['AL', 'Republic of Albania'],
  ['AM', 'Republic of Armenia'],
  ['AO', 'Republic of Angola'],
  ['AR', 'Argentine Republic'],
  ['AT', 'Republic of Austria'],
  ['AZ', 'Republic of Azerbaijan'],
  ['BA', 'Republic of Bosnia and Herzegovina'],
  ['BD', "People's Republic of Bangladesh"],
  ['BE', 'Kingdom of Belgium'],
  ['BG', 'Republic of Bulgaria'],
  ['BH', 'Kingdom of Bahrain'],
  ['BI', 'Republic of Burundi'],
  ['BJ', 'Republic of Benin'],
  ['BO', 'Plurinational State of Bolivia'],
  ['BQ', 'Bonaire, Sint Eustatius and Saba'],
  ['BR', 'Federative Republic of Brazil'],
  ['BS', 'Commonwealth of the Bahamas'],
  ['BT', 'Kingdom of Bhutan'],
  ['BW', 'Republic of Botswana'],
  ['BY', 'Republic of Belarus'],
  ['CG', 'Republic of the Congo'],
  ['CH', 'Swiss Confederation'],
  ['CI', "Republic of Côte d'Ivoire"],
  ['CL', 'Republic of Chile'],
  ['CM', 'Republic of Cameroon'],
  ['CN', "People's Republic of China"],
  ['CO', 'Republic of Colombia'],
  ['CR', 'Republic of Costa Rica'],
  ['CU', 'Republic of Cuba'],
  ['CV', 'Republic of Cabo Verde'],
  ['CW', 'Curaçao'],
  ['CY', 'Republic of Cyprus'],
  ['CZ', 'Czech Republic'],
  ['DE', 'Federal Republic of Germany'],
  ['DJ', 'Republic of Djibouti'],
  ['DK', 'Kingdom of Denmark'],
  ['DM', 'Commonwealth of Dominica'],
  ['DZ', "People's Democratic Republic of Algeria"],
  ['EC', 'Republic of Ecuador'],
  ['EE', 'Republic of Estonia'],
  ['EG', 'Arab Republic of Egypt'],
  ['ER', 'the State of Eritrea'],
  ['ES', 'Kingdom of Spain'],
  ['ET', 'Federal Democratic Republic of Ethiopia'],
  ['FI', 'Republic of Finland'],
  ['FJ', 'Republic of Fiji'],
  ['FM', 'Federated States of Micronesia'],
  ['FR', 'French Republic'],
  ['GA', 'Gabonese Republic'],
  ['GB', 'United Kingdom of Great Britain and Northern Ireland'],
  ['GH', 'Republic of Ghana'],
  ['GM', 'Republic of the Gambia'],
  ['GN', 'Republic of Guinea'],
  ['GQ', 'Republic of Equatorial Guinea'],
  ['GR', 'Hellenic Republic'],
  ['GT', 'Republic of Guatemala'],
  ['GW', 'Republic of Guinea-Bissau'],
  ['GY', 'Republic of Guyana'],
  ['HK', 'Hong Kong Special Administrative Region of China'],
  ['HN', 'Republic of Honduras'],
  ['HR', 'Republic of Croatia'],
  ['HT', 'Republic of Haiti'],
  ['HU', 'Hungary'],
  ['ID', 'Republic of Indonesia'],
  ['IL', 'State of Israel'],
  ['IN', 'Republic of India'],
  ['IQ', 'Republic of Iraq'],
  ['IR', 'Islamic Republic of Iran'],
  ['IS', 'Republic of Iceland'],
  ['IT', 'Italian Republic'],
  ['JO', 'Hashemite Kingdom of Jordan'],
  ['KE', 'Republic of Kenya'],
  ['KG', 'Kyrgyz Republic'],
  ['KH', 'Kingdom of Cambodia'],
  ['KI', 'Republic of Kiribati'],
  ['KM', 'Union of the Comoros'],
  ['KP', "Democratic People's Republic of Korea"],
  ['KW', 'State of Kuwait'],
  ['KZ', 'Republic of Kazakhstan'],
  ['LB', 'Lebanese Republic'],
  ['LI', 'Principality of Liechtenstein'],
  ['LK', 'Democratic Socialist Republic of Sri Lanka'],
  ['LR', 'Republic of Liberia'],
  ['LS', 'Kingdom of Lesotho'],
  ['LT', 'Republic of Lithuania'],
  ['LU', 'Grand Duchy of Luxembourg'],
  ['LV', 'Republic of Latvia'],
  ['LY', 'Libya'],
  ['MA', 'Kingdom of Morocco'],
  ['MC', 'Principality of Monaco'],
  ['MD', 'Republic of Moldova'],
  ['ME', 'Montenegro'],
  ['MG', 'Republic of Madagascar'],
  ['MH', 'Republic of the Marshall Islands'],
  ['MK', 'Republic of North Macedonia'],
  ['ML', 'Republic of Mali'],
  ['MM', 'Republic of Myanmar'],
  ['MO', 'Macao Special Administrative Region of China'],
  ['MP', 'Commonwealth of the Northern Mariana Islands'],
  ['MR', 'Islamic Republic of Mauritania'],
  ['MT', 'Republic of Malta'],
  ['MU', 'Republic of Mauritius'],
  ['MV', 'Republic of Maldives'],
  ['MW', 'Republic of Malawi'],
  ['MX', 'United Mexican States'],
  ['MZ', 'Republic of Mozambique'],
  ['NA', 'Republic of Namibia'],
  ['NE', 'Republic of the Niger'],
  ['NG', 'Federal Republic of Nigeria'],
  ['NI', 'Republic of Nicaragua'],
  ['NL', 'Kingdom of the Netherlands'],
  ['NO', 'Kingdom of Norway'],
  ['NP', 'Federal Democratic Republic of Nepal'],
  ['NR', 'Republic of Nauru'],
  ['NU', 'Niue'],
  ['OM', 'Sultanate of Oman'],
  ['PA', 'Republic of Panama'],
  ['PE', 'Republic of Peru'],
  ['PG', 'Independent State of Papua New Guinea'],
  ['PH', 'Republic of the Philippines'],
  ['PK', 'Islamic Republic of Pakistan'],
  ['PL', 'Republic of Poland'],
  ['PS', 'the State of Palestine'],
  ['PT', 'Portuguese Republic'],
  ['PW', 'Republic of Palau'],
  ['PY', 'Republic of Paraguay'],
  ['QA', 'State of Qatar'],
  ['RS', 'Republic of Serbia'],
  ['RW', 'Rwandese Republic'],
  ['SA', 'Kingdom of Saudi Arabia'],
  ['SC', 'Republic of Seychelles'],
  ['SD', 'Republic of the Sudan'],
  ['SE', 'Kingdom of Sweden'],
  ['SG', 'Republic of Singapore'],
  ['SI', 'Republic of Slovenia'],
  ['SK', 'Slovak Republic'],
  ['SL', 'Republic of Sierra Leone'],
  ['SM', 'Republic of San Marino'],
  ['SN', 'Republic of Senegal'],
  ['SO', 'Federal Republic of Somalia'],
  ['SR', 'Republic of Suriname'],
  ['SS', 'Republic of South Sudan'],
  ['ST', 'Democratic Republic of Sao Tome and Principe'],
  ['SV', 'Republic of El Salvador'],
  ['SX', 'Sint Maarten (Dutch part)'],
  ['SZ', 'Kingdom of Eswatini'],
  ['TD', 'Republic of Chad'],
  ['TG', 'Togolese Republic'],
  ['TH', 'Kingdom of Thailand'],
  ['TJ', 'Republic of Tajikistan'],
  ['TL', 'Democratic Republic of Timor-Leste'],
  ['TN', 'Republic of Tunisia'],
  ['TO', 'Kingdom of Tonga'],
  ['TR', 'Republic of Türkiye'],
  ['TT', 'Republic of Trinidad and Tobago'],
  ['TW', 'Taiwan, Province of China'],
  ['TZ', 'United Republic of Tanzania'],
  ['UG', 'Republic of Uganda'],
  ['US', 'United States of America'],
  ['UY', 'Eastern Republic of Uruguay'],
  ['UZ', 'Republic of Uzbekistan'],
  ['VE', 'Bolivarian Republic of Venezuela'],
  ['VG', 'British Virgin Islands'],
  ['VI', 'Virgin Islands of the United States'],
  ['VN', 'Socialist Republic of Viet Nam'],
  ['VU', 'Republic of Vanuatu'],
  ['WS', 'Independent State of Samoa'],
  ['YE', 'Republic of Yemen'],
  ['ZA', 'Republic of South Africa'],
  ['ZM', 'Republic of Zambia'],
  ['ZW', 'Republic of Zimbabwe'],
];

// The ISO names the file contract requires as aliases (templates.md, "Countries"), checked against the same
// sources scripts/build-countries.ts reads.
describe('kb countries: ISO short and full names are aliases', () => {
  const byIso2 = (iso2: string): Country => {
    const country = COUNTRIES.find((c) => c.iso2 === iso2);
    assert.ok(country, `no entry with alpha-2 ${iso2}`);
    return country;
  };

  test("the contract's examples resolve to the canonical name", () => {
    const examples: [input: string, name: string][] = [
      ['Korea (the Republic of)', 'South Korea'],
      ['Bolivia (Plurinational State of)', 'Bolivia'],
      ['Plurinational State of Bolivia', 'Bolivia'],
      ['Socialist Republic of Viet Nam', 'Vietnam'],
      ['Republic of Türkiye', 'Turkey'],
    ];
    for (const [input, name] of examples) {
      assert.equal(findCountry(input)?.name, name, input);
    }
  });

  test('ISO short names in ISO form, comma form and full names resolve (examples)', () => {
    const examples: [input: string, name: string][] = [
      ['Iran (Islamic Republic of)', 'Iran'],
      ['Congo (the Democratic Republic of the)', 'Democratic Republic of the Congo'],
      ['Congo (the)', 'Republic of the Congo'],
      ['United States of America (the)', 'United States'],
      ["Korea (the Democratic People's Republic of)", 'North Korea'],
      ['Micronesia (Federated States of)', 'Micronesia'],
      ['Virgin Islands (British)', 'British Virgin Islands'],
      ['Virgin Islands (U.S.)', 'U.S. Virgin Islands'],
      ['Netherlands (Kingdom of the)', 'Netherlands'],
      ['Tanzania, the United Republic of', 'Tanzania'],
      ['Korea, Republic of', 'South Korea'],
      ['Bolivia, Plurinational State of', 'Bolivia'],
      ['Congo, Democratic Republic of the', 'Democratic Republic of the Congo'],
      ['Republic of Korea', 'South Korea'],
      ['United States of America', 'United States'],
      ["Democratic People's Republic of Korea", 'North Korea'],
      ['Islamic Republic of Iran', 'Iran'],
      ['Russian Federation (the)', 'Russia'],
    ];
    for (const [input, name] of examples) {
      assert.equal(findCountry(input)?.name, name, input);
    }
  });

  test('every ISO 3166-1 short name in ISO form (country-list) resolves to its entry', () => {
    assert.equal(isoObpNames.length, 249);
    for (const { code, name } of isoObpNames) {
      // "Western Sahara*": the asterisk is the ISO list's footnote marker, not part of the name.
      const isoName = name.replace(/\*+$/, '');
      assert.equal(findCountry(isoName), byIso2(code), `${code}: "${isoName}"`);
    }
  });

  test('every ISO 3166-1 short name in comma form (iso-3166) resolves to its entry', () => {
    assert.equal(iso31661.length, 249);
    for (const { alpha2, name } of iso31661) {
      assert.equal(findCountry(name), byIso2(alpha2), `${alpha2}: "${name}"`);
    }
  });

  test('every ISO 3166-1 full (official) name (iso-codes) resolves to its entry', () => {
    assert.equal(ISO_OFFICIAL_NAMES.length, 173);
    assert.equal(new Set(ISO_OFFICIAL_NAMES.map(([iso2]) => iso2)).size, 173, 'alpha-2 listed twice');
    for (const [iso2, officialName] of ISO_OFFICIAL_NAMES) {
      assert.equal(findCountry(officialName), byIso2(iso2), `${iso2}: "${officialName}"`);
    }
  });

  test('comma forms as Debian iso-codes spells them resolve to their entry', () => {
    // Copied from iso-codes 4.15.0 (iso_3166-1.json, `name`): the spellings that differ from iso-3166's.
    const isoCodesNames: [input: string, iso2: string][] = [
      ['Congo, The Democratic Republic of the', 'CD'],
      ['United Kingdom', 'GB'],
      ['Netherlands', 'NL'],
      ['United States', 'US'],
      ['Holy See (Vatican City State)', 'VA'],
      ['Virgin Islands, British', 'VG'],
      ['Virgin Islands, U.S.', 'VI'],
    ];
    for (const [input, iso2] of isoCodesNames) {
      assert.equal(findCountry(input), byIso2(iso2), `${iso2}: "${input}"`);
    }
  });

  test('names that also name another place are not accepted', () => {
    // "Virgin Islands" names VG and VI alike; "Guiana" is the whole region and Guyana's former name.
    for (const input of ['Korea', 'Virgin Islands', 'Guiana']) {
      assert.equal(findCountry(input), undefined, input);
    }
    assert.equal(findCountry('Congo')?.iso3, 'COG');
  });

  test('names outside the ISO and package data are not accepted', () => {
    // Official-style names only an ODbL-licensed source (world-countries) gave; the list no longer uses it.
    for (const input of [
      'Commonwealth of Australia',
      'Republic of China (Taiwan)',
      'Sahrawi Arab Democratic Republic',
      'Svalbard og Jan Mayen',
      'Tunisian Republic',
    ]) {
      assert.equal(findCountry(input), undefined, input);
    }
  });

  test('long names common on passports that ISO spells otherwise are accepted', () => {
    assert.equal(findCountry('Republic of Ireland')?.name, 'Ireland');
    assert.equal(findCountry('Socialist Republic of Vietnam')?.name, 'Vietnam');
    assert.equal(findCountry('Republic of the Union of Myanmar')?.name, 'Myanmar');
  });

  test('look-alike entries stay apart', () => {
    const pairs: [input: string, iso3: string][] = [
      ['Niger (the)', 'NER'],
      ['Republic of the Niger', 'NER'],
      ['Federal Republic of Nigeria', 'NGA'],
      ['Republic of Guinea', 'GIN'],
      ['Republic of Equatorial Guinea', 'GNQ'],
      ['Republic of Guinea-Bissau', 'GNB'],
      ['Independent State of Papua New Guinea', 'PNG'],
      ['Sudan (the)', 'SDN'],
      ['Republic of the Sudan', 'SDN'],
      ['Republic of South Sudan', 'SSD'],
      ['Virgin Islands, British', 'VGB'],
      ['Virgin Islands of the United States', 'VIR'],
      ['Dominican Republic (the)', 'DOM'],
      ['Commonwealth of Dominica', 'DMA'],
      ['Taiwan, Province of China', 'TWN'],
      ["People's Republic of China", 'CHN'],
    ];
    for (const [input, iso3] of pairs) {
      assert.equal(findCountry(input)?.iso3, iso3, input);
    }
  });

  test('is case-, space- and accent-insensitive for ISO names', () => {
    const variants: [input: string, name: string][] = [
      ['republic of turkiye', 'Turkey'],
      ['REPUBLIC OF TÜRKIYE', 'Turkey'],
      ['  korea  (the republic   of) ', 'South Korea'],
      ['SOCIALIST REPUBLIC OF VIET NAM', 'Vietnam'],
      ['bolivia (plurinational state of)', 'Bolivia'],
      ["Republic of Cote d'Ivoire", "Cote d'Ivoire"],
      ['democratic republic of sao tome and principe', 'Sao Tome and Principe'],
    ];
    for (const [input, name] of variants) {
      assert.equal(findCountry(input)?.name, name, input);
    }
  });

  test('no lookup text names two entries', () => {
    // findCountry keeps the first entry for a key, so a text shared by two entries resolves to the wrong
    // one for the second: count the entries each text resolves to instead.
    const owners = new Map<string, Set<string>>();
    for (const c of COUNTRIES) {
      for (const text of [c.name, ...c.aliases, c.iso2, c.iso3]) {
        if (text === null) continue;
        const k = text
          .normalize('NFD')
          .replace(/\p{M}/gu, '')
          .replace(/[\u2018\u2019\u02bc`]/g, "'")
          .replace(/\s+/g, ' ')
          .trim()
          .toLowerCase();
        const set = owners.get(k) ?? new Set<string>();
        set.add(c.iso3);
        owners.set(k, set);
      }
    }
    const shared = [...owners].filter(([, set]) => set.size > 1).map(([k, set]) => `${k}: ${[...set]}`);
    assert.deepEqual(shared, []);
    assert.equal(COUNTRIES.length, 256);
  });
});
